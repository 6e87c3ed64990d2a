import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type Address, createPublicClient, formatUnits, getAddress, type Hex, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  buildRewardTree,
  ChainClient,
  type ChainContracts,
  chainNodeId,
  deployContracts,
  parseGenesis,
  readKeyFile,
  revertName,
  startDevChain,
  writeDeployment,
} from '../chain/index.js';
import { parseAmount } from '../ledger/index.js';
import { OmniClient } from '../sdk/index.js';
import { type RouterAuthOptions, routerAndAuth } from './config.js';
import { stopOnSignal } from './start-commands.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const omnit = (units: bigint) => `${formatUnits(units, 18)} OMNIT`;

/** `chain dev [--port P] [--deployment FILE] [--db DIR]` */
export async function chainDevCommand(o: { port: number; deployment?: string; db?: string }): Promise<void> {
  if (o.db) mkdirSync(resolve(o.db), { recursive: true });
  const chain = await startDevChain({ port: o.port, ...(o.db ? { dbPath: resolve(o.db) } : {}) });
  say(`rpc: ${chain.url}`);
  say(`chain id: ${chain.chainId}`);
  say('funded test accounts (well-known keys: never use them on a real chain):');
  for (const a of chain.accounts) say(`  ${a.address} ${a.privateKey}`);
  if (o.deployment && o.db && (await deployedOn(chain.url, resolve(o.deployment)))) {
    say(`deployment: ${resolve(o.deployment)} (kept: its contracts are on the chain in ${resolve(o.db)})`);
  } else if (o.deployment) {
    const admin = chain.accounts[0];
    if (!admin) throw new Error('the dev chain has no accounts');
    const deployment = await deployContracts({ rpc: chain.url, privateKey: admin.privateKey });
    writeDeployment(resolve(o.deployment), deployment);
    say(`deployment: ${resolve(o.deployment)} (token ${deployment.token}, rewards ${deployment.rewards})`);
  }
  stopOnSignal(() => chain.close());
}

/** Whether the deployment file exists and its token has code on the chain at `rpc` (a kept dev chain). */
async function deployedOn(rpc: string, file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const deployment = JSON.parse(readFileSync(file, 'utf8')) as { token?: Address };
  if (!deployment.token) return false;
  const code = await createPublicClient({ transport: http(rpc, { retryCount: 0 }) }).getCode({
    address: deployment.token,
  });
  return code !== undefined && code !== '0x';
}

/** `chain deploy --rpc URL --key-file F [--genesis ...]` */
export async function chainDeployCommand(o: {
  rpc: string;
  keyFile: string;
  genesis?: string;
  router?: string;
  out: string;
  challenge: number;
  unbonding: number;
}): Promise<void> {
  const deployment = await deployContracts({
    rpc: o.rpc,
    privateKey: readKeyFile(o.keyFile),
    ...(o.genesis ? { genesis: parseGenesis(o.genesis) } : {}),
    ...(o.router ? { router: getAddress(o.router) } : {}),
    settings: { challengeSeconds: o.challenge, unbondingSeconds: o.unbonding },
  });
  writeDeployment(resolve(o.out), deployment);
  say(`deployment: ${resolve(o.out)}`);
  for (const name of ['token', 'staking', 'rewards', 'vault'] as const) say(`${name}: ${deployment[name]}`);
}

/** Where the router's contracts are, from `GET /api/chain`. */
async function contractsOf(
  api: OmniClient,
  rpc: string | undefined,
): Promise<ChainContracts & { last: number }> {
  const c = await api.chain();
  return {
    last: c.last_closed_epoch,
    chainId: c.chain_id,
    rpc: rpc ?? c.rpc,
    token: c.token as Address,
    staking: c.staking as Address,
    rewards: c.rewards as Address,
    vault: c.vault as Address,
  };
}

/** `deposit --amount X --router URL --key-file F [--to ACCOUNT]` */
export async function depositCommand(o: {
  router: string;
  keyFile: string;
  amount: string;
  to?: string;
  rpc?: string;
}): Promise<void> {
  const privateKey = readKeyFile(o.keyFile);
  const from = privateKeyToAccount(privateKey).address;
  const to = o.to ? getAddress(o.to) : from;
  const amount = parseAmount(o.amount, 'amount');
  const api = new OmniClient({ baseUrl: o.router });
  const chain = new ChainClient({ deployment: await contractsOf(api, o.rpc), privateKey });
  try {
    await chain.write('token', 'approve', [chain.deployment.vault, amount]);
    const receipt = await chain.write('vault', 'deposit', [amount, to]);
    say(`deposited ${omnit(amount)} for ${to} (transaction ${receipt.transactionHash})`);
    say('the router credits it to the ledger account once the deposit has its confirmations');
  } catch (error) {
    const name = revertName(error);
    if (name === 'DepositBelowMinimum')
      throw new Error(
        `The Vault refused it: DepositBelowMinimum (${omnit(amount)} is below its minimum deposit).`,
      );
    if (name === 'ERC20InsufficientBalance')
      throw new Error(`The Vault refused it: ${from} holds less than ${omnit(amount)}.`);
    throw error;
  }
}

/** `claim --epoch N | --all --router URL --key-file F` */
export async function claimCommand(o: {
  router: string;
  keyFile: string;
  epoch?: number;
  all?: boolean;
  rpc?: string;
}): Promise<void> {
  if ((o.epoch === undefined) === !o.all)
    throw new Error('Name the epoch to claim (--epoch N), or pass --all.');
  const privateKey = readKeyFile(o.keyFile);
  const account = privateKeyToAccount(privateKey).address;
  const api = new OmniClient({ baseUrl: o.router });
  const contracts = await contractsOf(api, o.rpc);
  const chain = new ChainClient({ deployment: contracts, privateKey });
  const epochs = o.epoch !== undefined ? [o.epoch] : Array.from({ length: contracts.last }, (_, i) => i + 1);
  let failed = false;
  let total = 0n;
  for (const epoch of epochs) {
    const proof = await api.epochProof(epoch, account).catch((error: { status?: number }) => {
      if (error.status === 404) return undefined;
      throw error;
    });
    if (!proof) {
      if (o.epoch !== undefined) {
        say(`epoch ${epoch}: ${account} has nothing to claim`);
        failed = true;
      }
      continue;
    }
    if (await chain.isClaimed(epoch, proof.index)) {
      say(`epoch ${epoch}: already claimed`);
      continue;
    }
    const amount = BigInt(proof.amount);
    try {
      const receipt = await chain.claim(epoch, proof.index, account, amount, proof.proof as Hex[]);
      total += amount;
      say(`epoch ${epoch}: claimed ${omnit(amount)} to ${account} (transaction ${receipt.transactionHash})`);
    } catch (error) {
      failed = true;
      const name = revertName(error);
      say(`epoch ${epoch}: not claimed: ${name ? claimRefusal(name, epoch) : (error as Error).message}`);
    }
  }
  if (o.all) say(`claimed ${omnit(total)} in all`);
  if (failed) process.exitCode = 1;
}

function claimRefusal(name: string, epoch: number): string {
  const why: Record<string, string> = {
    UnknownEpoch: `the router has not posted epoch ${epoch}'s root yet; try again shortly`,
    RootNotFinal: `epoch ${epoch}'s root is still in its challenge window`,
    RootVetoed: `epoch ${epoch}'s root was vetoed; wait for the corrected one`,
    InvalidProof: "the router's proof does not match the root on chain (run `epoch audit`)",
    AlreadyClaimed: 'already claimed',
  };
  return `${name}: ${why[name] ?? 'refused by the contract'}`;
}

/** The reward lines of epoch N as the ledger booked them (`epoch:N:reward:<node>` entries). */
export function ledgerRewardLines(dataDir: string, epoch: number) {
  const dir = existsSync(join(dataDir, 'router', 'router.db')) ? join(dataDir, 'router') : dataDir;
  const file = join(dir, 'router.db');
  if (!existsSync(file)) throw new Error(`No router store at ${file}: --data names a router's data folder.`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT e.key AS key, p.account AS account, p.amount AS amount FROM ledger_entries e
         JOIN ledger_postings p ON p.seq = e.seq
         WHERE e.reason = 'reward' AND e.reference = ? AND p.account != 'rewards'`,
      )
      .all(`epoch:${epoch}`) as { key: string; account: string; amount: string }[];
    return rows.map((r) => ({
      node: r.key.split(':').pop() as string,
      account: r.account,
      amount: BigInt(r.amount),
    }));
  } finally {
    db.close();
  }
}

/** `epoch audit N --router URL [--data DIR]`: exit 0 when the chain's root equals the recomputed one. */
export async function epochAuditCommand(epoch: number, o: { router?: string; data?: string; rpc?: string }) {
  if (!o.router) throw new Error('epoch audit needs --router URL (it names the chain and the contracts).');
  const api = new OmniClient({ baseUrl: o.router });
  const lines = o.data
    ? ledgerRewardLines(resolve(o.data), epoch)
    : (await api.publishedEpoch(epoch)).rewards.map((r) => ({
        node: r.node,
        account: r.account,
        amount: BigInt(r.amount),
      }));
  const tree = buildRewardTree(epoch, lines);
  const chain = new ChainClient({ deployment: await contractsOf(api, o.rpc) });
  const onChain = await chain.epochRoot(epoch);
  const source = o.data ? `the ledger in ${o.data}` : "the router's report";
  say(`epoch ${epoch}: ${tree.leaves.length} account(s), ${omnit(tree.total)} from ${source}`);
  say(`recomputed root: ${tree.root}`);
  say(
    `root on chain:   ${onChain.postedAt === 0n ? '(none posted)' : onChain.root}${onChain.vetoed ? ' (vetoed)' : ''}`,
  );
  const nothing = tree.leaves.length === 0 && onChain.postedAt === 0n;
  const ok = nothing || (onChain.postedAt !== 0n && !onChain.vetoed && onChain.root === tree.root);
  say(ok ? 'audit: ok' : 'audit: MISMATCH');
  if (!ok) process.exitCode = 1;
}

/** `withdraw-onchain --id ID --key-file F`: turns your pending withdrawal into a Vault voucher and cashes it. */
export async function withdrawOnchainCommand(
  o: RouterAuthOptions & { id: string; keyFile: string; rpc?: string },
) {
  const { router, apiKey } = routerAndAuth(o);
  const api = new OmniClient({ baseUrl: router, ...(apiKey ? { apiKey } : {}) });
  const v = await api.withdrawalVoucher(o.id);
  const chain = new ChainClient({
    deployment: await contractsOf(api, o.rpc),
    privateKey: readKeyFile(o.keyFile),
  });
  try {
    const receipt = await chain.write('vault', 'withdraw', [
      v.account,
      BigInt(v.amount),
      BigInt(v.nonce),
      BigInt(v.deadline),
      v.signature,
    ]);
    say(
      `withdrawal ${v.withdrawal}: ${omnit(BigInt(v.amount))} paid to ${v.account} (transaction ${receipt.transactionHash})`,
    );
  } catch (error) {
    const name = revertName(error);
    if (name === 'VoucherUsed') {
      say(`withdrawal ${v.withdrawal}: already paid on chain (VoucherUsed)`);
      return;
    }
    throw name ? new Error(`The Vault refused the voucher: ${name}.`) : error;
  }
}

type StakeOnchainOptions = { router: string; keyFile: string; node: string; amount: string; rpc?: string };

/** `stake-onchain --node ID --amount X --router URL --key-file F`: bonds OMNIT on NodeStaking for a node. */
export async function stakeOnchainCommand(o: StakeOnchainOptions): Promise<void> {
  await sendStake(o, 'stake');
  say('the router counts it once the stake has its confirmations');
}

/** `unstake-onchain --node ID --amount X --router URL --key-file F`: starts unbonding on NodeStaking. */
export async function unstakeOnchainCommand(o: StakeOnchainOptions): Promise<void> {
  await sendStake(o, 'unstake');
}

/** Sends `stake` (after approving the amount) or `unstake` with the owner's key, then prints the stake read back. */
async function sendStake(o: StakeOnchainOptions, call: 'stake' | 'unstake'): Promise<void> {
  const amount = parseAmount(o.amount, 'amount');
  const { chain, node } = await stakingClient(o);
  try {
    if (call === 'stake') await chain.write('token', 'approve', [chain.deployment.staking, amount]);
    const receipt = await chain.write('staking', call, [node, amount]);
    const what = call === 'stake' ? `staked ${omnit(amount)} on` : `unbonding ${omnit(amount)} from`;
    say(`${what} node ${o.node} (transaction ${receipt.transactionHash})`);
  } catch (error) {
    throw stakingRefusal(error, o.node, amount);
  }
  await printStake(chain, o.node, node);
}

async function stakingClient(o: { router: string; keyFile: string; node: string; rpc?: string }) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(o.node))
    throw new Error(`--node must be a node id (its 0x address, printed by \`node start\`), got "${o.node}".`);
  const api = new OmniClient({ baseUrl: o.router });
  const chain = new ChainClient({
    deployment: await contractsOf(api, o.rpc),
    privateKey: readKeyFile(o.keyFile),
  });
  return { chain, node: chainNodeId(o.node) };
}

async function printStake(chain: ChainClient, id: string, node: Hex): Promise<void> {
  const s = await chain.read<{ owner: Address; bonded: bigint; unbonding: bigint; unlockAt: bigint }>(
    'staking',
    'stakeOf',
    [node],
  );
  const unlock = s.unbonding > 0n ? ` (unlocks ${new Date(Number(s.unlockAt) * 1000).toISOString()})` : '';
  say(
    `node ${id} on chain: ${omnit(s.bonded)} bonded, ${omnit(s.unbonding)} unbonding${unlock}, owner ${s.owner}`,
  );
}

function stakingRefusal(error: unknown, node: string, amount: bigint): Error {
  const name = revertName(error);
  const why: Record<string, string> = {
    NotNodeOwner: `another wallet owns node ${node}'s stake on chain; stake with the key that staked it first`,
    InsufficientStake: `node ${node} has less than ${omnit(amount)} bonded on chain`,
    ERC20InsufficientBalance: `the wallet holds less than ${omnit(amount)}`,
    ZeroAmount: 'the amount must be above 0',
  };
  return name
    ? new Error(`NodeStaking refused it: ${name} (${why[name] ?? 'see docs/chain.md'}).`)
    : (error as Error);
}

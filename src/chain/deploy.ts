import { writeFileSync } from 'node:fs';
import {
  type Abi,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getContractAddress,
  type Hex,
  http,
  parseUnits,
  type Transport,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { EpochRewards, NodeStaking, OmniToken, Vault } from './artifacts/index.js';

/** Where the contracts of one network live, as `chain deploy` writes it and `router start` reads it. */
export type Deployment = {
  chainId: number;
  rpc: string;
  deployer: Address;
  router: Address;
  token: Address;
  staking: Address;
  rewards: Address;
  vault: Address;
  blockNumber: string;
  settings: DeploySettings;
};

/** What a client needs to reach the contracts (a deployment file, or a router's `GET /api/chain`). */
export type ChainContracts = Pick<Deployment, 'chainId' | 'rpc' | 'token' | 'staking' | 'rewards' | 'vault'>;

export type DeploySettings = {
  unbondingSeconds: number;
  challengeSeconds: number;
  minDeposit: string;
};

/** One genesis allocation: `rewards` (the EpochRewards pool), `treasury` (the deployer) or an address. */
export type GenesisAllocation = { account: string; amount: string };

/** The default genesis: 1,000,000,000 OMNIT, a tenth to the rewards pool, the rest to the treasury. */
export const DEFAULT_GENESIS: GenesisAllocation[] = [
  { account: 'rewards', amount: '100000000' },
  { account: 'treasury', amount: '900000000' },
];

export const DEFAULT_SETTINGS: DeploySettings = {
  unbondingSeconds: 7 * 86_400,
  challengeSeconds: 0,
  minDeposit: '1',
};

/** A viem chain for an RPC URL and chain id (local chains need no more). */
export function chainFor(rpc: string, chainId: number): Chain {
  return defineChain({
    id: chainId,
    name: `omnitensor-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
}

/** Parses `--genesis rewards=100,treasury=900,0xabc…=5` (whole OMNIT). */
export function parseGenesis(text: string): GenesisAllocation[] {
  return text.split(',').map((part) => {
    const [account, amount] = part.split('=');
    if (!account || !amount || !/^\d+(\.\d+)?$/.test(amount.trim()))
      throw new Error(`--genesis: "${part}" is not ACCOUNT=AMOUNT (rewards, treasury or an address).`);
    return { account: account.trim(), amount: amount.trim() };
  });
}

export type DeployParameters = {
  rpc: string;
  privateKey: Hex;
  /** The router's address (ROUTER_ROLE, voucher signer); default the deployer. */
  router?: Address;
  genesis?: GenesisAllocation[];
  settings?: Partial<DeploySettings>;
  transport?: Transport;
};

/**
 * Deploys OmniToken, NodeStaking, EpochRewards and Vault. The token is deployed first and mints its genesis
 * at once, so the rewards pool's address is computed from the deployer's nonce before it exists.
 */
export async function deployContracts(p: DeployParameters): Promise<Deployment> {
  const account = privateKeyToAccount(p.privateKey);
  // Retries are ours (withRetry); viem's would also retry the eth_fillTransaction a node may lack, before every send.
  const transport = p.transport ?? http(p.rpc, { retryCount: 0 });
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = chainFor(p.rpc, chainId);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 });
  const wallet = createWalletClient({ account, chain, transport, pollingInterval: 100 });
  const settings = { ...DEFAULT_SETTINGS, ...p.settings };
  const router = p.router ?? account.address;
  const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' });
  const at = (n: number) => getContractAddress({ from: account.address, nonce: BigInt(nonce + n) });
  const predicted = { token: at(0), staking: at(1), rewards: at(2), vault: at(3) };
  const genesis = (p.genesis ?? DEFAULT_GENESIS).map((g) => {
    const target =
      g.account === 'rewards' ? predicted.rewards : g.account === 'treasury' ? account.address : g.account;
    if (!/^0x[0-9a-fA-F]{40}$/.test(target)) throw new Error(`--genesis: "${g.account}" is not an address.`);
    return { account: target as Address, amount: parseUnits(g.amount, 18) };
  });

  const deploy = async (artifact: { abi: Abi; bytecode: Hex }, args: unknown[], expected: Address) => {
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || receipt.contractAddress?.toLowerCase() !== expected.toLowerCase())
      throw new Error(`deploying at ${expected} failed (transaction ${hash}).`);
    return receipt;
  };
  await deploy(OmniToken, [genesis.map((g) => g.account), genesis.map((g) => g.amount)], predicted.token);
  await deploy(
    NodeStaking,
    [predicted.token, BigInt(settings.unbondingSeconds), account.address, router, account.address],
    predicted.staking,
  );
  await deploy(
    EpochRewards,
    [predicted.token, BigInt(settings.challengeSeconds), account.address, router],
    predicted.rewards,
  );
  const last = await deploy(
    Vault,
    [predicted.token, parseUnits(settings.minDeposit, 18), account.address, router],
    predicted.vault,
  );
  return {
    chainId,
    rpc: p.rpc,
    deployer: account.address,
    router,
    ...predicted,
    blockNumber: last.blockNumber.toString(),
    settings,
  };
}

/** Writes a deployment file (JSON). */
export function writeDeployment(file: string, deployment: Deployment): void {
  writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
}

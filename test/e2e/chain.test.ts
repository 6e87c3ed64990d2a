import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Address, formatUnits } from 'viem';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChainClient, chainNodeId } from '../../src/chain/index.js';
import { parseAmount } from '../../src/ledger/index.js';
import { OmniClient } from '../../src/sdk/index.js';
import { type CliProcess, cliOutput, runCli, type Workspace, workspace } from './harness.js';

// `up --chain`: real traffic, an epoch closed by command, its root on the in-process chain, a node claiming
// with its own key file, and `epoch audit` passing on the ledger and failing once the ledger is tampered with.

let ws: Workspace;
let up: CliProcess;
let routerUrl: string;
let operatorKey: string;
let client: OmniClient;
const NODES = 2;

beforeAll(async () => {
  ws = await workspace('chain');
  up = ws.track(
    runCli(['up', '--nodes', String(NODES), '--port', '0', '--data', join(ws.dir, 'up'), '--chain']),
  );
  const [, url] = await up.line(/router: (http:\/\/\S+)/, 120_000);
  const [, apiKey] = await up.line(/api key: (\S+)/);
  const [, operator] = await up.line(/operator key: (\S+)/);
  await up.line(/chain: (http:\/\/\S+)/);
  routerUrl = url as string;
  operatorKey = operator as string;
  client = new OmniClient({ baseUrl: routerUrl, apiKey: apiKey as string });
}, 180_000);

afterAll(async () => {
  up?.child.kill('SIGINT');
  await up?.exited;
  await ws?.cleanup();
});

/** Runs the CLI and returns its exit code and stdout. */
async function cli(args: string[]) {
  const p = runCli(args);
  const code = await p.exited;
  return { code, out: p.stdout(), all: p.output() };
}

it('posts a closed epoch root; a node claims exactly its ledger reward; audit passes, then fails on a tampered ledger', async () => {
  for (let i = 0; i < 4; i++) {
    await client.chat({ model: 'tiny', messages: [{ role: 'user', content: `chain ${i}` }], max_tokens: 8 });
  }
  const closed = await cliOutput(['epoch', 'close', '--router', routerUrl, '--api-key', operatorKey]);
  const epoch = Number(/^epoch (\d+)/m.exec(closed)?.[1]);
  expect(epoch).toBeGreaterThan(0);

  const report = await client.epoch(epoch);
  const nodes = Array.from({ length: NODES }, (_, i) => {
    const keyFile = join(ws.dir, 'up', `node-${i + 1}`, 'node-key.json');
    return { keyFile, address: (JSON.parse(readFileSync(keyFile, 'utf8')) as { address: Address }).address };
  });
  const earner = nodes
    .map((n) => ({
      ...n,
      line: report.rewards.find((r) => r.account.toLowerCase() === n.address.toLowerCase()),
    }))
    .find((n) => n.line && parseAmount(n.line.amount, 'amount') > 0n);
  if (!earner?.line) throw new Error(`no node earned in epoch ${epoch}: ${JSON.stringify(report.rewards)}`);
  const reward = parseAmount(earner.line.amount, 'amount');

  // The root reaches the chain after the close: wait for it (bounded).
  const info = await client.chain();
  const chain = new ChainClient({
    deployment: {
      chainId: info.chain_id,
      rpc: info.rpc,
      token: info.token as Address,
      staking: info.staking as Address,
      rewards: info.rewards as Address,
      vault: info.vault as Address,
    },
  });
  const deadline = Date.now() + 30_000;
  while ((await chain.epochRoot(epoch)).postedAt === 0n) {
    if (Date.now() > deadline) throw new Error(`epoch ${epoch}'s root never reached the chain`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // Bad input to the proof route is named: a 400 for the field, a 404 for an account that earned nothing.
  const bad = await fetch(`${routerUrl}/api/epochs/${epoch}/proof/not-an-address`);
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('account');
  const none = await fetch(
    `${routerUrl}/api/epochs/${epoch}/proof/0x000000000000000000000000000000000000dead`,
  );
  expect(none.status).toBe(404);

  const claim = await cli([
    'claim',
    '--epoch',
    String(epoch),
    '--router',
    routerUrl,
    '--key-file',
    earner.keyFile,
  ]);
  expect(claim.out).toMatch(new RegExp(`epoch ${epoch}: claimed`));
  expect(claim.code).toBe(0);
  expect(await chain.balanceOf(earner.address)).toBe(reward);
  const again = await cli(['claim', '--all', '--router', routerUrl, '--key-file', earner.keyFile]);
  expect(again.out).toMatch(new RegExp(`epoch ${epoch}: already claimed`));
  expect(await chain.balanceOf(earner.address)).toBe(reward);

  // The node bonds half its claimed reward on NodeStaking with its own key; unbonding more than that is refused.
  const half = reward / 2n;
  const amount = formatUnits(half, 18);
  const node = earner.address.toLowerCase();
  const base = ['--router', routerUrl, '--key-file', earner.keyFile, '--node', node];
  const staked = await cli(['stake-onchain', ...base, '--amount', amount]);
  expect(staked.code).toBe(0);
  expect(staked.out).toContain(`node ${node} on chain: ${amount} OMNIT bonded`);
  const onChain = await chain.read<{ bonded: bigint }>('staking', 'stakeOf', [chainNodeId(node)]);
  expect(onChain.bonded).toBe(half);
  expect(await chain.balanceOf(earner.address)).toBe(reward - half);
  const tooMuch = await cli(['unstake-onchain', ...base, '--amount', formatUnits(reward, 18)]);
  expect(tooMuch.code).not.toBe(0);
  expect(tooMuch.all).toContain('InsufficientStake');
  expect((await chain.read<{ bonded: bigint }>('staking', 'stakeOf', [chainNodeId(node)])).bonded).toBe(half);

  const data = join(ws.dir, 'up');
  // Once the root was on chain the reward left the node's ledger account (a settled withdrawal), so the same
  // tokens are not spendable twice.
  const ledgerDb = new Database(join(data, 'router', 'router.db'), { readonly: true });
  const onchain = ledgerDb
    .prepare('SELECT reason FROM ledger_entries WHERE key = ?')
    .get(`epoch:${epoch}:onchain:${earner.address.toLowerCase()}`) as { reason: string } | undefined;
  ledgerDb.close();
  expect(onchain?.reason).toBe('withdrawal');
  // The reward left the ledger once its root was on chain (a settled withdrawal), and the books still balance.
  expect(await cliOutput(['ledger', 'verify', '--data', data])).toMatch(/^ok:/m);
  const fromReport = await cli(['epoch', 'audit', String(epoch), '--router', routerUrl]);
  expect(fromReport.all).toMatch(/audit: ok/);
  expect(fromReport.code).toBe(0);
  const audited = await cli(['epoch', 'audit', String(epoch), '--router', routerUrl, '--data', data]);
  expect(audited.out).toMatch(/audit: ok/);
  expect(audited.code).toBe(0);

  // Someone multiplies the booked reward by ten in the router's store: the recomputed root no longer matches.
  const db = new Database(join(data, 'router', 'router.db'));
  db.pragma('busy_timeout = 5000');
  const changed = db
    .prepare(
      `UPDATE ledger_postings SET amount = amount || '0'
       WHERE account = ? AND seq = (SELECT seq FROM ledger_entries WHERE key = ?)`,
    )
    .run(earner.address.toLowerCase(), `epoch:${epoch}:reward:${earner.line.node}`).changes;
  db.close();
  expect(changed).toBe(1);
  const tampered = await cli(['epoch', 'audit', String(epoch), '--router', routerUrl, '--data', data]);
  expect(tampered.out).toMatch(/audit: MISMATCH/);
  expect(tampered.code).toBe(1);
}, 240_000);

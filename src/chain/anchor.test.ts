import { afterEach, expect, it } from 'vitest';
import { REWARDS } from '../ledger/accounts.js';
import { ONE_TOKEN } from '../ledger/amount.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import { EpochAnchor, treeOfReport } from './anchor.js';
import { ChainClient } from './client.js';
import { deployContracts } from './deploy.js';
import { type DevChain, startDevChain } from './dev-chain.js';
import { committing, freePort } from './testing.js';

const HOUR = 3_600_000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function chainOn(
  port: number,
): Promise<{ chain: DevChain; deployment: Awaited<ReturnType<typeof deployContracts>> }> {
  const chain = await startDevChain({ port });
  const admin = chain.accounts[0];
  if (!admin) throw new Error('no accounts');
  // A fresh dev chain has the same keys and nonces, so the contracts land at the same addresses each time.
  const deployment = await deployContracts({ rpc: chain.url, privateKey: admin.privateKey });
  return { chain, deployment };
}

it('books nothing while the RPC is away, then posts the root and books each reward once', async () => {
  const f = new LedgerFixture({
    rewards: { formula: 'omnitensor', basePerHour: 10n * ONE_TOKEN, bonusPerTask: ONE_TOKEN / 10n },
  });
  cleanups.push(() => f.dispose());
  f.ledger.genesis([{ account: REWARDS, amount: 1000n * ONE_TOKEN }]);
  f.time += HOUR;
  const node = (i: number) => ({
    node: address(i),
    account: address(10 + i),
    benchmark: 10 * i,
    tasks: i,
    uptimeMs: HOUR,
    speed: 1,
  });
  const report = f.ledger.epochs.close({ epoch: 1, nodes: [node(1), node(2)] });
  f.ledger.flush();
  const tree = treeOfReport(report);
  expect(tree.leaves).toHaveLength(2);

  const port = await freePort();
  const first = await chainOn(port);
  const deployment = first.deployment;
  await first.chain.close();

  const logs: string[] = [];
  const client = new ChainClient({
    deployment,
    privateKey: first.chain.accounts[0]?.privateKey as `0x${string}`,
    retry: { attempts: 2, baseMs: 10 },
  });
  const anchor = new EpochAnchor({ ledger: f.ledger, client, log: (_level, message) => logs.push(message) });
  const onchainKey = (account: string) => `epoch:1:onchain:${account.toLowerCase()}`;
  const balanceBefore = f.ledger.balance(address(11));

  await committing(f, anchor.anchorClosed());
  expect(logs).toContain('epoch root not posted yet; will retry');
  expect(f.ledger.entry(onchainKey(address(11)))).toBeUndefined();
  expect(f.ledger.balance(address(11))).toBe(balanceBefore);

  const { chain } = await chainOn(port);
  cleanups.push(() => chain.close());
  await committing(f, anchor.anchorClosed());
  const posted = await client.epochRoot(1);
  expect(posted.root).toBe(tree.root);
  expect(posted.total).toBe(tree.total);
  for (const leaf of tree.leaves) expect(f.ledger.entry(onchainKey(leaf.account))).toBeDefined();
  expect(f.ledger.balance(address(11))).toBe(0n);

  // Once more (a restart re-reading every closed epoch): no second root, nothing booked twice.
  await committing(f, new EpochAnchor({ ledger: f.ledger, client, log: () => {} }).anchorClosed());
  expect(f.ledger.balance(address(11))).toBe(0n);
  expect(f.ledger.verify().ok).toBe(true);
}, 60_000);

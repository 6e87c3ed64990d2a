import { zeroHash } from 'viem';
import { afterEach, expect, it } from 'vitest';
import { BURN, REWARDS } from '../ledger/accounts.js';
import { ONE_TOKEN } from '../ledger/amount.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import { treeOfReport } from './anchor.js';
import { deployContracts } from './deploy.js';
import { startDevChain } from './dev-chain.js';
import { ChainLink } from './link.js';
import { committing, linkSettings } from './testing.js';

const HOUR = 3_600_000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A ledger with a rewards pool, a dev chain with the contracts, and a router link to it (as `router start`). */
async function linked(challengeSeconds: number) {
  const f = new LedgerFixture({
    rewards: { formula: 'omnitensor', basePerHour: 10n * ONE_TOKEN, bonusPerTask: ONE_TOKEN / 10n },
  });
  cleanups.push(() => f.dispose());
  f.ledger.genesis([{ account: REWARDS, amount: 1000n * ONE_TOKEN }]);
  const chain = await startDevChain();
  cleanups.push(() => chain.close());
  const admin = chain.accounts[0];
  if (!admin) throw new Error('no accounts');
  const deployment = await deployContracts({
    rpc: chain.url,
    privateKey: admin.privateKey,
    settings: { challengeSeconds },
  });
  const settings = linkSettings(f, chain.url, deployment, admin.privateKey);
  const link = (logs: string[] = []) =>
    new ChainLink({ ledger: f.ledger, log: (_l, message) => logs.push(message), settings });
  return { f, link };
}

const earner = address(11);
const node = { node: address(1), account: earner, benchmark: 10, tasks: 3, uptimeMs: HOUR, speed: 1 };
const heldOf = (f: LedgerFixture) => f.ledger.withdrawals.list({ account: earner })[0];

it("holds a linked router's epoch reward at close, so it cannot be spent before its root; after the root the chain holds what left the ledger", async () => {
  const { f, link } = await linked(0);
  const logs: string[] = [];
  const first = link(logs);
  f.time += HOUR;
  const report = f.ledger.epochs.close({ epoch: 1, nodes: [node] });
  const reward = report.rewards[0]?.amount ?? 0n;
  expect(reward).toBeGreaterThan(0n);
  f.ledger.flush();

  // Before the root lands: the fresh reward is held, not spendable, and no way out of the ledger is open.
  expect(() => f.ledger.transfer({ from: earner, to: address(99), amount: reward })).toThrow(
    /has 0 tokens available/,
  );
  expect(f.ledger.balance(earner)).toBe(0n);
  const held = heldOf(f);
  expect(held).toMatchObject({ status: 'pending', amount: reward });
  expect(() => f.ledger.withdrawals.cancel(held?.id ?? '')).toThrow(/held/);
  expect(() => f.ledger.withdrawals.settle(held?.id ?? '', 'vault voucher')).toThrow(/held/);

  const burnBefore = f.ledger.balance(BURN);
  await committing(f, first.round());
  const posted = await first.client.epochRoot(1);
  expect(posted.root).toBe(treeOfReport(report).root);
  // Money moved once: what left the ledger is exactly what the chain's root promises.
  expect(f.ledger.balance(BURN) - burnBefore).toBe(posted.total);
  expect(posted.total).toBe(reward);
  expect(heldOf(f)?.status).toBe('settled');
  expect(logs.filter((m) => m.includes('could not'))).toEqual([]);
  await first.stop();

  // A restart (fresh ledger and link over the same file) books nothing twice.
  f.restart();
  const again = link();
  await committing(f, again.round());
  await again.stop();
  expect(f.ledger.balance(BURN) - burnBefore).toBe(reward);
  expect(f.ledger.withdrawals.list({ account: earner })).toHaveLength(1);
  expect(f.ledger.verify().ok).toBe(true);
}, 60_000);

it('keeps the reward held through the challenge window and gives it back when the root is vetoed', async () => {
  const { f, link } = await linked(3600);
  const l = link();
  f.time += HOUR;
  const reward = f.ledger.epochs.close({ epoch: 1, nodes: [node] }).rewards[0]?.amount ?? 0n;
  f.ledger.flush();

  await committing(f, l.round());
  const posted = await l.client.epochRoot(1);
  expect(posted.postedAt).toBeGreaterThan(0n);
  // Posted but not final: still held, neither spendable nor gone.
  expect(heldOf(f)?.status).toBe('pending');
  expect(f.ledger.balance(earner)).toBe(0n);

  await l.client.write('rewards', 'veto', [1n, zeroHash]);
  await committing(f, l.round());
  expect(heldOf(f)?.status).toBe('cancelled');
  expect(f.ledger.balance(earner)).toBe(reward);
  // Vetoed roots are not posted again, and a second round releases nothing twice.
  await committing(f, l.round());
  expect((await l.client.epochRoot(1)).vetoed).toBe(true);
  expect(f.ledger.balance(earner)).toBe(reward);
  await l.stop();
  f.ledger.transfer({ from: earner, to: address(99), amount: reward });
  expect(f.ledger.verify().ok).toBe(true);
}, 60_000);

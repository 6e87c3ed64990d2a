import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../protocol/index.js';
import {
  BURN,
  escrowAccount,
  GENESIS,
  MINT,
  REWARDS,
  stakeAccount,
  TREASURY,
  unbondingAccount,
  WITHDRAWALS,
} from './accounts.js';
import type { Booking } from './core.js';
import { LedgerError, LedgerInvariantError } from './errors.js';
import type { Ledger } from './ledger.js';
import { address, LedgerFixture } from './testing.js';

/**
 * Random sequences of everything the router does to the ledger (transfers, session escrows with holds and
 * charges, stakes, unbonding, slashes, withdrawals, epochs, repeated bookings, flushes, clean restarts and
 * crashes that lose the uncommitted turn), with the invariants checked after every step.
 */

const users = [1, 2, 3, 4].map((n) => address(0x100 + n));
const nodes = [1, 2, 3].map((n) => address(0x200 + n));
const sessions = ['sess_0', 'sess_1', 'sess_2'];
const accounts = [
  ...users,
  ...nodes.flatMap((n) => [stakeAccount(n), unbondingAccount(n)]),
  ...sessions.map(escrowAccount),
  GENESIS,
  MINT,
  BURN,
  TREASURY,
  REWARDS,
  WITHDRAWALS,
];

const user = fc.constantFrom(...users);
const node = fc.constantFrom(...nodes);
const session = fc.constantFrom(...sessions);
const amount = fc.bigInt({ min: 1n, max: 400n });
const hold = fc.constantFrom('h0', 'h1', 'h2');
const n = fc.nat({ max: 30 });

/** Each kind of operation with how often it comes up: opens and charges often, so sessions see real use. */
const weighted = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const op = fc.oneof(
  weighted(2, fc.record({ t: fc.constant('transfer' as const), from: user, to: user, amount, k: n })),
  weighted(1, fc.record({ t: fc.constant('mint' as const), to: user, amount, k: n })),
  weighted(
    4,
    fc.record({
      t: fc.constant('open' as const),
      session,
      owner: user,
      budget: amount,
      expires: fc.nat({ max: 5000 }),
    }),
  ),
  weighted(3, fc.record({ t: fc.constant('hold' as const), session, hold, amount })),
  weighted(
    5,
    fc.record({
      t: fc.constant('charge' as const),
      session,
      hold: fc.option(hold, { nil: undefined }),
      payee: user,
      input: fc.nat({ max: 40 }),
      output: fc.nat({ max: 40 }),
      k: n,
    }),
  ),
  weighted(1, fc.record({ t: fc.constant('releaseHold' as const), session, hold })),
  weighted(2, fc.record({ t: fc.constant('close' as const), session })),
  weighted(2, fc.record({ t: fc.constant('tick' as const), ms: fc.nat({ max: 4000 }) })),
  weighted(3, fc.record({ t: fc.constant('stake' as const), node, owner: user, amount, k: n })),
  weighted(
    2,
    fc.record({ t: fc.constant('unstake' as const), node, owner: user, asOwner: fc.boolean(), amount, k: n }),
  ),
  weighted(
    2,
    fc.record({ t: fc.constant('slash' as const), node, validator: fc.option(user, { nil: null }), k: n }),
  ),
  weighted(2, fc.record({ t: fc.constant('withdraw' as const), account: user, amount, k: n })),
  weighted(
    2,
    fc.record({ t: fc.constant('finishWithdrawal' as const), i: fc.nat({ max: 5 }), settle: fc.boolean() }),
  ),
  weighted(
    1,
    fc.record({
      t: fc.constant('epoch' as const),
      tasks: fc.array(fc.nat({ max: 20 }), { minLength: 3, maxLength: 3 }),
    }),
  ),
  weighted(4, fc.record({ t: fc.constant('repeat' as const), i: fc.nat({ max: 40 }) })),
  weighted(2, fc.record({ t: fc.constant('flush' as const) })),
  weighted(1, fc.record({ t: fc.constant('checkpoint' as const) })),
  weighted(2, fc.record({ t: fc.constant('restart' as const), crash: fc.boolean() })),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const price = { input: 1n, output: 3n };

/** Runs one operation, or returns it to run when it books under an idempotency key (`repeat` runs it again). */
/** Mostly a session whose escrow can still pay (so charges and holds do more than get refused). */
function live(f: LedgerFixture, session: string): string {
  const open = sessions.filter((s) => f.ledger.escrows.get(s)?.status === 'open');
  const pick = sessions.indexOf(session);
  return open.length > 0 && pick < 4 ? (open[pick % open.length] as string) : session;
}

type Keyed = { key: string; run: () => Booking };
const keyed = (key: string, book: (key: string) => Booking): Keyed => ({ key, run: () => book(key) });

function apply(f: LedgerFixture, o: Op, withdrawals: string[]): Keyed | undefined {
  switch (o.t) {
    case 'transfer':
      return keyed(`transfer:${o.k}`, (key) =>
        f.ledger.transfer({ from: o.from, to: o.to, amount: o.amount, key }),
      );
    case 'mint':
      return keyed(`mint:${o.k}`, (key) => f.ledger.mint({ to: o.to, amount: o.amount, key }));
    case 'open':
      f.ledger.escrows.open({
        session: o.session,
        owner: o.owner,
        budget: o.budget,
        expiresAt: f.time + o.expires,
      });
      return undefined;
    case 'hold':
      f.ledger.escrows.hold({ session: live(f, o.session), hold: o.hold, amount: o.amount });
      return undefined;
    case 'charge': {
      const hold = o.hold ? { hold: o.hold } : {};
      const session = live(f, o.session);
      return keyed(`task:${o.k}:payment`, (key) =>
        f.ledger.escrows.charge({
          session,
          key,
          payee: o.payee,
          inputTokens: o.input,
          outputTokens: o.output,
          price,
          ...hold,
        }),
      );
    }
    case 'releaseHold':
      f.ledger.escrows.release(o.session, o.hold);
      return undefined;
    case 'close':
      f.ledger.escrows.close(o.session);
      return undefined;
    case 'tick':
      f.time += o.ms;
      f.ledger.escrows.expire();
      f.ledger.staking.release();
      return undefined;
    case 'stake':
      return keyed(`stake:${o.k}`, (key) =>
        f.ledger.staking.stake({ node: o.node, owner: o.owner, amount: o.amount, key }),
      );
    case 'unstake': {
      // Mostly the owner unstaking part of what is bonded, so unbonding, release and slashing of it get exercised.
      const stake = f.ledger.staking.get(o.node);
      const owner = o.asOwner && stake.owner ? stake.owner : o.owner;
      const amount = stake.bonded > 0n ? 1n + (o.amount % stake.bonded) : o.amount;
      return keyed(`unstake:${o.k}`, (key) => f.ledger.staking.unstake({ node: o.node, owner, amount, key }));
    }
    case 'slash':
      return keyed(`task:${o.k}:slash`, (key) =>
        f.ledger.staking.slash({ node: o.node, validator: o.validator, key }),
      );
    case 'withdraw':
      return keyed(`wd:${o.k}`, (key) => {
        const r = f.ledger.withdrawals.request({ account: o.account, amount: o.amount, to: o.account, key });
        if (!withdrawals.includes(r.withdrawal.id)) withdrawals.push(r.withdrawal.id);
        return r;
      });
    case 'finishWithdrawal': {
      const id = withdrawals[o.i % Math.max(1, withdrawals.length)];
      if (id) o.settle ? f.ledger.withdrawals.settle(id) : f.ledger.withdrawals.cancel(id);
      return undefined;
    }
    case 'epoch':
      f.time += 1000;
      f.ledger.epochs.close({
        epoch: f.ledger.epochs.current().epoch,
        nodes: nodes.map((node, i) => ({
          node,
          account: users[i] as string,
          benchmark: i + 1,
          tasks: o.tasks[i] ?? 0,
          uptimeMs: 500 * i,
          speed: 10 * (i + 1),
        })),
      });
      return undefined;
    default:
      return undefined;
  }
}

const balances = (l: Ledger) => accounts.map((a) => l.balance(a));

/** Escrows (with their holds) and stakes (with their unbonding amounts) as the ledger sees them. */
const liveState = (l: Ledger) => ({
  escrows: sessions.map((s) => l.escrows.get(s)),
  stakes: nodes.map((node) => l.staking.get(node)),
});

function checkInvariants(l: Ledger, withdrawals: string[]): void {
  const all = balances(l);
  expect(all.reduce((s, b) => s + b, 0n)).toBe(0n); // double entry: every movement has two sides
  for (const [i, b] of all.entries()) {
    const account = accounts[i] as string;
    if (account !== GENESIS && account !== MINT) expect(b, account).toBeGreaterThanOrEqual(0n);
  }
  for (const s of sessions) {
    const e = l.escrows.get(s);
    if (!e) expect(l.balance(escrowAccount(s))).toBe(0n);
    else {
      expect(e.held).toBeLessThanOrEqual(e.balance);
      if (e.status !== 'open' && e.holds === 0) expect(e.balance).toBe(0n);
    }
  }
  for (const node of nodes) {
    const s = l.staking.get(node);
    expect(s.unbondings.reduce((sum, u) => sum + u.amount, 0n)).toBe(s.unbonding);
  }
  let locked = 0n;
  for (const id of withdrawals) {
    const w = l.withdrawals.get(id);
    if (w?.status === 'pending') locked += w.amount;
  }
  expect(locked).toBe(l.balance(WITHDRAWALS));
}

const fixtures: LedgerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

describe('ledger invariants under random operations, restarts and crashes', () => {
  it('stays balanced, never negative, exactly-once, and consistent with its stored history', () => {
    fc.assert(
      // Checkpoints with every commit, or only when asked (and on clean restarts).
      fc.property(
        fc.constantFrom(0, 1e9),
        fc.array(op, { minLength: 5, maxLength: 60, size: 'max' }),
        (every, ops) => {
          const config = { feePpm: 30_000n, slashPpm: 250_000n, unbondingMs: 3000, allowMint: true };
          const f = new LedgerFixture(config, every);
          fixtures.push(f);
          f.ledger.genesis([
            ...users.map((account) => ({ account, amount: 1000n })),
            { account: REWARDS, amount: 500n },
          ]);
          f.ledger.flush();
          const withdrawals: string[] = [];
          const booked: Keyed[] = [];
          let committed = balances(f.ledger);
          for (const o of ops) {
            const before = balances(f.ledger);
            if (o.t === 'flush') f.ledger.flush();
            else if (o.t === 'checkpoint') f.ledger.checkpoint();
            else if (o.t === 'restart') {
              const current = balances(f.ledger);
              const state = liveState(f.ledger);
              f.restart({ crash: o.crash });
              // A clean restart keeps everything; a crash keeps exactly what was committed.
              expect(balances(f.ledger)).toEqual(o.crash ? committed : current);
              if (!o.crash) expect(liveState(f.ledger)).toEqual(state);
              expect(f.ledger.verify()).toMatchObject({ ok: true, problems: [] });
              // Each account's history (derived tables plus the log after the checkpoint) adds up to its balance.
              for (const u of users) {
                const listed = f.ledger.entries(u, { limit: 1000 }).reduce((sum, e) => sum + e.amount, 0n);
                expect(listed).toBe(f.ledger.balance(u));
              }
            } else {
              try {
                if (o.t === 'repeat') {
                  const again = booked[o.i % Math.max(1, booked.length)];
                  if (again) {
                    const wasBooked = f.ledger.entry(again.key) !== undefined;
                    const result = again.run();
                    // Booked before: books nothing again. Lost in a crash: books now (or is refused now).
                    expect(result.duplicate).toBe(wasBooked);
                    if (wasBooked) expect(balances(f.ledger)).toEqual(before);
                  }
                } else {
                  const keyed = apply(f, o, withdrawals);
                  if (keyed) {
                    keyed.run();
                    booked.push(keyed);
                  }
                }
              } catch (error) {
                // Refusals are fine; they must be the named ones and change nothing.
                if (!(error instanceof LedgerError || error instanceof InvalidParameterError)) throw error;
                if (error instanceof LedgerInvariantError) throw error;
                expect(balances(f.ledger)).toEqual(before);
              }
            }
            if (f.ledger.pending === 0) committed = balances(f.ledger);
            checkInvariants(f.ledger, withdrawals);
          }
          expect(f.ledger.verify()).toMatchObject({ ok: true, problems: [] });
          f.dispose();
          fixtures.pop();
        },
      ),
      { numRuns: 100 },
    );
  });
});

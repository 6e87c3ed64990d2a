import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from './database.js';
import { type LedgerBatch, type LedgerEntry, LedgerStore } from './ledger.js';
import { migrations } from './schema.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(dir = mkdtempSync(join(tmpdir(), 'otensor-ledger-store-'))) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = openDatabase(dir);
  dbs.push(db);
  return { dir, db, store: new LedgerStore(db) };
}

// 10^30 units: far past int64 (about 9.2 x 10^18), which is why amounts are stored as TEXT.
const HUGE = 10n ** 30n + 7n;

/** A batch; with `balances`, also a checkpoint at its last entry. */
const batch = (entries: LedgerEntry[], balances?: [string, bigint][]): LedgerBatch => ({
  entries,
  ...(balances ? { checkpoint: { seq: entries.at(-1)?.seq ?? 0, balances: new Map(balances) } } : {}),
  escrows: [],
  stakes: [],
  withdrawals: [],
  epochs: [],
  rewards: [],
});

const entry = (seq: number, key: string, from: string, to: string, amount: bigint): LedgerEntry => ({
  seq,
  key,
  reason: 'transfer',
  reference: null,
  at: 1000 + seq,
  postings: [
    { account: from, amount: -amount },
    { account: to, amount },
  ],
});

describe('ledger store', () => {
  it('keeps amounts beyond int64 exactly, and state across a reopen', () => {
    const { dir, db, store } = open();
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    store.commit({
      ...batch(
        [entry(1, 'genesis', 'genesis', '0xa', HUGE)],
        [
          ['genesis', -HUGE],
          ['0xa', HUGE],
        ],
      ),
      escrows: [
        {
          session: 'sess_1',
          owner: '0xa',
          status: 'open',
          holds: new Map([['task_1', HUGE]]),
          openedAt: 1,
          expiresAt: null,
          closedAt: null,
        },
      ],
      stakes: [{ node: '0xn', owner: '0xa', unbondings: [{ id: 'unb_1', amount: HUGE, releaseAt: 9 }] }],
      epochs: [
        { id: 1, startedAt: 5, startSeq: 0, stakes: new Map([['0xn', HUGE]]), closedAt: null, summary: null },
      ],
    });
    db.close();
    const again = open(dir).store;
    const state = again.state();
    expect(state.lastSeq).toBe(1);
    expect(state.balances.get('0xa')).toBe(HUGE);
    expect(state.escrows[0]?.holds.get('task_1')).toBe(HUGE);
    expect(state.stakes[0]?.unbondings).toEqual([{ id: 'unb_1', amount: HUGE, releaseAt: 9 }]);
    expect(state.epoch?.stakes.get('0xn')).toBe(HUGE);
    expect(again.entryByKey('genesis')?.postings).toContainEqual({ account: '0xa', amount: HUGE });
  });

  it('derives balances after the checkpoint from the log when it opens', () => {
    const { dir, db, store } = open();
    store.commit(
      batch(
        [entry(1, 'k1', 'genesis', '0xa', 10n)],
        [
          ['genesis', -10n],
          ['0xa', 10n],
        ],
      ),
    );
    store.commit(batch([entry(2, 'k2', '0xa', '0xb', 3n)]));
    db.close();
    const state = open(dir).store.state();
    expect(state).toMatchObject({ lastSeq: 2, checkpointSeq: 1 });
    expect(state.balances).toEqual(
      new Map([
        ['genesis', -10n],
        ['0xa', 7n],
        ['0xb', 3n],
      ]),
    );
    expect(state.movedSinceCheckpoint).toEqual(new Set(['0xa', '0xb']));
  });

  it('writes a batch whole or not at all', () => {
    const { store } = open();
    store.commit(batch([entry(1, 'k1', 'genesis', '0xa', 5n)], [['0xa', 5n]]));
    expect(store.checkpointSeq()).toBe(1);
    // The second entry reuses an idempotency key: the UNIQUE index refuses it and the whole batch rolls back.
    expect(() =>
      store.commit(
        batch([entry(2, 'k2', '0xa', '0xb', 1n), entry(3, 'k1', '0xa', '0xb', 1n)], [['0xb', 2n]]),
      ),
    ).toThrow(/UNIQUE/);
    expect(store.entryByKey('k2')).toBeUndefined();
    expect(store.balances().get('0xb')).toBeUndefined();
    expect(store.counts()).toEqual({ entries: 1, postings: 2, history: 2, orphanPostings: 0 });
  });

  it("pages an account's entries newest first and sums what it received by reason", () => {
    const { store } = open();
    const entries = Array.from({ length: 7 }, (_, i) =>
      entry(i + 1, `k${i}`, 'genesis', '0xa', BigInt(i + 1)),
    );
    // Entries 1-4 reach the account history at a checkpoint; 5-7 are read from the log.
    store.commit(batch(entries.slice(0, 4), [['0xa', 10n]]));
    store.commit(batch(entries.slice(4)));
    const first = store.entries('0xa', { limit: 3 });
    expect(first.map((e) => e.seq)).toEqual([7, 6, 5]);
    expect(first[0]?.amount).toBe(7n);
    const next = store.entries('0xa', { beforeSeq: first[2]?.seq as number, limit: 3 });
    expect(next.map((e) => e.seq)).toEqual([4, 3, 2]);
    expect(store.received('0xa', 4, ['transfer'])).toBe(5n + 6n + 7n);
    expect(store.received('0xa', 0, ['payment'])).toBe(0n);
    expect([...store.scan()].map((p) => p.seq)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
  });
});

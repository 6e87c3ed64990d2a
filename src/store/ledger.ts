import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** One side of an entry: a signed amount (smallest unit) added to an account. */
export type LedgerPosting = { account: string; amount: bigint };

/** An append-only ledger entry; its postings sum to zero. `seq` orders the whole history. */
export type LedgerEntry = {
  seq: number;
  key: string;
  reason: string;
  reference: string | null;
  at: number;
  postings: LedgerPosting[];
};

/** An entry as one account sees it: `amount` is what it did to that account's balance. */
export type AccountEntry = LedgerEntry & { account: string; amount: bigint };

export type EscrowStatus = 'open' | 'closed' | 'expired';

/** A session's escrow: its balance lives in the account `escrow:<session>`; holds reserve part of it. */
export type EscrowRecord = {
  session: string;
  owner: string;
  status: EscrowStatus;
  holds: Map<string, bigint>;
  openedAt: number;
  expiresAt: number | null;
  closedAt: number | null;
};

export type Unbonding = { id: string; amount: bigint; releaseAt: number };

/** Who staked on a node, and the unstaked amounts still waiting out the unbonding period. */
export type StakeRecord = { node: string; owner: string; unbondings: Unbonding[] };

export type WithdrawalStatus = 'pending' | 'settled' | 'cancelled';

export type WithdrawalRecord = {
  id: string;
  account: string;
  amount: bigint;
  to: string;
  status: WithdrawalStatus;
  settlement: string | null;
  createdAt: number;
  updatedAt: number;
};

/** An epoch: bonded stakes when it opened, and once closed the summary of its rewards. */
export type EpochRecord = {
  id: number;
  startedAt: number;
  startSeq: number;
  stakes: Map<string, bigint>;
  closedAt: number | null;
  summary: Record<string, unknown> | null;
};

/** One node's reward for one epoch; `report` holds its inputs and formula terms (bigints as strings). */
export type RewardRecord = {
  epoch: number;
  node: string;
  account: string;
  amount: bigint;
  report: Record<string, unknown>;
};

/**
 * Everything one group commit writes: new entries and the state they changed. With `checkpoint`, it also
 * brings the derived tables up to `seq`: each account's history, and the balance of every account touched
 * since the last checkpoint.
 */
export type LedgerBatch = {
  entries: LedgerEntry[];
  checkpoint?: { seq: number; balances: Map<string, bigint> };
  escrows: EscrowRecord[];
  stakes: StakeRecord[];
  withdrawals: WithdrawalRecord[];
  epochs: EpochRecord[];
  rewards: RewardRecord[];
};

/** What the ledger loads at start: balances (the cache plus the entries after it) and the live state. */
export type LedgerState = {
  lastSeq: number;
  checkpointSeq: number;
  balances: Map<string, bigint>;
  /** Accounts moved by entries after the checkpoint: the next checkpoint writes them. */
  movedSinceCheckpoint: Set<string>;
  escrows: EscrowRecord[];
  stakes: StakeRecord[];
  withdrawals: WithdrawalRecord[];
  epoch: EpochRecord | undefined;
};

/** A posting joined with its entry's reason, in history order: what verify() walks. */
export type ScannedPosting = { seq: number; reason: string; account: string; amount: bigint };

/** JSON with bigints written as decimal strings (JSON has no bigint). */
const toJson = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
// Holds are written with every group commit that changes them: no replacer callback on this path.
const toAmounts = (map: Map<string, bigint>) =>
  JSON.stringify(Object.fromEntries(Array.from(map, ([k, v]) => [k, v.toString()])));
const fromAmounts = (json: string) =>
  new Map(Object.entries(JSON.parse(json) as Record<string, string>).map(([k, v]) => [k, BigInt(v)]));

// Rows are selected under their record's names; only amounts (TEXT) and JSON columns need converting.
type Raw<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };
type EntryRow = Omit<LedgerEntry, 'postings'>;
const ENTRY = 'seq, key, reason, reference, created_at AS at';
const ESCROW =
  'session, owner, status, holds, opened_at AS openedAt, expires_at AS expiresAt, closed_at AS closedAt';
const WITHDRAWAL =
  'id, account, amount, destination AS "to", status, settlement, created_at AS createdAt, updated_at AS updatedAt';
const EPOCH = 'id, started_at AS startedAt, start_seq AS startSeq, stakes, closed_at AS closedAt, summary';
const toEscrow = (r: Raw<EscrowRecord, 'holds'>): EscrowRecord => ({ ...r, holds: fromAmounts(r.holds) });
const toWithdrawal = (r: Raw<WithdrawalRecord, 'amount'>): WithdrawalRecord => ({
  ...r,
  amount: BigInt(r.amount),
});
type EpochRow = Raw<EpochRecord, 'stakes'> & { summary: string | null };
const toEpoch = (r: EpochRow): EpochRecord => ({
  ...r,
  stakes: fromAmounts(r.stakes),
  summary: r.summary === null ? null : (JSON.parse(r.summary) as Record<string, unknown>),
});
const toReward = (r: Raw<RewardRecord, 'amount' | 'report'>): RewardRecord => ({
  ...r,
  amount: BigInt(r.amount),
  report: JSON.parse(r.report) as Record<string, unknown>,
});
const toStake = (r: Raw<StakeRecord, 'unbondings'>): StakeRecord => ({
  ...r,
  unbondings: (JSON.parse(r.unbondings) as Raw<Unbonding, 'amount'>[]).map((u) => ({
    ...u,
    amount: BigInt(u.amount),
  })),
});

/**
 * The ledger's tables. It checks nothing: src/ledger decides what may be booked and hands over whole batches,
 * which `commit` writes in one transaction (the ledger's group commit), so a crash keeps all of a batch or none.
 */
export class LedgerStore {
  readonly #db: Db;
  /** Prepared statements by their SQL, each prepared once on first use. */
  readonly #statements = new Map<string, Statement>();
  readonly #commit: (batch: LedgerBatch) => void;

  constructor(db: Db) {
    this.#db = db;
    this.#commit = db.transaction((batch: LedgerBatch) => this.#write(batch));
  }

  #sql(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Writes one group commit in one transaction (nested inside the caller's, when there is one). */
  commit(batch: LedgerBatch): void {
    this.#commit(batch);
  }

  #write(batch: LedgerBatch): void {
    const entry = this.#sql(
      'INSERT INTO ledger_entries (seq, key, reason, reference, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    const posting = this.#sql('INSERT INTO ledger_postings (seq, account, amount) VALUES (?, ?, ?)');
    for (const e of batch.entries) {
      entry.run(e.seq, e.key, e.reason, e.reference, e.at);
      for (const p of e.postings) posting.run(e.seq, p.account, p.amount.toString());
    }
    if (batch.checkpoint) {
      this.#sql(`
        INSERT INTO ledger_history (account, seq, amount)
        SELECT account, seq, amount FROM ledger_postings WHERE seq > ? AND seq <= ?`).run(
        this.checkpointSeq(),
        batch.checkpoint.seq,
      );
      const balance = this.#sql(`
        INSERT INTO ledger_balances (account, balance) VALUES (?, ?)
        ON CONFLICT(account) DO UPDATE SET balance = excluded.balance`);
      for (const [account, amount] of batch.checkpoint.balances) balance.run(account, amount.toString());
      this.#sql('UPDATE ledger_checkpoint SET seq = ? WHERE id = 1').run(batch.checkpoint.seq);
    }
    for (const e of batch.escrows) {
      this.#sql(`
        INSERT OR REPLACE INTO ledger_escrows (session, owner, status, holds, opened_at, expires_at, closed_at)
        VALUES (@session, @owner, @status, @holds, @openedAt, @expiresAt, @closedAt)`).run({
        ...e,
        holds: toAmounts(e.holds),
      });
    }
    for (const s of batch.stakes) {
      this.#sql('INSERT OR REPLACE INTO ledger_stakes (node, owner, unbondings) VALUES (?, ?, ?)').run(
        s.node,
        s.owner,
        toJson(s.unbondings),
      );
    }
    for (const w of batch.withdrawals) {
      this.#sql(`
        INSERT OR REPLACE INTO ledger_withdrawals (id, account, amount, destination, status, settlement, created_at, updated_at)
        VALUES (@id, @account, @amount, @to, @status, @settlement, @createdAt, @updatedAt)`).run({
        ...w,
        amount: w.amount.toString(),
      });
    }
    for (const e of batch.epochs) {
      this.#sql(`
        INSERT OR REPLACE INTO ledger_epochs (id, started_at, start_seq, stakes, closed_at, summary)
        VALUES (@id, @startedAt, @startSeq, @stakes, @closedAt, @summary)`).run({
        ...e,
        stakes: toAmounts(e.stakes),
        summary: e.summary === null ? null : toJson(e.summary),
      });
    }
    for (const r of batch.rewards) {
      this.#sql(
        'INSERT INTO ledger_rewards (epoch, node, account, amount, report) VALUES (?, ?, ?, ?, ?)',
      ).run(r.epoch, r.node, r.account, r.amount.toString(), toJson(r.report));
    }
  }

  /** Balances (the cache plus the log after the checkpoint) and the live state the ledger keeps in memory. */
  state(): LedgerState {
    const last = this.#sql('SELECT max(seq) AS seq FROM ledger_entries').get() as { seq: number | null };
    const epoch = this.#sql(`SELECT ${EPOCH} FROM ledger_epochs ORDER BY id DESC LIMIT 1`).get();
    const checkpointSeq = this.checkpointSeq();
    const balances = this.balances();
    const movedSinceCheckpoint = new Set<string>();
    const tail = this.#sql('SELECT account, amount FROM ledger_postings WHERE seq > ?').iterate(
      checkpointSeq,
    );
    for (const p of tail as Iterable<LedgerPostingRow>) {
      balances.set(p.account, (balances.get(p.account) ?? 0n) + BigInt(p.amount));
      movedSinceCheckpoint.add(p.account);
    }
    const all = <T>(sql: string) => this.#sql(sql).all() as T[];
    return {
      lastSeq: last.seq ?? 0,
      checkpointSeq,
      balances,
      movedSinceCheckpoint,
      escrows: all<Raw<EscrowRecord, 'holds'>>(
        `SELECT ${ESCROW} FROM ledger_escrows WHERE status = 'open' OR holds != '{}'`,
      ).map(toEscrow),
      stakes: all<Raw<StakeRecord, 'unbondings'>>('SELECT node, owner, unbondings FROM ledger_stakes').map(
        toStake,
      ),
      withdrawals: all<Raw<WithdrawalRecord, 'amount'>>(
        `SELECT ${WITHDRAWAL} FROM ledger_withdrawals WHERE status = 'pending'`,
      ).map(toWithdrawal),
      epoch: epoch ? toEpoch(epoch as EpochRow) : undefined,
    };
  }

  /** The entry the derived tables (history, balance cache) are complete up to. */
  checkpointSeq(): number {
    return (
      (this.#sql('SELECT seq FROM ledger_checkpoint WHERE id = 1').get() as { seq: number } | undefined)
        ?.seq ?? 0
    );
  }

  /** The balance cache, as of the checkpoint (verify() compares it with the log). */
  balances(): Map<string, bigint> {
    const rows = this.#sql('SELECT account, balance FROM ledger_balances').all() as {
      account: string;
      balance: string;
    }[];
    return new Map(rows.map((r) => [r.account, BigInt(r.balance)]));
  }

  #withPostings(row: EntryRow): LedgerEntry {
    const postings = this.#sql('SELECT account, amount FROM ledger_postings WHERE seq = ?').all(row.seq);
    return {
      ...row,
      postings: (postings as LedgerPostingRow[]).map((p) => ({
        account: p.account,
        amount: BigInt(p.amount),
      })),
    };
  }

  /** The entry booked under an idempotency key, if any. */
  entryByKey(key: string): LedgerEntry | undefined {
    const row = this.#sql(`SELECT ${ENTRY} FROM ledger_entries WHERE key = ?`).get(key) as
      | EntryRow
      | undefined;
    return row && this.#withPostings(row);
  }

  /** An account's entries, newest first, `limit` of them before `beforeSeq` (paging). */
  entries(account: string, options: { beforeSeq?: number; limit?: number } = {}): AccountEntry[] {
    // History up to the checkpoint, and the few entries after it straight from the log.
    const rows = this.#sql(`
      SELECT e.seq, e.key, e.reason, e.reference, e.created_at AS at, p.amount FROM (
        SELECT seq, amount FROM ledger_history WHERE account = @account AND seq < @before
        UNION ALL
        SELECT seq, amount FROM ledger_postings
        WHERE seq > (SELECT seq FROM ledger_checkpoint WHERE id = 1) AND seq < @before AND account = @account
      ) p JOIN ledger_entries e ON e.seq = p.seq ORDER BY p.seq DESC LIMIT @limit`).all({
      account,
      before: options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit: options.limit ?? 50,
    }) as (EntryRow & { amount: string })[];
    return rows.map(({ amount, ...row }) => ({
      ...this.#withPostings(row),
      account,
      amount: BigInt(amount),
    }));
  }

  /** What entries with one of `reasons` added to an account after `afterSeq` (e.g. earned this epoch). */
  received(account: string, afterSeq: number, reasons: readonly string[]): bigint {
    const named = Object.fromEntries(reasons.map((reason, i) => [`r${i}`, reason]));
    const rows = this.#sql(`
      SELECT p.amount FROM (
        SELECT seq, amount FROM ledger_history WHERE account = @account AND seq > @after
        UNION ALL
        SELECT seq, amount FROM ledger_postings
        WHERE seq > max(@after, (SELECT seq FROM ledger_checkpoint WHERE id = 1)) AND account = @account
      ) p JOIN ledger_entries e ON e.seq = p.seq
      WHERE e.reason IN (${reasons.map((_, i) => `@r${i}`).join(', ')})`).all({
      account,
      after: afterSeq,
      ...named,
    });
    let total = 0n;
    for (const r of rows as { amount: string }[]) total += BigInt(r.amount);
    return total;
  }

  escrow(session: string): EscrowRecord | undefined {
    const row = this.#sql(`SELECT ${ESCROW} FROM ledger_escrows WHERE session = ?`).get(session);
    return row ? toEscrow(row as Raw<EscrowRecord, 'holds'>) : undefined;
  }

  withdrawal(id: string): WithdrawalRecord | undefined {
    const row = this.#sql(`SELECT ${WITHDRAWAL} FROM ledger_withdrawals WHERE id = ?`).get(id);
    return row ? toWithdrawal(row as Raw<WithdrawalRecord, 'amount'>) : undefined;
  }

  /** Withdrawals, newest first, optionally of one account and/or in one state. */
  withdrawals(
    filter: { account?: string; status?: WithdrawalStatus; limit?: number } = {},
  ): WithdrawalRecord[] {
    const rows = this.#sql(`
      SELECT ${WITHDRAWAL} FROM ledger_withdrawals
      WHERE (@account IS NULL OR account = @account) AND (@status IS NULL OR status = @status)
      ORDER BY created_at DESC, id DESC LIMIT @limit`).all({
      account: filter.account ?? null,
      status: filter.status ?? null,
      limit: filter.limit ?? 100,
    });
    return (rows as Raw<WithdrawalRecord, 'amount'>[]).map(toWithdrawal);
  }

  epoch(id: number): EpochRecord | undefined {
    const row = this.#sql(`SELECT ${EPOCH} FROM ledger_epochs WHERE id = ?`).get(id);
    return row ? toEpoch(row as EpochRow) : undefined;
  }

  /** Every node's reward report for one epoch. */
  rewards(epoch: number): RewardRecord[] {
    const rows = this.#sql('SELECT * FROM ledger_rewards WHERE epoch = ? ORDER BY node').all(epoch);
    return (rows as Raw<RewardRecord, 'amount' | 'report'>[]).map(toReward);
  }

  /** An account's reward reports, newest epoch first. */
  rewardsOf(account: string, limit = 20): RewardRecord[] {
    const rows = this.#sql('SELECT * FROM ledger_rewards WHERE account = ? ORDER BY epoch DESC LIMIT ?').all(
      account,
      limit,
    );
    return (rows as Raw<RewardRecord, 'amount' | 'report'>[]).map(toReward);
  }

  /** Every posting in history order (entries without postings are skipped), read lazily. */
  *scan(): Generator<ScannedPosting> {
    const rows = this.#sql(`
      SELECT p.seq, e.reason, p.account, p.amount FROM ledger_postings p
      JOIN ledger_entries e ON e.seq = p.seq ORDER BY p.seq`).iterate();
    for (const r of rows as Iterable<Raw<ScannedPosting, 'amount'>>) yield { ...r, amount: BigInt(r.amount) };
  }

  /** What each account's history (up to the checkpoint) sums to, for verify(). */
  historySums(): Map<string, bigint> {
    const sums = new Map<string, bigint>();
    for (const r of this.#sql(
      'SELECT account, amount FROM ledger_history',
    ).iterate() as Iterable<LedgerPostingRow>) {
      sums.set(r.account, (sums.get(r.account) ?? 0n) + BigInt(r.amount));
    }
    return sums;
  }

  /** Rows stored, and postings whose entry is missing (always 0 unless the file was edited). */
  counts(): { entries: number; postings: number; history: number; orphanPostings: number } {
    const one = (sql: string) => (this.#sql(sql).get() as { n: number }).n;
    return {
      entries: one('SELECT count(*) AS n FROM ledger_entries'),
      postings: one('SELECT count(*) AS n FROM ledger_postings'),
      history: one('SELECT count(*) AS n FROM ledger_history'),
      orphanPostings: one(
        'SELECT count(*) AS n FROM ledger_postings p WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = p.seq)',
      ),
    };
  }
}

type LedgerPostingRow = { account: string; amount: string };

import { InvalidParameterError } from '../protocol/index.js';
import type {
  EpochRecord,
  EscrowRecord,
  LedgerEntry,
  LedgerPosting,
  LedgerStore,
  RewardRecord,
  StakeRecord,
  WithdrawalRecord,
} from '../store/index.js';
import { accountKind, isIssuance, stakeAccount } from './accounts.js';
import type { LedgerConfig } from './config.js';
import { InsufficientFundsError, LedgerInvariantError } from './errors.js';

/** Why an entry was booked. The platform fee is the treasury's posting inside a `payment` entry. */
export type EntryReason =
  | 'genesis'
  | 'mint'
  | 'deposit'
  | 'transfer'
  | 'escrow'
  | 'payment'
  | 'refund'
  | 'stake'
  | 'unbond'
  | 'unstake'
  | 'slash'
  | 'reward'
  | 'withdrawal'
  | 'withdrawal_cancel'
  | 'withdrawal_settle';

/** What a booking call returns: the entry, and whether it had been booked before under the same key. */
export type Booking = { entry: LedgerEntry; duplicate: boolean };

export type CoreInit = {
  store: LedgerStore;
  config: LedgerConfig;
  now: () => number;
  autoFlush: boolean;
  /** How often a group commit also checkpoints the derived tables (history, balance cache). */
  checkpointMs: number;
  onCommitError: (error: Error) => void;
};

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/**
 * The in-memory state of the ledger and its group commit. Bookings are checked and applied here at once, so
 * the next call (in the same turn) sees them; they reach the store together at the end of the turn (or on
 * `flush()`), in one transaction. The in-memory state is the committed state plus the pending batch; if a
 * commit fails, the batch is dropped and the state reloaded from the store.
 *
 * A group commit appends to the log only (entries and postings, clustered by entry). About once a second
 * (`checkpointMs`) and on close, it also checkpoints: copies the new postings into each account's history and
 * writes the balances of the accounts moved since the last checkpoint. Updating those on every commit
 * dirtied one page per account per commit, which capped throughput; at start the entries after the
 * checkpoint are replayed onto the cached balances.
 */
export class LedgerCore {
  readonly store: LedgerStore;
  readonly config: LedgerConfig;
  readonly now: () => number;
  balances = new Map<string, bigint>();
  /** Escrows that can still move: open, or closed with holds outstanding. */
  escrows = new Map<string, EscrowRecord>();
  stakes = new Map<string, StakeRecord>();
  /** Pending withdrawals only; the rest are read from the store. */
  withdrawals = new Map<string, WithdrawalRecord>();
  epoch!: EpochRecord;
  seq = 0;
  checkpointSeq = 0;
  /** Group commits written and the entries they carried, for benchmarks. */
  readonly commits = { transactions: 0, entries: 0 };
  readonly #autoFlush: boolean;
  readonly #checkpointMs: number;
  #lastCheckpoint = performance.now();
  #moved = new Set<string>();
  readonly #onCommitError: (error: Error) => void;
  #entries: LedgerEntry[] = [];
  readonly #keys = new Map<string, LedgerEntry>();
  readonly #escrowWrites = new Map<string, EscrowRecord>();
  readonly #stakeWrites = new Map<string, StakeRecord>();
  readonly #withdrawalWrites = new Map<string, WithdrawalRecord>();
  readonly #epochWrites = new Map<number, EpochRecord>();
  #rewardWrites: RewardRecord[] = [];
  #waiters: Waiter[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(init: CoreInit) {
    this.store = init.store;
    this.config = init.config;
    this.now = init.now;
    this.#autoFlush = init.autoFlush;
    this.#checkpointMs = init.checkpointMs;
    this.#onCommitError = init.onCommitError;
    this.#load();
  }

  #load(): void {
    const state = this.store.state();
    this.seq = state.lastSeq;
    this.checkpointSeq = state.checkpointSeq;
    this.balances = state.balances;
    this.#moved = state.movedSinceCheckpoint;
    this.escrows = new Map(state.escrows.map((e) => [e.session, e]));
    this.stakes = new Map(state.stakes.map((s) => [s.node, s]));
    this.withdrawals = new Map(state.withdrawals.map((w) => [w.id, w]));
    if (state.epoch) this.epoch = state.epoch;
    else this.openEpoch(1, this.now());
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  /** The entry booked under `key`, pending or committed. */
  existing(key: string): LedgerEntry | undefined {
    return this.#keys.get(key) ?? this.store.entryByKey(key);
  }

  /**
   * Books one balanced entry: merges postings per account, refuses one that would take a non-issuance account
   * below zero (naming it), then applies it. Nothing changes when it throws.
   */
  book(key: string, reason: EntryReason, reference: string | null, postings: LedgerPosting[]): LedgerEntry {
    checkKey(key);
    if (this.#keys.has(key)) throw new LedgerInvariantError(`idempotency key '${key}' is already booked`);
    const merged = new Map<string, bigint>();
    let sum = 0n;
    for (const p of postings) {
      // Accounts already holding a balance were checked when they first appeared.
      if (!this.balances.has(p.account) && accountKind(p.account) === undefined) {
        throw new LedgerInvariantError(`'${p.account}' is not a ledger account (entry ${key})`);
      }
      merged.set(p.account, (merged.get(p.account) ?? 0n) + p.amount);
      sum += p.amount;
    }
    if (sum !== 0n)
      throw new LedgerInvariantError(`entry ${key} does not balance: its postings sum to ${sum}`);
    const final: LedgerPosting[] = [];
    for (const [account, amount] of merged) {
      if (amount === 0n) continue;
      const balance = this.balance(account);
      if (amount < 0n && balance + amount < 0n && !isIssuance(account)) {
        throw new InsufficientFundsError(account, -amount, balance);
      }
      final.push({ account, amount });
    }
    const entry: LedgerEntry = { seq: ++this.seq, key, reason, reference, at: this.now(), postings: final };
    for (const p of final) {
      this.balances.set(p.account, this.balance(p.account) + p.amount);
      this.#moved.add(p.account);
    }
    this.#entries.push(entry);
    this.#keys.set(key, entry);
    this.#schedule();
    return entry;
  }

  /** Marks state records to be written with the next group commit (their state at that moment). */
  saveEscrow(escrow: EscrowRecord): void {
    this.#escrowWrites.set(escrow.session, escrow);
    this.#schedule();
  }

  saveStake(stake: StakeRecord): void {
    this.#stakeWrites.set(stake.node, stake);
    this.#schedule();
  }

  saveWithdrawal(withdrawal: WithdrawalRecord): void {
    this.#withdrawalWrites.set(withdrawal.id, withdrawal);
    this.#schedule();
  }

  saveEpoch(epoch: EpochRecord): void {
    this.#epochWrites.set(epoch.id, epoch);
    this.#schedule();
  }

  saveRewards(rewards: RewardRecord[]): void {
    for (const r of rewards) this.#rewardWrites.push(r);
    this.#schedule();
  }

  /** Starts epoch `id`, snapshotting each node's bonded stake (seed 001's S(g) is the least it held). */
  openEpoch(id: number, at: number): EpochRecord {
    const stakes = new Map<string, bigint>();
    for (const node of this.stakes.keys()) {
      const bonded = this.balance(stakeAccount(node));
      if (bonded > 0n) stakes.set(node, bonded);
    }
    this.epoch = { id, startedAt: at, startSeq: this.seq, stakes, closedAt: null, summary: null };
    this.saveEpoch(this.epoch);
    return this.epoch;
  }

  get pending(): number {
    return this.#entries.length;
  }

  #hasWrites(): boolean {
    return (
      this.#entries.length > 0 ||
      this.#escrowWrites.size > 0 ||
      this.#stakeWrites.size > 0 ||
      this.#withdrawalWrites.size > 0 ||
      this.#epochWrites.size > 0 ||
      this.#rewardWrites.length > 0
    );
  }

  #schedule(): void {
    if (!this.#autoFlush || this.#scheduled) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      try {
        this.flush();
      } catch (error) {
        this.#onCommitError(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /**
   * Commits everything booked so far in one transaction (with a checkpoint when one is due or `checkpoint`
   * is set); throws (after reloading) if the store refuses.
   */
  flush(options: { checkpoint?: boolean } = {}): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    const checkpoint =
      this.seq > this.checkpointSeq &&
      (options.checkpoint === true || performance.now() - this.#lastCheckpoint >= this.#checkpointMs);
    if (!this.#hasWrites() && !checkpoint) {
      for (const w of waiters) w.resolve();
      return;
    }
    const entries = this.#entries;
    let balances: Map<string, bigint> | undefined;
    if (checkpoint) {
      balances = new Map();
      for (const account of this.#moved) balances.set(account, this.balance(account));
    }
    try {
      this.store.commit({
        entries,
        ...(balances ? { checkpoint: { seq: this.seq, balances } } : {}),
        escrows: [...this.#escrowWrites.values()],
        stakes: [...this.#stakeWrites.values()],
        withdrawals: [...this.#withdrawalWrites.values()],
        epochs: [...this.#epochWrites.values()],
        rewards: this.#rewardWrites,
      });
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.#clearPending();
      this.#load();
      for (const w of waiters) w.reject(error);
      throw error;
    }
    this.commits.transactions++;
    this.commits.entries += entries.length;
    if (checkpoint) {
      this.checkpointSeq = this.seq;
      this.#moved = new Set();
      this.#lastCheckpoint = performance.now();
    }
    this.#clearPending();
    // Finished escrows and withdrawals now live in the store only.
    for (const [session, e] of this.escrows)
      if (e.status !== 'open' && e.holds.size === 0) this.escrows.delete(session);
    for (const [id, w] of this.withdrawals) if (w.status !== 'pending') this.withdrawals.delete(id);
    for (const w of waiters) w.resolve();
  }

  #clearPending(): void {
    this.#entries = [];
    this.#keys.clear();
    this.#escrowWrites.clear();
    this.#stakeWrites.clear();
    this.#withdrawalWrites.clear();
    this.#epochWrites.clear();
    this.#rewardWrites = [];
  }

  /** Resolves once everything booked so far is committed (at once if nothing is pending). */
  sync(): Promise<void> {
    if (!this.#hasWrites()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Commits what is pending with a checkpoint; the ledger must not be used afterwards. */
  close(): void {
    this.flush({ checkpoint: true });
  }

  /** Forgets what is pending without writing it: what a crash does (tests only). */
  abandon(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#clearPending();
  }

  /** Drops what is pending and reloads everything from the store (after an enclosing transaction failed). */
  reload(): void {
    this.abandon();
    this.#load();
  }
}

/** Idempotency keys are the caller's names for a booking, e.g. `task:<id>:payment`. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new InvalidParameterError(
      'key',
      `idempotency key must be 1 to 200 characters, got '${String(key)}'`,
    );
  }
  return key;
}

import { randomUUID } from 'node:crypto';
import { InvalidParameterError } from '../protocol/index.js';
import type { AccountEntry, LedgerEntry, LedgerStore } from '../store/index.js';
import { DEPOSITS, GENESIS, MINT, normalizeAddress, normalizeHolder } from './accounts.js';
import { checkAmount } from './amount.js';
import { type LedgerConfig, type LedgerConfigInput, resolveLedgerConfig } from './config.js';
import { type Booking, checkKey, LedgerCore } from './core.js';
import { Epochs } from './epochs.js';
import { MintDisabledError } from './errors.js';
import { Escrows } from './escrow.js';
import { Staking } from './staking.js';
import { type VerifyReport, verifyLedger } from './verify.js';
import { Withdrawals } from './withdrawals.js';

export type LedgerInit = {
  store: LedgerStore;
  config?: LedgerConfigInput;
  /** Clock for entry times, expiry and unbonding (tests pass their own). */
  now?: () => number;
  /** Group-commit at the end of each event-loop turn (default true); false: only `flush()` writes. */
  autoFlush?: boolean;
  /** How often a group commit also brings account histories and the balance cache up to date (default 1 s). */
  checkpointMs?: number;
  /** Called when an automatic group commit fails (the pending bookings are dropped, state reloaded). */
  onCommitError?: (error: Error) => void;
};

/** What `check-rewards` shows for an account. */
export type AccountSummary = {
  account: string;
  balance: bigint;
  /** Bonded on the nodes this account staked. */
  staked: bigint;
  unbonding: bigint;
  /** In the escrows of its sessions that can still move. */
  escrowed: bigint;
  pendingWithdrawals: bigint;
  /** Payments, rewards and slash shares received since the current epoch opened. */
  earnedThisEpoch: bigint;
  epoch: number;
};

/** The reasons that count as earnings. */
const EARNINGS = ['payment', 'reward', 'slash'] as const;

/** The ledger: accounts and transfers here; escrows, staking, withdrawals and epochs as its four parts. */
export class Ledger {
  readonly config: LedgerConfig;
  readonly escrows: Escrows;
  readonly staking: Staking;
  readonly withdrawals: Withdrawals;
  readonly epochs: Epochs;
  readonly #core: LedgerCore;

  constructor(init: LedgerInit) {
    this.config = resolveLedgerConfig(init.config);
    this.#core = new LedgerCore({
      store: init.store,
      config: this.config,
      now: init.now ?? Date.now,
      autoFlush: init.autoFlush ?? true,
      checkpointMs: init.checkpointMs ?? 1000,
      onCommitError:
        init.onCommitError ??
        ((error) =>
          console.error(`ledger: a group commit failed, its bookings were dropped: ${error.stack}`)),
    });
    this.escrows = new Escrows(this.#core);
    this.staking = new Staking(this.#core);
    this.withdrawals = new Withdrawals(this.#core);
    this.epochs = new Epochs(this.#core);
  }

  /** Books the network's genesis allocation, once (later calls return the first booking). */
  genesis(allocations: { account: string; amount: bigint }[]): Booking {
    const existing = this.#core.existing('genesis');
    if (existing) return { entry: existing, duplicate: true };
    let total = 0n;
    const postings = allocations.map((a) => {
      const amount = checkAmount(a.amount, `genesis amount for ${a.account}`);
      total += amount;
      return { account: normalizeHolder(a.account, 'account'), amount };
    });
    return {
      entry: this.#core.book('genesis', 'genesis', null, [...postings, { account: GENESIS, amount: -total }]),
      duplicate: false,
    };
  }

  /** Mints new tokens to an account: test networks only (`allowMint`), else MintDisabledError. */
  mint(p: { to: string; amount: bigint; key?: string }): Booking {
    if (!this.config.allowMint) throw new MintDisabledError();
    const key = checkKey(p.key ?? `mint:${randomUUID()}`);
    const existing = this.#core.existing(key);
    if (existing) return { entry: existing, duplicate: true };
    const to = normalizeHolder(p.to, 'to');
    const amount = checkAmount(p.amount);
    return {
      entry: this.#core.book(key, 'mint', null, [
        { account: MINT, amount: -amount },
        { account: to, amount },
      ]),
      duplicate: false,
    };
  }

  /**
   * Credits `to` with tokens deposited on chain (the Vault's Deposited event), once per `key` (the chain
   * issue keys it by transaction hash and log index, so a rescan after a restart books nothing twice).
   */
  deposit(p: { to: string; amount: bigint; key: string }): Booking {
    const key = checkKey(p.key);
    const existing = this.#core.existing(key);
    if (existing) return { entry: existing, duplicate: true };
    const to = normalizeAddress(p.to, 'to');
    const amount = checkAmount(p.amount);
    return {
      entry: this.#core.book(key, 'deposit', null, [
        { account: DEPOSITS, amount: -amount },
        { account: to, amount },
      ]),
      duplicate: false,
    };
  }

  /** Moves tokens between holders (addresses, treasury, rewards); 402 when `from` falls short. */
  transfer(p: { from: string; to: string; amount: bigint; key?: string; reference?: string }): Booking {
    const key = checkKey(p.key ?? `transfer:${randomUUID()}`);
    const existing = this.#core.existing(key);
    if (existing) return { entry: existing, duplicate: true };
    const from = normalizeHolder(p.from, 'from');
    const to = normalizeHolder(p.to, 'to');
    const amount = checkAmount(p.amount);
    // It would move nothing, whatever the amount: an entry with no postings, even above the balance.
    if (from === to)
      throw new InvalidParameterError('to', `A transfer needs two accounts; 'to' is 'from' (${to}).`);
    const entry = this.#core.book(key, 'transfer', p.reference ?? null, [
      { account: from, amount: -amount },
      { account: to, amount },
    ]);
    return { entry, duplicate: false };
  }

  /** An account's balance, pending bookings included. */
  balance(account: string): bigint {
    return this.#core.balance(account);
  }

  /** Balance, stakes, escrows, pending withdrawals and this epoch's earnings of an address. */
  account(address: string): AccountSummary {
    const account = normalizeAddress(address, 'address');
    const core = this.#core;
    let staked = 0n;
    let unbonding = 0n;
    for (const s of this.staking.ownedBy(account)) {
      staked += s.bonded;
      unbonding += s.unbonding;
    }
    let escrowed = 0n;
    for (const e of core.escrows.values())
      if (e.owner === account) escrowed += this.escrows.get(e.session)?.balance ?? 0n;
    let pendingWithdrawals = 0n;
    for (const w of core.withdrawals.values())
      if (w.account === account && w.status === 'pending') pendingWithdrawals += w.amount;
    core.flush();
    return {
      account,
      balance: core.balance(account),
      staked,
      unbonding,
      escrowed,
      pendingWithdrawals,
      earnedThisEpoch: core.store.received(account, core.epoch.startSeq, EARNINGS),
      epoch: core.epoch.id,
    };
  }

  /** What an account received as earnings (payments, rewards, less slashes) over its whole history. */
  earned(account: string): bigint {
    const core = this.#core;
    core.flush();
    return core.store.received(normalizeAddress(account, 'account'), 0, EARNINGS);
  }

  /** An account's entries, newest first (paging: pass the last seq seen as `beforeSeq`). */
  entries(account: string, page: { beforeSeq?: number; limit?: number } = {}): AccountEntry[] {
    this.#core.flush();
    return this.#core.store.entries(account, page);
  }

  /** The entry booked under an idempotency key (pending or committed), if any. */
  entry(key: string): LedgerEntry | undefined {
    return this.#core.existing(key);
  }

  /** Commits every pending booking now, in one transaction (call it inside your own to book atomically). */
  flush(): void {
    this.#core.flush();
  }

  /** Commits what is pending and brings account histories and the balance cache up to date. */
  checkpoint(): void {
    this.#core.flush({ checkpoint: true });
  }

  /** Resolves once every booking made so far is committed. */
  sync(): Promise<void> {
    return this.#core.sync();
  }

  /** Bookings made but not yet committed. */
  get pending(): number {
    return this.#core.pending;
  }

  /** Group commits so far, and the entries they carried. */
  get commits(): { transactions: number; entries: number } {
    return { ...this.#core.commits };
  }

  /** Commits what is pending, with a checkpoint; call before closing the database. */
  close(): void {
    this.#core.close();
  }

  /** Checks the whole committed history (see verifyLedger), after committing what is pending. */
  verify(): VerifyReport {
    this.#core.flush({ checkpoint: true });
    return verifyLedger(this.#core.store);
  }

  /**
   * Forgets pending bookings and reloads the state from the store: call it when a transaction of yours that
   * ran `flush()` inside it rolled back, so the ledger's memory no longer matches what was committed.
   */
  reload(): void {
    this.#core.reload();
  }

  /** Drops pending bookings without writing them, as a crash would: for tests of restarts. */
  abandonForTests(): void {
    this.#core.abandon();
  }
}

import { createHash, randomUUID } from 'node:crypto';
import type { WithdrawalRecord, WithdrawalStatus } from '../store/index.js';
import { BURN, normalizeAddress, WITHDRAWALS } from './accounts.js';
import { checkAmount } from './amount.js';
import { type Booking, checkKey, type LedgerCore } from './core.js';
import { WithdrawalStateError } from './errors.js';

/** How a held withdrawal's settlement starts while it is pending (see `request`). */
const HELD = 'held: ';

/**
 * Cash-out requests (seed 003: at any time). A request moves the amount into the `withdrawals` account, where
 * it is locked until settlement (the chain issue pays it out; here it leaves the ledger through `burn`) or
 * cancellation (it returns to the account).
 */
export class Withdrawals {
  readonly #core: LedgerCore;

  constructor(core: LedgerCore) {
    this.#core = core;
  }

  /**
   * Locks `amount` of `account`'s balance for payout to `to` (402 when the balance falls short). `hold` marks a
   * withdrawal the router itself made (an epoch reward reserved for its root on chain): while pending it carries
   * the note as its settlement, and only a call with `{ held: true }` may settle or cancel it, so neither its
   * account (cancel, voucher) nor an operator can take the same tokens out a second way.
   */
  request(p: { account: string; amount: bigint; to: string; key?: string; hold?: string }): Booking & {
    withdrawal: WithdrawalRecord;
  } {
    const key = checkKey(p.key ?? `withdrawal:${randomUUID()}`);
    // The id follows from the key, so a repeated request finds the withdrawal it made.
    const id = `wd_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
    const core = this.#core;
    const existing = core.existing(key);
    if (existing) return { entry: existing, duplicate: true, withdrawal: this.get(id) as WithdrawalRecord };
    const account = normalizeAddress(p.account, 'account');
    const to = normalizeAddress(p.to, 'to');
    const amount = checkAmount(p.amount);
    const entry = core.book(key, 'withdrawal', `withdrawal:${id}`, [
      { account, amount: -amount },
      { account: WITHDRAWALS, amount },
    ]);
    const withdrawal: WithdrawalRecord = {
      id,
      account,
      amount,
      to,
      status: 'pending',
      settlement: p.hold === undefined ? null : `${HELD}${p.hold}`,
      createdAt: entry.at,
      updatedAt: entry.at,
    };
    core.withdrawals.set(id, withdrawal);
    core.saveWithdrawal(withdrawal);
    return { entry, duplicate: false, withdrawal };
  }

  /**
   * Holds a pending withdrawal for the router (see `request`): from now on only a `{ held: true }` call settles
   * or cancels it. Holding it again with the same note is harmless; another note is refused (409).
   */
  hold(id: string, note: string): WithdrawalRecord {
    const withdrawal = this.#core.withdrawals.get(id) ?? this.get(id);
    if (withdrawal?.status !== 'pending') throw new WithdrawalStateError(id, withdrawal?.status ?? 'missing');
    const held = `${HELD}${note}`;
    if (withdrawal.settlement === held) return withdrawal;
    if (withdrawal.settlement?.startsWith(HELD)) throw new WithdrawalStateError(id, withdrawal.settlement);
    withdrawal.settlement = held;
    this.#core.withdrawals.set(id, withdrawal);
    this.#core.saveWithdrawal(withdrawal);
    return withdrawal;
  }

  /** Returns a pending withdrawal's amount to its account (a held one only with `{ held: true }`). */
  cancel(id: string, opts: { held?: boolean } = {}): Booking & { withdrawal: WithdrawalRecord } {
    return this.#finish(id, 'cancelled', null, opts.held === true);
  }

  /** Marks a pending withdrawal paid out (`settlement`: e.g. the chain transaction); its tokens leave the ledger. */
  settle(
    id: string,
    settlement: string | null = null,
    opts: { held?: boolean } = {},
  ): Booking & { withdrawal: WithdrawalRecord } {
    return this.#finish(id, 'settled', settlement, opts.held === true);
  }

  #finish(
    id: string,
    status: 'cancelled' | 'settled',
    settlement: string | null,
    held: boolean,
  ): Booking & { withdrawal: WithdrawalRecord } {
    const core = this.#core;
    const key = `withdrawal:${id}:${status === 'settled' ? 'settle' : 'cancel'}`;
    const existing = core.existing(key);
    if (existing) return { entry: existing, duplicate: true, withdrawal: this.get(id) as WithdrawalRecord };
    const withdrawal = this.get(id);
    if (withdrawal?.status !== 'pending') throw new WithdrawalStateError(id, withdrawal?.status ?? 'missing');
    const note = withdrawal.settlement;
    if (!held && note?.startsWith(HELD)) throw new WithdrawalStateError(id, note);
    const to = status === 'settled' ? BURN : withdrawal.account;
    const entry = core.book(
      key,
      status === 'settled' ? 'withdrawal_settle' : 'withdrawal_cancel',
      `withdrawal:${id}`,
      [
        { account: WITHDRAWALS, amount: -withdrawal.amount },
        { account: to, amount: withdrawal.amount },
      ],
    );
    withdrawal.status = status;
    withdrawal.settlement = settlement;
    withdrawal.updatedAt = entry.at;
    core.saveWithdrawal(withdrawal);
    return { entry, duplicate: false, withdrawal };
  }

  get(id: string): WithdrawalRecord | undefined {
    // Finished withdrawals leave memory only once committed, so the store has every one not found here.
    return this.#core.withdrawals.get(id) ?? this.#core.store.withdrawal(id);
  }

  /** Withdrawals, newest first, optionally of one account and/or in one state. */
  list(filter: { account?: string; status?: WithdrawalStatus; limit?: number } = {}): WithdrawalRecord[] {
    this.#core.flush();
    const account = filter.account === undefined ? undefined : normalizeAddress(filter.account, 'account');
    return this.#core.store.withdrawals({ ...filter, ...(account ? { account } : {}) });
  }
}

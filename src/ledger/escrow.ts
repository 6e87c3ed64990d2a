import { InvalidParameterError } from '../protocol/index.js';
import type { EscrowRecord, LedgerEntry } from '../store/index.js';
import { escrowAccount, normalizeAddress, normalizeHolder, TREASURY } from './accounts.js';
import { checkAmount, PPM } from './amount.js';
import { type Booking, checkKey, type LedgerCore } from './core.js';
import { EscrowClosedError, EscrowExhaustedError, EscrowExistsError } from './errors.js';

/** A model's price per token, in the smallest unit. */
export type TokenPrice = { input: bigint; output: bigint };

/** An escrow with its money: `available` is what new holds and charges may still take. */
export type EscrowView = Omit<EscrowRecord, 'holds'> & {
  balance: bigint;
  held: bigint;
  available: bigint;
  holds: number;
};

export type OpenEscrowParameters = {
  session: string;
  owner: string;
  budget: bigint;
  expiresAt?: number | null;
  /** Default `escrow:<session>:open`. */
  key?: string;
};

export type ChargeParameters = {
  session: string;
  /** e.g. `task:<id>:payment`, or `task:<id>:check:<validator>` for a validator's check. */
  key: string;
  /** Who did the work: the node's payout address (or the validator's). */
  payee: string;
  inputTokens: number;
  outputTokens: number;
  price: TokenPrice;
  /** The hold placed for this task at admission; consumed by the charge. */
  hold?: string;
  reference?: string;
};

export type ChargeResult = Booking & { amount: bigint; fee: bigint; refund: LedgerEntry | null };

const SESSION = /^[A-Za-z0-9_.-]{1,100}$/;

function checkSession(session: string): string {
  if (typeof session !== 'string' || !SESSION.test(session)) {
    throw new InvalidParameterError('session', `session id '${String(session)}' is not valid`);
  }
  return session;
}

function checkTokens(tokens: number, param: string): bigint {
  if (!Number.isSafeInteger(tokens) || tokens < 0) {
    throw new InvalidParameterError(param, `${param} must be a non-negative whole number, got ${tokens}`);
  }
  return BigInt(tokens);
}

/** What `inputTokens` and `outputTokens` cost at `price`. */
export function quote(price: TokenPrice, inputTokens: number, outputTokens: number): bigint {
  checkAmount(price.input, 'price.input', true);
  checkAmount(price.output, 'price.output', true);
  return (
    checkTokens(inputTokens, 'inputTokens') * price.input +
    checkTokens(outputTokens, 'outputTokens') * price.output
  );
}

/**
 * Session escrows (seed 004: the router verifies payment before processing). Opening moves the budget from the
 * owner into `escrow:<session>`; the router holds the most a task can cost before dispatching it (402 when it
 * cannot), charges the real cost when the verified result arrives, and closing returns the rest. An escrow
 * closed with holds outstanding returns the free part at once and each hold's leftover when it ends.
 */
export class Escrows {
  readonly #core: LedgerCore;

  constructor(core: LedgerCore) {
    this.#core = core;
  }

  /** Opens a session's escrow with `budget` from the owner's balance (402 when it falls short). */
  open(p: OpenEscrowParameters): Booking & { escrow: EscrowView } {
    const session = checkSession(p.session);
    const key = checkKey(p.key ?? `escrow:${session}:open`);
    const core = this.#core;
    const existing = core.existing(key);
    if (existing) return { entry: existing, duplicate: true, escrow: this.#view(session) };
    if (this.#find(session)) throw new EscrowExistsError(session);
    const owner = normalizeAddress(p.owner, 'owner');
    const budget = checkAmount(p.budget, 'budget');
    const entry = core.book(key, 'escrow', `session:${session}`, [
      { account: owner, amount: -budget },
      { account: escrowAccount(session), amount: budget },
    ]);
    const record: EscrowRecord = {
      session,
      owner,
      status: 'open',
      holds: new Map(),
      openedAt: entry.at,
      expiresAt: p.expiresAt ?? null,
      closedAt: null,
    };
    core.escrows.set(session, record);
    core.saveEscrow(record);
    return { entry, duplicate: false, escrow: this.#view(session) };
  }

  /** Adds `amount` from the owner's balance to an open escrow. */
  topUp(p: { session: string; amount: bigint; key: string }): Booking {
    const key = checkKey(p.key);
    const existing = this.#core.existing(key);
    if (existing) return { entry: existing, duplicate: true };
    const escrow = this.#open(p.session);
    const amount = checkAmount(p.amount);
    const entry = this.#core.book(key, 'escrow', `session:${escrow.session}`, [
      { account: escrow.owner, amount: -amount },
      { account: escrowAccount(escrow.session), amount },
    ]);
    return { entry, duplicate: false };
  }

  /** The escrow of a session, with its balance, holds and what is available; undefined if never opened. */
  get(session: string): EscrowView | undefined {
    return this.#find(session) && this.#view(session);
  }

  /**
   * Reserves `amount` (the most a task can cost) under `hold` (e.g. the task id) so that concurrent tasks
   * cannot overspend the escrow. Idempotent per hold. Returns what stays available; throws
   * EscrowExhaustedError (402) when it does not fit.
   */
  hold(p: { session: string; hold: string; amount: bigint }): bigint {
    const escrow = this.#open(p.session);
    checkKey(p.hold);
    const available = this.#available(escrow);
    if (escrow.holds.has(p.hold)) return available;
    const amount = checkAmount(p.amount, 'amount', true);
    if (amount > available) throw new EscrowExhaustedError(escrow.session, amount, available);
    escrow.holds.set(p.hold, amount);
    this.#core.saveEscrow(escrow);
    return available - amount;
  }

  /** Drops a hold without charging (the task failed or was cancelled); refunds it if the escrow is closed. */
  release(session: string, hold: string): LedgerEntry | null {
    const escrow = this.#core.escrows.get(checkSession(session));
    if (!escrow?.holds.delete(hold)) return null;
    this.#core.saveEscrow(escrow);
    return this.#refundIfClosed(escrow, `escrow:${session}:release:${hold}`);
  }

  /**
   * Charges a task's tokens at `price`: the fee share to the treasury, the rest to `payee`, once per `key`.
   * The task's hold (if any) is consumed. Throws EscrowExhaustedError (402) when the escrow cannot cover it.
   */
  charge(p: ChargeParameters): ChargeResult {
    const key = checkKey(p.key);
    const core = this.#core;
    const session = checkSession(p.session);
    const existing = core.existing(key);
    if (existing)
      return { ...amounts(existing, session, p.payee), entry: existing, duplicate: true, refund: null };
    const escrow = core.escrows.get(session);
    if (!escrow) throw new EscrowClosedError(session, this.#find(session)?.status ?? 'not opened');
    const payee = normalizeHolder(p.payee, 'payee');
    const amount = quote(p.price, p.inputTokens, p.outputTokens);
    const held = p.hold === undefined ? 0n : (escrow.holds.get(p.hold) ?? 0n);
    const available = this.#available(escrow) + held;
    if (amount > available) throw new EscrowExhaustedError(session, amount, available);
    // The fee rounds down: the sub-unit remainder stays with the node that did the work.
    const fee = (amount * core.config.feePpm) / PPM;
    const entry = core.book(key, 'payment', p.reference ?? null, [
      { account: escrowAccount(session), amount: -amount },
      { account: payee, amount: amount - fee },
      { account: TREASURY, amount: fee },
    ]);
    if (p.hold !== undefined && escrow.holds.delete(p.hold)) core.saveEscrow(escrow);
    return { entry, duplicate: false, amount, fee, refund: this.#refundIfClosed(escrow, `${key}:refund`) };
  }

  /** Closes an escrow and returns what no hold reserves to the owner. Closing twice changes nothing. */
  close(
    session: string,
    options: { status?: 'closed' | 'expired'; key?: string } = {},
  ): { escrow: EscrowView; refund: LedgerEntry | null } {
    checkSession(session);
    const escrow = this.#core.escrows.get(session);
    if (escrow?.status !== 'open') {
      if (!this.#find(session)) throw new EscrowClosedError(session, 'not opened');
      return { escrow: this.#view(session), refund: null };
    }
    escrow.status = options.status ?? 'closed';
    escrow.closedAt = this.#core.now();
    this.#core.saveEscrow(escrow);
    const refund = this.#refundIfClosed(escrow, options.key ?? `escrow:${session}:close`);
    return { escrow: this.#view(session), refund };
  }

  /** Closes (as expired) every open escrow whose expiry has passed; returns them. */
  expire(now = this.#core.now()): EscrowView[] {
    const due = [...this.#core.escrows.values()].filter(
      (e) => e.status === 'open' && e.expiresAt !== null && e.expiresAt <= now,
    );
    return due.map((e) => this.close(e.session, { status: 'expired' }).escrow);
  }

  #refundIfClosed(escrow: EscrowRecord, key: string): LedgerEntry | null {
    if (escrow.status === 'open') return null;
    const free = this.#available(escrow);
    if (free === 0n) return null;
    return this.#core.book(key, 'refund', `session:${escrow.session}`, [
      { account: escrowAccount(escrow.session), amount: -free },
      { account: escrow.owner, amount: free },
    ]);
  }

  #open(session: string): EscrowRecord {
    const escrow = this.#core.escrows.get(checkSession(session));
    if (escrow?.status === 'open') return escrow;
    throw new EscrowClosedError(session, escrow?.status ?? this.#find(session)?.status ?? 'not opened');
  }

  #find(session: string): EscrowRecord | undefined {
    return this.#core.escrows.get(session) ?? this.#core.store.escrow(session);
  }

  #available(escrow: EscrowRecord): bigint {
    let held = 0n;
    for (const amount of escrow.holds.values()) held += amount;
    return this.#core.balance(escrowAccount(escrow.session)) - held;
  }

  #view(session: string): EscrowView {
    const escrow = this.#find(session) as EscrowRecord;
    const balance = this.#core.balance(escrowAccount(session));
    const available = this.#available(escrow);
    const { holds, ...rest } = escrow;
    return { ...rest, balance, held: balance - available, available, holds: holds.size };
  }
}

/** A booked payment's amount and fee, read back from its postings (for a duplicate charge). */
function amounts(entry: LedgerEntry, session: string, payee: string): { amount: bigint; fee: bigint } {
  const of = (account: string) => entry.postings.find((p) => p.account === account)?.amount ?? 0n;
  const amount = -of(escrowAccount(session));
  const fee = payee.toLowerCase() === TREASURY ? 0n : of(TREASURY);
  return { amount, fee };
}

import { type ErrorKind, OmniError } from '../protocol/index.js';
import { formatAmount } from './amount.js';

/**
 * The ledger's refusals. Each says what it is (`kind`); the router's one table (src/router/http-errors.ts)
 * turns that into an HTTP status.
 */
export class LedgerError extends OmniError {
  override readonly name: string = 'LedgerError';
  override readonly kind: ErrorKind;
  constructor(code: string, kind: ErrorKind, message: string) {
    super(code, message);
    this.kind = kind;
  }
}

/** An account's balance cannot cover a movement (transfer, escrow, stake, withdrawal): HTTP 402. */
export class InsufficientFundsError extends LedgerError {
  override readonly name = 'InsufficientFundsError';
  constructor(
    readonly account: string,
    readonly needed: bigint,
    readonly available: bigint,
  ) {
    super(
      'insufficient_funds',
      'payment_required',
      `Account ${account} has ${formatAmount(available)} tokens available but this needs ${formatAmount(needed)}.`,
    );
  }
}

/** A session's remaining escrow cannot cover a charge or a hold: HTTP 402, before any node works on it. */
export class EscrowExhaustedError extends LedgerError {
  override readonly name = 'EscrowExhaustedError';
  constructor(
    readonly session: string,
    readonly needed: bigint,
    readonly available: bigint,
  ) {
    super(
      'insufficient_escrow',
      'payment_required',
      `Session ${session} has ${formatAmount(available)} tokens left in escrow but this request may cost up to ${formatAmount(needed)}. Open a session with a larger budget.`,
    );
  }
}

/** The session's escrow is closed or expired, or was never opened: HTTP 409. */
export class EscrowClosedError extends LedgerError {
  override readonly name = 'EscrowClosedError';
  constructor(
    readonly session: string,
    state: string,
  ) {
    super(
      'escrow_closed',
      'conflict',
      `Session ${session}'s escrow is ${state}; open a new session to pay for work.`,
    );
  }
}

/** A session already has an escrow (opened under another key): HTTP 409. */
export class EscrowExistsError extends LedgerError {
  override readonly name = 'EscrowExistsError';
  constructor(readonly session: string) {
    super(
      'escrow_exists',
      'conflict',
      `Session ${session} already has an escrow; top it up or open a new session.`,
    );
  }
}

/** A node's stake belongs to another account: HTTP 403. */
export class StakeOwnerError extends LedgerError {
  override readonly name = 'StakeOwnerError';
  constructor(
    readonly node: string,
    readonly owner: string,
  ) {
    super(
      'stake_owner_mismatch',
      'forbidden',
      `Node ${node}'s stake belongs to ${owner}; only that account may change it.`,
    );
  }
}

/** Unstaking more than is bonded: HTTP 409. */
export class InsufficientStakeError extends LedgerError {
  override readonly name = 'InsufficientStakeError';
  constructor(
    readonly node: string,
    readonly needed: bigint,
    readonly bonded: bigint,
  ) {
    super(
      'insufficient_stake',
      'conflict',
      `Node ${node} has ${formatAmount(bonded)} tokens bonded; cannot unstake ${formatAmount(needed)}.`,
    );
  }
}

/** A node without the configured minimum stake may not receive work: HTTP 403. */
export class BelowMinimumStakeError extends LedgerError {
  override readonly name = 'BelowMinimumStakeError';
  constructor(
    readonly node: string,
    readonly bonded: bigint,
    readonly minimum: bigint,
  ) {
    super(
      'below_minimum_stake',
      'forbidden',
      `Node ${node} has ${formatAmount(bonded)} tokens staked; this network requires ${formatAmount(minimum)} to receive work. Run: otensor-cli stake --node ${node} --amount ${formatAmount(minimum - bonded)}`,
    );
  }
}

/** A withdrawal is not pending (already settled or cancelled), or does not exist: HTTP 409 / 404. */
export class WithdrawalStateError extends LedgerError {
  override readonly name = 'WithdrawalStateError';
  constructor(
    readonly withdrawal: string,
    readonly state: string,
  ) {
    super(
      state === 'missing' ? 'withdrawal_not_found' : 'withdrawal_not_pending',
      state === 'missing' ? 'not_found' : 'conflict',
      state === 'missing'
        ? `No withdrawal ${withdrawal}.`
        : state.startsWith('held: ')
          ? `Withdrawal ${withdrawal} is ${state}; the router settles or releases it itself.`
          : `Withdrawal ${withdrawal} is ${state}, not pending.`,
    );
  }
}

/** Minting is for test networks only: HTTP 403. */
export class MintDisabledError extends LedgerError {
  override readonly name = 'MintDisabledError';
  constructor() {
    super(
      'mint_disabled',
      'forbidden',
      'Minting is disabled on this network (it is allowed on test networks only).',
    );
  }
}

/** An epoch closed out of order (not the current one, nor one already closed): HTTP 409. */
export class EpochStateError extends LedgerError {
  override readonly name = 'EpochStateError';
  constructor(
    readonly epoch: number,
    readonly current: number,
  ) {
    super(
      'epoch_not_current',
      'conflict',
      `Epoch ${epoch} cannot be closed: the current epoch is ${current}.`,
    );
  }
}

/** A booking broke a ledger rule that callers cannot cause (a bug): HTTP 500. */
export class LedgerInvariantError extends LedgerError {
  override readonly name = 'LedgerInvariantError';
  constructor(message: string) {
    super('ledger_invariant', 'internal', message);
  }
}

/**
 * The ledger: double-entry token accounts for the router (issue 5). docs/ledger.md has the accounts, reasons,
 * formulas, rounding and idempotency keys. How a router uses it:
 *
 * ```ts
 * const db = openDatabase(dataDir);
 * const ledger = new Ledger({ store: new LedgerStore(db), config: { feePpm: parsePpm(config.fee), ... } });
 * ledger.genesis(config.genesis);                       // once; later starts return the first booking
 *
 * // A session: escrow its budget (402 InsufficientFundsError when the balance falls short).
 * ledger.escrows.open({ session: 'sess_1', owner: address, budget, expiresAt });
 * // Admission, before any node works: hold the most the task can cost (402 EscrowExhaustedError).
 * ledger.escrows.hold({ session, hold: task.id, amount: quote(price, promptTokens, maxTokens) });
 * // The verified result: charge what it used, once per key, however often the result arrives.
 * ledger.escrows.charge({ session, key: `task:${id}:payment`, payee: nodeWallet, inputTokens, outputTokens,
 *   price, hold: task.id });
 * ledger.escrows.release(session, task.id);             // the task failed: nothing charged
 * ledger.escrows.close(session);                        // or `expire(now)` on a timer: the rest goes back
 *
 * // A failed verdict: slash the cheater (validator's share + treasury), once per task.
 * ledger.staking.slash({ node, key: `task:${id}:slash`, validator });
 * // Epoch rewards, on a timer or by command, with what the router measured per node:
 * if (ledger.epochs.due()) ledger.epochs.close({ epoch: ledger.epochs.current().epoch, nodes: measured });
 * ```
 *
 * Group commit: every call checks and applies at once (the next call sees it) and returns synchronously; the
 * bookings of one event-loop turn are committed together in one transaction at the end of the turn. Answer a
 * client only after `await ledger.sync()`; call `ledger.flush()` inside your own transaction (e.g. TaskStore's
 * `also`) to commit bookings atomically with it (if that transaction then rolls back, call `ledger.reload()`).
 * About once a second (`checkpointMs`) a commit also brings the
 * account histories and the balance cache up to date; `close()` does too (call it before closing the
 * database). A crash loses only the uncommitted turn, and every booking has an idempotency key, so redoing
 * the work after a restart books it exactly once: on start, charge again the tasks whose results were
 * accepted (`ledger.entry(key)` tells what is booked; a booked key returns `duplicate: true`).
 *
 * Timers the router runs: `escrows.expire()`, `staking.release()`, and `epochs.close(...)` when
 * `epochs.due()`. `otensor-cli ledger verify --data DIR` is `verifyLedger(new LedgerStore(openDatabase(DIR)))`.
 *
 * Errors (all OmniError with `code` and an HTTP `status`): InsufficientFundsError and EscrowExhaustedError
 * 402; EscrowClosedError, EscrowExistsError, InsufficientStakeError, WithdrawalStateError, EpochStateError 409;
 * StakeOwnerError, BelowMinimumStakeError, MintDisabledError 403; InvalidAmountError 400.
 */
export {
  accountKind,
  BURN,
  escrowAccount,
  GENESIS,
  isIssuance,
  MINT,
  normalizeAddress,
  REWARDS,
  stakeAccount,
  TREASURY,
  unbondingAccount,
  WITHDRAWALS,
} from './accounts.js';
export {
  checkAmount,
  DECIMALS,
  formatAmount,
  formatPpm,
  InvalidAmountError,
  ONE_TOKEN,
  PPM,
  parseAmount,
  parseJsonAmount,
  parsePpm,
} from './amount.js';
export {
  defaultLedgerConfig,
  type LedgerConfig,
  type LedgerConfigInput,
  type RewardConfig,
  type RewardFormula,
  resolveLedgerConfig,
} from './config.js';
export type { Booking, EntryReason } from './core.js';
export { type EpochReport, Epochs, type RewardReport } from './epochs.js';
export {
  BelowMinimumStakeError,
  EpochStateError,
  EscrowClosedError,
  EscrowExhaustedError,
  EscrowExistsError,
  InsufficientFundsError,
  InsufficientStakeError,
  LedgerError,
  LedgerInvariantError,
  MintDisabledError,
  StakeOwnerError,
  WithdrawalStateError,
} from './errors.js';
export {
  type ChargeParameters,
  type ChargeResult,
  Escrows,
  type EscrowView,
  type OpenEscrowParameters,
  quote,
  type TokenPrice,
} from './escrow.js';
export {
  consistencyPpm,
  epochRewards,
  type FormulaResult,
  median,
  type NodeEpochInput,
  omniTensorReward,
  tensorChainReward,
} from './formulas.js';
export { type AccountSummary, Ledger, type LedgerInit } from './ledger.js';
export { type SlashResult, type StakeView, Staking } from './staking.js';
export { type VerifyReport, verifyLedger } from './verify.js';
export { Withdrawals } from './withdrawals.js';

import { PaymentRequiredError } from '../../protocol/index.js';

export { checkReserve, tokenBounds } from './payment-quote.js';

import {
  EscrowExhaustedError,
  type EscrowView,
  formatAmount,
  InsufficientFundsError,
  type Ledger,
  quote,
  type TokenPrice,
} from '../../ledger/index.js';
import type {
  KeyStore,
  ModelRecord,
  ModelStore,
  NodeStore,
  PaymentStore,
  ResultRecord,
  TaskPaymentRecord,
  TaskRecord,
  TaskStore,
  VerdictStore,
} from '../../store/index.js';
import { isSlash, type VerdictEvent } from '../../verify/index.js';
import { type LedgerSettings, priceOf } from '../ledger-config.js';
import type { Logger } from '../log.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import { checkReserve, tokenBounds, tokensWithin } from './payment-quote.js';
import { writePayment } from './payment-state.js';
import type { Scheduler } from './scheduler.js';
import type { SubmitRequest, TaskHandle } from './task-manager.js';
import { type CheckedCounts, countedTokens, type TokenCounts } from './token-counts.js';

export type PaymentsComponents = {
  ledger: Ledger;
  store: PaymentStore;
  keys: KeyStore;
  tasks: TaskStore;
  scheduler: Scheduler;
  nodes: NodeStore;
  verdicts: VerdictStore;
  log: Logger;
  /** Models' context lengths, for the bound on prompt tokens (without it the bound ignores the context). */
  models?: Pick<ModelStore, 'resolve'>;
  /** Told of each slash booked (again after a restart, too): a linked chain slashes the node's stake there. */
  onSlash?: (slash: { key: string; node: string }) => void;
};

/** A check task's work for the task it checked: paid only if that attempt's result is the one accepted. */
type CheckWork = { attempt: number; nodeId: string; inputTokens: number; outputTokens: number };
type Pending = TaskPaymentRecord & { checks: CheckWork[]; failed: Set<string> };

/**
 * Paying for work (seed 004: the router verifies payment before processing). At admission a task holds the
 * most it can cost in escrow: in its session's budget, or in an escrow opened from the account's balance for
 * this task alone (402 when either falls short, before any node works on it). When its result is accepted
 * (after its check passed) the tokens used are charged at the model's price under `task:<id>:payment`, the fee
 * to the treasury and the rest to the node's payout wallet; validators are paid for the checks of that attempt
 * under `task:<id>:check:<validator>`. A failed verdict pays nothing for that attempt and slashes the node.
 */
export class Payments {
  readonly #c: PaymentsComponents;
  readonly #settings: LedgerSettings;
  readonly #pending = new Map<string, Pending>();
  /** key id -> its account (null: a key from before accounts); keys never change account. */
  readonly #accounts = new Map<string, string | null>();
  /** session id -> whether it has a budget escrow. */
  readonly #budgets = new Map<string, boolean>();
  readonly #wallets = new Map<string, string>();
  readonly #contextLengths = new Map<string, number>();
  #settled: string[] = [];
  #settling = false;

  constructor(components: PaymentsComponents, settings: LedgerSettings) {
    this.#c = components;
    this.#settings = settings;
  }

  /** The model's price per token. */
  price(model: Pick<ModelRecord, 'name' | 'sha256'>): TokenPrice {
    return priceOf(this.#settings, model);
  }

  /** Where a node's earnings go: the payout wallet it named, else its own id. */
  wallet(nodeId: string): string {
    const id = nodeId.toLowerCase();
    const known = this.#c.scheduler.walletOf(nodeId) ?? this.#wallets.get(id);
    if (known) return known.toLowerCase();
    const wallet = (this.#c.nodes.get(id)?.wallet ?? id).toLowerCase();
    this.#wallets.set(id, wallet);
    return wallet;
  }

  /** Remembers a node's payout wallet (from its hello), for when it has disconnected. */
  rememberWallet(nodeId: string, wallet: string | null | undefined): void {
    if (wallet) this.#wallets.set(nodeId.toLowerCase(), wallet.toLowerCase());
  }

  /** Escrows `budget` from the account for a session (402 when the balance falls short). */
  openBudget(session: string, account: string, budget: bigint): EscrowView {
    const opened = this.#c.ledger.escrows.open({
      session,
      owner: account,
      budget,
      expiresAt: Date.now() + this.#settings.sessionTtlMs,
    });
    this.#budgets.set(session, true);
    return opened.escrow;
  }

  /** A session's budget escrow, if it has one. */
  budget(session: string): EscrowView | undefined {
    return this.#c.ledger.escrows.get(session);
  }

  /** Admission: holds the task's most cost in escrow, or throws 402. Free models and checks pass through. */
  admit(record: TaskRecord, request: SubmitRequest): void {
    if (request.placement?.check || record.idempotencyKey?.startsWith(CHECK_KEY_PREFIX)) return;
    const price = this.price(request.model);
    if (price.input === 0n && price.output === 0n) return;
    const account = this.#accountOf(record.keyId);
    const name = request.model.name;
    if (!account)
      throw new PaymentRequiredError(
        `The model '${name}' costs ${formatAmount(price.input)} tokens per input token and ${formatAmount(price.output)} per output token, but this API key has no account to pay from. Create a key with \`otensor-cli keys create --account ADDRESS\`, or log in with your wallet.`,
        'no_account',
      );
    const bounds = tokenBounds(record.input, request.model.contextLength);
    const taskCost = quote(price, bounds.prompt, bounds.output);
    const checks = checkReserve(request.validation, record.input.kind);
    const held = taskCost * BigInt(1 + checks);
    const ledger = this.#c.ledger;
    let escrow: string;
    let perTask = false;
    if (record.sessionId && this.#hasBudget(record.sessionId)) {
      escrow = record.sessionId;
      ledger.escrows.hold({ session: escrow, hold: record.id, amount: held });
    } else {
      escrow = record.sessionId ? `${record.sessionId}.${record.id}` : record.id;
      perTask = true;
      const balance = ledger.balance(account);
      if (balance < held) {
        const what =
          checks > 0
            ? `${formatAmount(taskCost)} for the task (up to ${bounds.prompt} input and ${bounds.output} output tokens) and as much for each of up to ${checks} checks of its result`
            : `up to ${bounds.prompt} input and ${bounds.output} output tokens`;
        throw new PaymentRequiredError(
          `This request may cost up to ${formatAmount(held)} tokens (${what}, at ${formatAmount(price.input)}/${formatAmount(price.output)} per input/output token of '${name}'), but account ${account} has ${formatAmount(balance)}. Lower max_tokens${checks > 0 ? ", ask for validation 'none'" : ''}, or add funds.`,
        );
      }
      ledger.escrows.open({ session: escrow, owner: account, budget: held, key: `escrow:${escrow}:open` });
      ledger.escrows.hold({ session: escrow, hold: record.id, amount: held });
    }
    const payment: TaskPaymentRecord = {
      taskId: record.id,
      escrow,
      perTask,
      account,
      price,
      held,
      createdAt: Date.now(),
    };
    // Written at once, before the ledger's group commit: a crash leaves a row to book or release, never a
    // hold that nothing knows of.
    this.#c.store.insert(payment);
    this.#pending.set(record.id, { ...payment, checks: [], failed: new Set() });
  }

  /** A result was accepted: a check's work is noted for its task; a task's is booked. */
  accepted(result: ResultRecord, handle: TaskHandle | undefined): void {
    const key = handle?.record.idempotencyKey;
    if (key?.startsWith(CHECK_KEY_PREFIX)) {
      // check:<task id>:<attempt>:<n>
      const [taskId, attempt] = key.slice(CHECK_KEY_PREFIX.length).split(':');
      const pending = this.#pending.get(taskId ?? '');
      if (pending && handle) {
        // A check's counts are claims too: bounded by its own input and output, as a task's are.
        const counted = this.#count(handle.record, result, null);
        pending.checks.push({
          attempt: Number(attempt),
          nodeId: result.nodeId.toLowerCase(),
          inputTokens: counted.promptTokens,
          outputTokens: counted.completionTokens,
        });
      }
      return;
    }
    const record = handle?.record ?? this.#c.tasks.get(result.taskId);
    const checked =
      handle?.check.checkedTokens?.attempt === result.attempt ? handle.check.checkedTokens : null;
    const counted = record ? this.#count(record, result, checked) : { promptTokens: 0, completionTokens: 0 };
    if (handle) writePayment.usage(handle.payment, counted);
    const pending = this.#pending.get(result.taskId);
    if (!pending) return;
    const cost = this.#book(pending, result, counted);
    if (handle) writePayment.cost(handle.payment, cost);
  }

  /** The tokens the router pays for: the node's claims within the router's bounds and the check's count. */
  #count(record: TaskRecord, result: ResultRecord, checked: CheckedCounts | null): TokenCounts {
    const contextLength = this.#contextLength(record.modelSha256);
    const counted = countedTokens(record.input, contextLength, result.output, checked);
    const claimed = result.output.scores?.evaluatedTokens ?? result.output.promptTokens;
    if (counted.promptTokens < claimed || counted.completionTokens < result.output.completionTokens)
      this.#c.log('warn', 'node claimed more tokens than the router counts; paying the count', {
        node: result.nodeId,
        task: result.taskId,
        claimed: `${claimed}+${result.output.completionTokens}`,
        counted: `${counted.promptTokens}+${counted.completionTokens}`,
      });
    return counted;
  }

  /**
   * A model's context length. A registered model's is read from the store once (its row's context length is
   * the file's and never changes; the lookup on every accepted result cost the router ~10 us a task in the
   * scheduler bench, 2026-11-30); a model only announced by nodes is looked up each time, as before.
   */
  #contextLength(sha256: string): number {
    const known = this.#contextLengths.get(sha256);
    if (known !== undefined) return known;
    const model = this.#c.models?.resolve(sha256);
    if (!model) return Number.MAX_SAFE_INTEGER;
    if (model.registered) this.#contextLengths.set(sha256, model.contextLength);
    return model.contextLength;
  }

  /** A task ended without a result: its hold goes back. */
  failed(record: TaskRecord): void {
    const pending = this.#pending.get(record.id);
    if (pending) this.#release(pending);
  }

  /** A final verdict: a failed one slashes the node (the validator gets its share) and its attempt earns nothing. */
  verdict(event: Pick<VerdictEvent, 'taskId' | 'attempt' | 'nodeId' | 'validatorId' | 'outcome'>): void {
    if (event.outcome !== 'fail') return;
    const node = event.nodeId.toLowerCase();
    this.#pending.get(event.taskId)?.failed.add(node);
    // The router compared hashes itself ('router'): no validator node to reward, the treasury takes it all.
    const validator = event.validatorId === 'router' ? null : this.wallet(event.validatorId);
    try {
      const key = `task:${event.taskId}:slash:${event.attempt}:${node}`;
      const slash = this.#c.ledger.staking.slash({ node, key, validator, reference: `task:${event.taskId}` });
      this.#c.onSlash?.({ key, node });
      if (!slash.duplicate && slash.amount > 0n)
        this.#c.log('warn', 'node slashed for a failed verdict', {
          node,
          task: event.taskId,
          amount: formatAmount(slash.amount),
          validator: validator ?? 'treasury',
        });
    } catch (error) {
      this.#c.log('error', 'could not slash a node', { node, task: event.taskId, error: String(error) });
    }
  }

  /**
   * After a restart: books the held tasks whose results were accepted, releases those that ended without one
   * (or were never stored), keeps the rest for when they run again, and books again the slashes of recent
   * failed verdicts (their keys make every booking exactly once). Call before the task manager's recover().
   */
  recover(verdictsSince: number): { booked: number; released: number; open: number } {
    const counts = { booked: 0, released: 0, open: 0 };
    for (const row of this.#c.store.unsettled()) {
      const task = this.#c.tasks.get(row.taskId);
      const pending: Pending = { ...row, checks: [], failed: new Set() };
      if (task?.status === 'done') {
        const result = this.#c.tasks.result(row.taskId);
        if (result) {
          this.#ensureHold(pending);
          this.#book(pending, result, this.#count(task, result, null));
          counts.booked++;
          continue;
        }
      }
      if (!task || task.status === 'failed' || task.status === 'done') {
        this.#release(pending);
        counts.released++;
        continue;
      }
      this.#ensureHold(pending);
      this.#pending.set(row.taskId, pending);
      counts.open++;
    }
    for (let at = verdictsSince; ; ) {
      const page = this.#c.verdicts.since(at, 1000);
      for (const v of page) if (isSlash(v)) this.verdict({ ...v, outcome: 'fail' });
      if (page.length < 1000) break;
      at = (page[page.length - 1] as { at: number }).at + 1;
    }
    return counts;
  }

  /** Tasks holding payment now. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  #accountOf(keyId: string): string | null {
    let account = this.#accounts.get(keyId);
    if (account === undefined) {
      account = this.#c.keys.identity(keyId)?.account ?? null;
      this.#accounts.set(keyId, account);
    }
    return account;
  }

  #hasBudget(session: string): boolean {
    let has = this.#budgets.get(session);
    if (has === undefined) {
      has = this.#c.ledger.escrows.get(session) !== undefined;
      this.#budgets.set(session, has);
    }
    return has;
  }

  /** Charges the accepted attempt and its checks, never more than the hold in all; returns what the client paid. */
  #book(pending: Pending, result: ResultRecord, counted: TokenCounts): bigint {
    const { escrow, taskId } = pending;
    const escrows = this.#c.ledger.escrows;
    let cost = 0n;
    const payment = this.#charge(pending, {
      key: `task:${taskId}:payment`,
      payee: this.wallet(result.nodeId),
      node: result.nodeId,
      inputTokens: counted.promptTokens,
      outputTokens: counted.completionTokens,
      hold: taskId,
      left: pending.held,
    });
    cost += payment;
    // The checks of this attempt, per validator; a node that failed its own verdict is paid nothing.
    const perValidator = new Map<string, { input: number; output: number }>();
    for (const check of pending.checks) {
      if (check.attempt !== result.attempt || pending.failed.has(check.nodeId)) continue;
      const sum = perValidator.get(check.nodeId) ?? { input: 0, output: 0 };
      sum.input += check.inputTokens;
      sum.output += check.outputTokens;
      perValidator.set(check.nodeId, sum);
    }
    for (const [validator, tokens] of perValidator) {
      cost += this.#charge(pending, {
        key: `task:${taskId}:check:${validator}`,
        payee: this.wallet(validator),
        node: validator,
        inputTokens: tokens.input,
        outputTokens: tokens.output,
        left: pending.held - cost,
      });
    }
    try {
      escrows.release(escrow, taskId);
      if (pending.perTask) escrows.close(escrow);
    } catch (error) {
      this.#c.log('error', 'could not close a task escrow', { task: taskId, error: String(error) });
    }
    this.#done(taskId);
    return cost;
  }

  /**
   * One charge, cut to what is `left` of the task's hold (logged: counts that do not fit the hold are a
   * node's claim or a bug, never the user's bill); a bound that fell short is topped up from the account,
   * and what cannot be paid is logged.
   */
  #charge(
    pending: Pending,
    p: {
      key: string;
      payee: string;
      node: string;
      inputTokens: number;
      outputTokens: number;
      hold?: string;
      left: bigint;
    },
  ): bigint {
    const escrows = this.#c.ledger.escrows;
    const { node, left, inputTokens, outputTokens, ...rest } = p;
    const tokens = tokensWithin(pending.price, { inputTokens, outputTokens }, left);
    if (tokens.inputTokens !== inputTokens || tokens.outputTokens !== outputTokens)
      this.#c.log('warn', 'charge cut to the hold', {
        node,
        task: pending.taskId,
        key: p.key,
        tokens: `${inputTokens}+${outputTokens}`,
        charged: `${tokens.inputTokens}+${tokens.outputTokens}`,
        held: formatAmount(pending.held),
      });
    const charge = () =>
      escrows.charge({
        session: pending.escrow,
        price: pending.price,
        reference: `task:${pending.taskId}`,
        ...rest,
        ...tokens,
      });
    try {
      return charge().amount;
    } catch (error) {
      if (error instanceof EscrowExhaustedError && pending.perTask) {
        try {
          escrows.topUp({
            session: pending.escrow,
            amount: error.needed - error.available,
            key: `${p.key}:top-up`,
          });
          return charge().amount;
        } catch (again) {
          if (!(again instanceof InsufficientFundsError)) throw again;
        }
      }
      this.#c.log('error', 'could not charge for work', {
        task: pending.taskId,
        key: p.key,
        error: error instanceof Error ? error.message : String(error),
      });
      return 0n;
    }
  }

  #release(pending: Pending): void {
    try {
      this.#c.ledger.escrows.release(pending.escrow, pending.taskId);
      if (pending.perTask && this.#c.ledger.escrows.get(pending.escrow))
        this.#c.ledger.escrows.close(pending.escrow);
    } catch (error) {
      this.#c.log('error', 'could not release a task hold', { task: pending.taskId, error: String(error) });
    }
    this.#done(pending.taskId);
  }

  /** After a restart the ledger may have lost the hold's uncommitted turn: place it again (best effort). */
  #ensureHold(pending: Pending): void {
    const escrows = this.#c.ledger.escrows;
    try {
      const view = escrows.get(pending.escrow);
      if (!view && pending.perTask) {
        escrows.open({ session: pending.escrow, owner: pending.account, budget: pending.held });
      } else if (view?.status !== 'open') return;
      escrows.hold({ session: pending.escrow, hold: pending.taskId, amount: pending.held });
    } catch (error) {
      this.#c.log('warn', 'could not hold payment again after a restart', {
        task: pending.taskId,
        error: String(error),
      });
    }
  }

  /** Marks the task's payment settled once the ledger has committed its bookings. */
  #done(taskId: string): void {
    this.#pending.delete(taskId);
    this.#settled.push(taskId);
    if (this.#settling) return;
    this.#settling = true;
    this.#c.ledger.sync().then(
      () => {
        this.#settling = false;
        this.#settle();
      },
      (error: unknown) => {
        // Left unsettled: the next start books them again, exactly once by their keys.
        this.#settling = false;
        this.#settled = [];
        this.#c.log('error', 'ledger commit failed; payments will be booked again at start', {
          error: String(error),
        });
      },
    );
  }

  #settle(): void {
    const ids = this.#settled;
    this.#settled = [];
    try {
      this.#c.store.settle(ids);
    } catch (error) {
      this.#c.log('warn', 'could not mark payments settled; the next start checks them again', {
        error: String(error),
      });
    }
  }

  /** Marks what the ledger has committed; call after `ledger.close()` and before closing the database. */
  close(): void {
    this.#settle();
  }
}

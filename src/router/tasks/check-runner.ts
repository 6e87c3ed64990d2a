import { type TaskInput, VerificationUnavailableError } from '../../protocol/index.js';
import type { ModelStore, ResultRecord } from '../../store/index.js';
import { checkerPool, type ReputationRecord, related, type ValidatorJudgment } from '../../verify/index.js';
import { CheckerSet, type Checkers, PinnedChecker } from './checker-set.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import type { Lease, Scheduler } from './scheduler.js';
import type { Placement, TaskHandle, TaskManager } from './task-manager.js';

/** A node, the payout wallet it counts under, and the network it connects from (null: not comparable). */
export type Party = { nodeId: string; wallet: string; addressGroup: string | null };
export type CheckRole = 'worker' | 'validator';

/**
 * Engine tokens spent on checks, for the verification-cost figure; `streamChecks`/`streamTokens` are the
 * chunk checks of likelihood streams (score tasks and tokens evaluated), beyond the whole-answer check.
 */
export type CheckCost = {
  checkTasks: number;
  checkTokens: number;
  streamChecks: number;
  streamTokens: number;
};

/** Long enough for a validator to restart; short enough that a client's request does not hang. */
export const DEFAULT_CHECK_WAIT_MS = 30_000;

export type CheckRunnerInit = {
  tasks: TaskManager;
  scheduler: Scheduler;
  models: ModelStore;
  /** A node's bonded stake (smallest unit): checkers are drawn in proportion to it. Default: none staked. */
  stakeOf?: ((nodeId: string) => bigint) | undefined;
  /** How long a check may wait for a node that can make it; DEFAULT_CHECK_WAIT_MS. */
  checkWaitMs?: number | undefined;
  /** A node's reputation for a model: checkers with a clean record are preferred. */
  recordOf: (nodeId: string, modelSha256: string) => ReputationRecord;
};

/**
 * Runs check tasks for the judgments: each goes, as an ordinary task, to a node independent of every party
 * it checks (node, wallet, network), drawn by stake, and ends with 503 once no connected node could take it
 * for `checkWaitMs`. It alone counts what checks cost.
 */
export class CheckRunner {
  readonly #init: CheckRunnerInit;
  readonly #cost: CheckCost = { checkTasks: 0, checkTokens: 0, streamChecks: 0, streamTokens: 0 };

  constructor(init: CheckRunnerInit) {
    this.#init = init;
  }

  /** What checks have cost so far (read only: `spent` and `spentOnStream` add to it). */
  get cost(): Readonly<CheckCost> {
    return this.#cost;
  }

  /** Engine tokens a whole-answer check evaluated. */
  spent(tokens: number): void {
    this.#cost.checkTokens += tokens;
  }

  /** One chunk check of a likelihood stream and the tokens it evaluated. */
  spentOnStream(tokens: number): void {
    this.#cost.streamChecks++;
    this.#cost.streamTokens += tokens;
  }

  /** Runs one check task and waits for its result. */
  async run(
    handle: TaskHandle,
    lease: Lease,
    role: CheckRole,
    avoid: readonly Party[],
    input: TaskInput,
    idempotencyKey?: string,
    watch?: (check: TaskHandle) => void,
    /** Only this node may take it (a verified stream's validator, which holds its session's context). */
    pin?: string,
  ): Promise<ResultRecord> {
    const model = this.#init.models.resolve(lease.task.modelSha256);
    if (!model) throw new Error(`model ${lease.task.modelSha256} is no longer registered`);
    const sha = lease.task.modelSha256;
    const drawn = this.#checkers(role, sha, avoid);
    if (pin !== undefined) {
      // Still a checker of this work (connected, unrelated to `avoid`), and no other node in its place.
      const stake = drawn.get(pin);
      if (stake === undefined) throw new Error(`validator ${pin} can no longer take this check`);
      let checkId: string | undefined;
      const pinned = new PinnedChecker(pin, stake, () => {
        if (checkId)
          this.#init.tasks.abandon(checkId, `validator ${pin} let its lease of a pinned check lapse`);
      });
      const watchPinned = (check: TaskHandle) => {
        checkId = check.record.id;
        watch?.(check);
      };
      return this.#submit(handle, lease, role, avoid, input, idempotencyKey, watchPinned, pinned);
    }
    // A checker that fails the check is passed over; when none is left the set is drawn again without them.
    const checkers =
      drawn.size > 0
        ? new CheckerSet(drawn, (passedOver) => this.#checkers(role, sha, avoid, passedOver))
        : undefined;
    return this.#submit(handle, lease, role, avoid, input, idempotencyKey, watch, checkers);
  }

  /**
   * A second validator's judgment, from a validator outside `avoid`; null when no such validator is
   * connected or none came within the wait (then the first fail is not confirmed and blames nobody).
   */
  async second<E>(
    lease: Lease,
    avoid: readonly Party[],
    judge: (avoid: readonly Party[]) => Promise<ValidatorJudgment<E>>,
  ): Promise<ValidatorJudgment<E> | null> {
    if (!this.eligible('validator', lease.task.modelSha256, avoid)) return null;
    try {
      return await judge(avoid);
    } catch (error) {
      if (error instanceof VerificationUnavailableError) return null;
      throw error;
    }
  }

  /** Whether a connected node in `role` is unrelated to `avoid` (node, wallet, network) and among `checkers`. */
  eligible(role: CheckRole, modelSha256: string, avoid: readonly Party[], checkers?: Checkers): boolean {
    return this.parties(role, modelSha256).some(
      (n) => avoid.every((p) => !related(n, p)) && (!checkers || checkers.has(n.nodeId)),
    );
  }

  /** The connected nodes in `role` holding the model, each with its party wallet. */
  parties(role: CheckRole, modelSha256: string): Party[] {
    return this.#init.scheduler.members(role, modelSha256).map((n) => ({
      nodeId: n.nodeId,
      wallet: n.wallet ?? `node:${n.nodeId.toLowerCase()}`,
      addressGroup: n.addressGroup,
    }));
  }

  /** A node and its payout wallet; a node that named none stands for itself alone. */
  party(nodeId: string): Party {
    return {
      nodeId,
      wallet: this.#init.scheduler.walletOf(nodeId) ?? `node:${nodeId.toLowerCase()}`,
      addressGroup: this.#init.scheduler.addressGroupOf(nodeId),
    };
  }

  #submit(
    handle: TaskHandle,
    lease: Lease,
    role: CheckRole,
    avoid: readonly Party[],
    input: TaskInput,
    idempotencyKey: string | undefined,
    watch: ((check: TaskHandle) => void) | undefined,
    checkers: Checkers | undefined,
  ): Promise<ResultRecord> {
    const model = this.#init.models.resolve(lease.task.modelSha256);
    if (!model) throw new Error(`model ${lease.task.modelSha256} is no longer registered`);
    const placement: Placement = {
      role,
      check: true,
      avoid: {
        nodes: new Set(avoid.map((w) => w.nodeId)),
        wallets: new Set(avoid.map((w) => w.wallet).filter((w) => !w.startsWith('node:'))),
        groups: new Set(avoid.flatMap((w) => (w.addressGroup ? [w.addressGroup] : []))),
      },
      ...(checkers ? { checkers } : {}),
    };
    this.#cost.checkTasks++;
    const check = this.#init.tasks.submit({
      keyId: handle.record.keyId,
      sessionId: null,
      idempotencyKey:
        idempotencyKey ?? `${CHECK_KEY_PREFIX}${handle.record.id}:${lease.attempt}:${this.#cost.checkTasks}`,
      model,
      input,
      placement,
    });
    watch?.(check);
    return this.#bounded(check, role, lease.task.modelSha256, avoid, checkers);
  }

  /**
   * Who may take a check of work done by `avoid` (the worker first), with their stake: nodes unrelated to
   * every one of them (node, wallet, network), those with a clean record when any is connected
   * (src/verify checkerPool). The scheduler draws among them by stake.
   */
  #checkers(
    role: CheckRole,
    modelSha256: string,
    avoid: readonly Party[],
    passedOver: ReadonlySet<string> = new Set(),
  ): Map<string, bigint> {
    const connected = this.parties(role, modelSha256).filter((p) => !passedOver.has(p.nodeId));
    // Nodes kept from work after missing a lease are drawn only when nobody else is there.
    const taking = connected.filter((p) => !this.#init.scheduler.isBackedOff(p.nodeId));
    const parties = taking.length > 0 ? taking : connected;
    const candidates = parties.map((p) => ({
      ...p,
      stake: this.#init.stakeOf?.(p.nodeId) ?? 0n,
      record: this.#init.recordOf(p.nodeId, modelSha256),
    }));
    const pool = checkerPool(candidates, avoid);
    return new Map(pool.map((c) => [c.nodeId, c.stake]));
  }

  /**
   * A check task's result, or VerificationUnavailableError once it has waited `checkWaitMs` while no
   * connected node could take it (its validator left, say). While some node could, it waits on as any
   * queued task does: the network is busy, not missing a role.
   */
  #bounded(
    check: TaskHandle,
    role: CheckRole,
    modelSha256: string,
    avoid: readonly Party[],
    checkers?: Checkers,
  ): Promise<ResultRecord> {
    const waitMs = this.#init.checkWaitMs ?? DEFAULT_CHECK_WAIT_MS;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const expire = () => {
        const id = check.record.id;
        if (this.#init.scheduler.lease(id) || this.eligible(role, modelSha256, avoid, checkers)) {
          timer = setTimeout(expire, waitMs).unref();
          return;
        }
        const who = role === 'validator' ? 'a validator node' : 'another independent worker';
        const error = new VerificationUnavailableError(
          `validation: the check waited ${Math.round(waitMs / 1000)} s for ${who} independent of the nodes it checks; none connected could take it`,
        );
        reject(error);
        this.#init.tasks.abandon(id, error.message);
      };
      timer = setTimeout(expire, waitMs).unref();
      check.result.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

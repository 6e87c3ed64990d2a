import { randomBytes, randomFillSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  HTTP_ERRORS,
  OmniError,
  StoredError,
  TaskFailedError,
  type TaskInput,
  type ValidationLevel,
  VerificationUnavailableError,
} from '../../protocol/index.js';
import type { ModelRecord, ResultRecord, TaskRecord, TaskStore } from '../../store/index.js';
import { mark } from '../../timing/marks.js';
import type { Logger } from '../log.js';
import { CheckState } from './check-state.js';
import type { Checkers } from './checker-set.js';
import { assertSameTaskRequest, CHECK_KEY_PREFIX, CLIENT_KEY_PREFIX } from './idempotency.js';
import { CONFIRM_WAIT_MS, clientErrorFromNode, nodeReason } from './node-errors.js';
import { PaymentState } from './payment-state.js';
import type { Lease, NodeRole, QueuedTask, Scheduler } from './scheduler.js';

/** Where a task may run: checks go to validators, and never to the node or wallet whose work they check. */
export type Placement = {
  role?: NodeRole;
  avoid?: { nodes: Set<string>; wallets: Set<string>; groups?: Set<string> };
  /** The task checks another task's result: it is not itself checked. */
  check?: boolean;
  /** A check's checkers and their stake: it goes to one of them, drawn by stake (see QueuedTask). */
  checkers?: Checkers;
};

/** How the result a client got was checked. */
export type { Validation } from './check-state.js';

/** Decides and runs result checks (src/router/verification.ts); the task manager holds results meanwhile. */
export type Reviewer<Plan = unknown> = {
  /** The check this attempt will get (null: none), decided when it is leased; the node never learns it. */
  plan(handle: TaskHandle, lease: Lease): Plan | null;
  /**
   * Checks a held result; resolves pass, fail (run it again elsewhere) or an error that ends the task (the
   * check cannot be made); never rejects. Writes `handle.check` on pass.
   */
  review(
    handle: TaskHandle,
    plan: Plan,
    result: ResultRecord,
    lease: Lease,
  ): Promise<'pass' | 'fail' | OmniError>;
  /** Says on `handle` how a finished task's stored answer was checked (an answer sent again from the store). */
  restore(handle: TaskHandle, record: TaskRecord, result: ResultRecord): void;
  /**
   * The attempt under check streamed more text (`handle.attemptText`): the reviewer may release the part
   * independent nodes agree on through `TaskManager.release` (src/router/tasks/stream-release.ts).
   */
  streamed?(handle: TaskHandle, plan: Plan): void;
};

/**
 * What the ledger hears of tasks (src/router/payments.ts, src/router/epoch-meter.ts): admission before a task is
 * stored, then how it ended.
 */
export type TaskObserver = {
  /** A new task is about to be stored and queued; throwing refuses it (nothing is stored, no node sees it). */
  admit?(record: TaskRecord, request: SubmitRequest): void;
  /** A result was accepted (after its check passed, if it had one) and committed. */
  accepted?(result: ResultRecord, handle: TaskHandle | undefined): void;
  /** A task ended without a result. */
  failed?(record: TaskRecord, error: OmniError): void;
};

/** Everything a client waiting on a task hears: streamed text, then the result or an error. */
export type TaskEvents = {
  text: [text: string];
  /** A node took the task (each attempt); checks read it to keep their replicas on independent nodes. */
  leased: [nodeId: string];
  done: [result: ResultRecord];
  error: [error: OmniError];
};

/**
 * A task in flight, as the API sees it. One writer per field: the task manager owns the lifecycle fields
 * below (attempts, streamed text, placement, timing); `check` belongs to verification and `payment` to
 * payments, each a class whose setters only its owner's module can reach. Everyone else reads.
 */
export class TaskHandle extends EventEmitter<TaskEvents> {
  /** Text already streamed to listeners; a retried attempt only streams what goes beyond it. */
  delivered = '';
  /** Text the current attempt has streamed so far. */
  attemptText = '';
  attempt = 0;
  placement: Placement = {};
  /** The check planned for the current attempt; while set, its text is held until the check passes. */
  plan: unknown = null;
  /** When the current attempt was leased, and when its result arrived (ms): the node's speed. */
  startedAt = 0;
  resultAt = 0;
  /** The node whose final error awaits confirmation by a second, independent node (null: none). */
  unconfirmed: string | null = null;
  /** How the answer was checked: verification alone writes it (src/router/tasks/verification.ts). */
  readonly check = new CheckState();
  /** What the client was charged: payments alone writes it (src/router/tasks/payments.ts). */
  readonly payment = new PaymentState();
  readonly result: Promise<ResultRecord>;
  #resolve!: (r: ResultRecord) => void;
  #reject!: (e: OmniError) => void;

  constructor(readonly record: TaskRecord) {
    super();
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Listeners are optional; an unobserved failure must not crash the router.
    this.result.catch(() => {});
  }

  settle(result: ResultRecord): void {
    this.emit('done', result);
    this.#resolve(result);
  }

  fail(error: OmniError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#reject(error);
  }
}

export type SubmitRequest = {
  keyId: string;
  sessionId: string | null;
  idempotencyKey: string | null;
  /** With a client's key: the sha256 of its request, so the key sent with another request is refused. */
  requestSha256?: string;
  model: ModelRecord;
  input: TaskInput;
  placement?: Placement;
  /** The validation level asked for; stored with the task, so it survives a restart. Default: auto. */
  validation?: ValidationLevel | undefined;
};

// Ids: time, then 128 random bits. A task id names a task to anyone who holds it (its answer, its checks'
// bills), so none may follow from another. Random bytes come from a pool, filled 256 ids at a time.
const idPool = Buffer.alloc(16 * 256);
let idOffset = idPool.length;
export const newTaskId = () => {
  if (idOffset >= idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const random = idPool.toString('hex', idOffset, idOffset + 16);
  idOffset += 16;
  return `task_${Date.now().toString(36)}${random}`;
};

/**
 * Owns the life of tasks: writes each to the store before queueing it (so a crash loses none), feeds the
 * scheduler, and turns node messages into client events. Results are accepted once per task.
 */
export class TaskManager {
  readonly #handles = new Map<string, TaskHandle>();
  /** Tasks accepted whose insert has not committed yet; they count against the queue limit. */
  #uncommitted = 0;
  #reviewer: Reviewer | null = null;
  readonly #observers: TaskObserver[] = [];

  readonly #log: Logger;
  #stopped = false;

  constructor(
    readonly store: TaskStore,
    readonly scheduler: Scheduler,
    log: Logger = () => {},
  ) {
    this.#log = log;
  }

  /**
   * The router is closing: checks and timers that finish after this change nothing (the store is about to
   * close; unfinished tasks stay open in it and run again at the next start).
   */
  stop(): void {
    this.#stopped = true;
  }

  /** Tasks waiting for a node, counting those accepted but not yet committed (group commit). */
  get waiting(): number {
    return this.scheduler.queuedCount + this.#uncommitted;
  }

  get inFlight(): number {
    return this.#handles.size;
  }

  /** Results are checked by this reviewer from now on (set once, after both are built). */
  setReviewer(reviewer: Reviewer): void {
    this.#reviewer = reviewer;
  }

  /** Adds an observer of admissions and task ends (the ledger and its epoch meter). */
  observe(observer: TaskObserver): void {
    this.#observers.push(observer);
  }

  handle(taskId: string): TaskHandle | undefined {
    return this.#handles.get(taskId);
  }

  /**
   * Accepts a task, or finds the one already accepted under the same idempotency key: a finished one
   * answers from the store without running again; an open one is joined.
   */
  submit(request: SubmitRequest): TaskHandle {
    if (request.idempotencyKey) {
      const existing = this.store.byIdempotencyKey(request.keyId, request.idempotencyKey);
      if (existing) {
        assertSameTaskRequest(existing, request.requestSha256);
        if (!mayRunAgain(existing)) return this.#existing(existing);
        // It ended with "retry when ...": a retry under the same key would otherwise get that answer forever.
        this.store.releaseIdempotencyKey(existing.id);
      }
    }
    const record: TaskRecord = {
      id: newTaskId(),
      keyId: request.keyId,
      sessionId: request.sessionId,
      idempotencyKey: request.idempotencyKey,
      ...(request.requestSha256 === undefined ? {} : { requestSha256: request.requestSha256 }),
      modelSha256: request.model.sha256,
      modelName: request.model.name,
      input: withSeed(request.input),
      status: 'queued',
      attempts: 0,
      nodeId: null,
      error: null,
      createdAt: Date.now(),
      validation: request.validation ?? null,
    };
    // A full queue refuses with 429 before anything is stored: a refused task was never accepted. A check of
    // an accepted task is not refused: there are a few per accepted task at most, and refusing one only ran the
    // checked task again (after a restart, the recovered tasks alone can fill a small queue).
    if (!request.placement?.check) this.scheduler.assertRoom(this.#uncommitted);
    // Admission (payment) comes after the queue check and before anything is stored: a refused task never was.
    for (const observer of this.#observers) observer.admit?.(record, request);
    const handle = new TaskHandle(record);
    handle.placement = request.placement ?? {};
    this.#handles.set(record.id, handle);
    this.#uncommitted++;
    // Group commit: the task reaches the scheduler (and a node) only once its row is committed.
    mark('r.submit');
    this.store.insertSoon(record, (error) => {
      mark('r.committed');
      this.#uncommitted--;
      if (error) {
        this.#handles.delete(record.id);
        const failure = new OmniError(
          'store_failed',
          `Task ${record.id} could not be stored: ${error.message}`,
        );
        this.#notify((o) => o.failed?.(record, failure));
        handle.fail(failure);
        return;
      }
      if (this.#handles.get(record.id) === handle) this.scheduler.enqueue(queued(record, handle.placement));
    });
    return handle;
  }

  /** After a restart: queue again every task that was accepted but not finished. */
  recover(): number {
    const open = this.store.open();
    for (const record of open) {
      if (this.#handles.has(record.id)) continue;
      // A check whose router crashed is moot: the task it checked runs again and gets a new check.
      if (record.idempotencyKey?.startsWith(CHECK_KEY_PREFIX)) {
        this.store.markFailed(record.id, {
          code: 'check_abandoned',
          message: 'router restarted',
          status: 502,
        });
        continue;
      }
      this.store.requeue(record.id);
      this.#handles.set(record.id, new TaskHandle({ ...record, status: 'queued' }));
      this.scheduler.enqueue(queued(record));
    }
    return open.length;
  }

  /** The scheduler gave the task to a node. */
  started(lease: Lease): void {
    const handle = this.#handles.get(lease.task.id);
    if (!handle) return;
    handle.attempt = lease.attempt;
    handle.attemptText = '';
    handle.startedAt = Date.now();
    handle.plan = this.#reviewer?.plan(handle, lease) ?? null;
    handle.emit('leased', lease.nodeId);
  }

  /** Streamed text from the node running the current attempt. */
  text(taskId: string, attempt: number, nodeId: string, text: string): void {
    const handle = this.#handles.get(taskId);
    const lease = this.scheduler.lease(taskId);
    if (!handle || !lease || lease.attempt !== attempt || lease.nodeId !== nodeId) return;
    handle.attemptText += text;
    // A result under check is held back: the client gets verified text or none. The reviewer may release
    // the part independent replicas streamed too (release, below).
    if (handle.plan !== null) {
      this.#reviewer?.streamed?.(handle, handle.plan);
      return;
    }
    // A retry replays the same seed, so its text repeats what was already delivered: pass on only the rest.
    if (handle.attemptText.length <= handle.delivered.length) return;
    if (!handle.attemptText.startsWith(handle.delivered)) {
      this.#fail(
        handle,
        new TaskFailedError(taskId, attempt, 'a retried attempt diverged from text already streamed'),
      );
      return;
    }
    const fresh = handle.attemptText.slice(handle.delivered.length);
    handle.delivered = handle.attemptText;
    handle.emit('text', fresh);
  }

  /**
   * Verification found `text`, a prefix of the current attempt's stream, agreed by enough independent nodes
   * (src/router/tasks/stream-release.ts): the client gets what goes beyond what it already has.
   */
  release(handle: TaskHandle, attempt: number, text: string): void {
    if (this.#handles.get(handle.record.id) !== handle || handle.attempt !== attempt) return;
    if (!handle.attemptText.startsWith(text) || text.length <= handle.delivered.length) return;
    if (!text.startsWith(handle.delivered)) {
      this.#fail(
        handle,
        new TaskFailedError(
          handle.record.id,
          attempt,
          'a checked attempt diverged from text already streamed',
        ),
      );
      return;
    }
    const fresh = text.slice(handle.delivered.length);
    handle.delivered = text;
    handle.emit('text', fresh);
  }

  /** A verified result; false if the task already had one (duplicates are ignored, never paid twice). */
  accept(result: ResultRecord, alsoInTransaction?: () => void): boolean {
    const arrived = this.#handles.get(result.taskId);
    if (arrived) arrived.resultAt = Date.now();
    if (!this.store.complete(result, alsoInTransaction)) return false;
    this.#accepted(result);
    return true;
  }

  /**
   * Like accept, through the store's group commit: `duplicate` runs when the task already had a result. The
   * client hears of the result only after it committed.
   */
  acceptSoon(result: ResultRecord, alsoInTransaction: () => void, duplicate: () => void): void {
    const handle = this.#handles.get(result.taskId);
    if (handle) handle.resultAt = Date.now();
    const lease = this.scheduler.lease(result.taskId);
    const current = lease && lease.nodeId === result.nodeId && lease.attempt === result.attempt;
    if (handle && this.#reviewer && !current) {
      // A result of an attempt that is no longer leased: its check (if it was to have one) is unknown, so it
      // is not taken; the attempt that now holds the task answers instead.
      duplicate();
      return;
    }
    if (handle && lease && handle.plan !== null && this.#reviewer) {
      // Held for checking: the node's nonce moves on and its slot is free, but the result waits.
      alsoInTransaction();
      this.scheduler.complete(result.taskId, result.output.completionTokens);
      this.#reviewer.review(handle, handle.plan, result, lease).then((outcome) => {
        if (this.#handles.get(result.taskId) !== handle) return;
        // Text released while the check ran (agreed by replicas) must begin the answer that passed; only
        // nodes lying together in their streams and results could make them differ. The client then gets an
        // error, never text that did not pass.
        if (outcome === 'pass' && !(result.output.text ?? '').startsWith(handle.delivered))
          this.#fail(
            handle,
            new TaskFailedError(
              result.taskId,
              result.attempt,
              'the checked answer diverged from text already streamed',
            ),
          );
        else if (outcome === 'pass')
          this.#commit(
            result,
            () => {},
            () => {},
          );
        else if (outcome instanceof OmniError) this.#fail(handle, outcome);
        else this.#redo(handle, lease);
      });
      return;
    }
    this.#commit(result, alsoInTransaction, duplicate);
  }

  #commit(result: ResultRecord, alsoInTransaction: () => void, duplicate: () => void): void {
    if (this.#stopped) return;
    this.store.completeSoon(result, alsoInTransaction, (inserted, error) => {
      if (error || !inserted) duplicate();
      else this.#accepted(result);
    });
  }

  #accepted(result: ResultRecord): void {
    mark('r.accepted');
    this.scheduler.complete(result.taskId, result.output.completionTokens);
    const handle = this.#handles.get(result.taskId);
    // Another node ran the task a node said it could not take: that node failed its attempt.
    if (handle?.unconfirmed && handle.unconfirmed !== result.nodeId) this.scheduler.blame(handle.unconfirmed);
    this.#handles.delete(result.taskId);
    // Booked before the client hears of it, so the answer can say what it cost.
    this.#notify((o) => o.accepted?.(result, handle));
    if (handle) {
      const text = result.output.text ?? '';
      if (text.length > handle.delivered.length && text.startsWith(handle.delivered)) {
        handle.emit('text', text.slice(handle.delivered.length));
        handle.delivered = text;
      }
      handle.settle(result);
    }
  }

  /**
   * A node reported that it could not run the task. Only the node holding the lease for that attempt is heard
   * (false otherwise, and nothing changes); its words reach the user only as a bounded, labelled reason.
   */
  nodeError(
    taskId: string,
    nodeId: string,
    error: {
      attempt: number;
      code: string;
      message: string;
      final: boolean;
      promptTokens?: number | undefined;
      contextLength?: number | undefined;
    },
  ): boolean {
    const handle = this.#handles.get(taskId);
    const lease = this.scheduler.lease(taskId);
    if (!handle || !lease || lease.nodeId !== nodeId || lease.attempt !== error.attempt) return false;
    const reason = `node ${nodeId} reported: ${nodeReason(error.message)}`;
    if (!error.final) {
      this.scheduler.fail(taskId, nodeId, reason, false);
      return true;
    }
    this.scheduler.fail(taskId, nodeId, reason, true);
    // The second node's word confirms the first's (the first and its wallet are avoided, so it is another).
    if (handle.unconfirmed) this.#fail(handle, clientErrorFromNode(reason, error, 'confirmed'));
    else this.#confirm(handle, lease, reason, error);
    return true;
  }

  /**
   * A final error ends a task only when a second, independent node (another node and payout wallet) reports
   * one too: a node holding a lease could otherwise answer any request with a 400 of its choosing. The task
   * runs once more elsewhere; with no such node connected (or none by CONFIRM_WAIT_MS), the client gets the
   * first node's error, marked as not confirmed. A prompt too long for the context is confirmed the same way:
   * a node may run the model with a smaller context than its file allows, so the router cannot decide alone.
   */
  #confirm(
    handle: TaskHandle,
    lease: Lease,
    reason: string,
    error: Parameters<typeof clientErrorFromNode>[1],
  ): void {
    const unconfirmed = () => clientErrorFromNode(reason, error, 'unconfirmed');
    handle.unconfirmed = lease.nodeId;
    this.#avoidNode(handle, lease.nodeId);
    handle.plan = null;
    if (!this.#runnable(handle)) {
      this.#fail(handle, unconfirmed());
      return;
    }
    this.#log('info', 'running a task again to confirm a node’s final error', {
      task: handle.record.id,
      node: lease.nodeId,
    });
    const tries = lease.task.tries ?? 1;
    this.scheduler.enqueue({ ...queued(handle.record, handle.placement), attempts: lease.attempt, tries });
    // Bounded: should every independent node leave while the task waits, the first node's error stands.
    const wait = () => {
      const timer = setTimeout(() => {
        if (this.#handles.get(handle.record.id) !== handle) return;
        if (this.scheduler.lease(handle.record.id) || this.#runnable(handle)) wait();
        else this.#fail(handle, unconfirmed());
      }, CONFIRM_WAIT_MS);
      timer.unref();
    };
    wait();
  }

  /** Keeps the task from this node and its payout wallet's other nodes from now on. */
  #avoidNode(handle: TaskHandle, nodeId: string): void {
    const avoid = handle.placement.avoid ?? { nodes: new Set<string>(), wallets: new Set<string>() };
    avoid.nodes.add(nodeId);
    const wallet = this.scheduler.walletOf(nodeId);
    if (wallet) avoid.wallets.add(wallet);
    handle.placement = { ...handle.placement, avoid };
  }

  /** Whether a connected node may still run the task: one in its role, holding its model, not avoided. */
  #runnable(handle: TaskHandle): boolean {
    const avoid = handle.placement.avoid;
    return this.scheduler
      .members(handle.placement.role ?? 'worker', handle.record.modelSha256)
      .some((n) => !avoid?.nodes.has(n.nodeId) && !(n.wallet && avoid?.wallets.has(n.wallet)));
  }

  /** A result failed its check: run the task again elsewhere, never on that node or its wallet. */
  #redo(handle: TaskHandle, lease: Lease): void {
    if (this.#stopped) return;
    const tries = lease.task.tries ?? 1;
    if (tries >= this.scheduler.maxAttempts) {
      this.#fail(
        handle,
        new TaskFailedError(handle.record.id, lease.attempt, 'every attempt failed verification'),
      );
      return;
    }
    this.#avoidNode(handle, lease.nodeId);
    handle.plan = null;
    // With nobody left to run it, the task would wait with no end (and hold its payment): end it now.
    if (!this.#runnable(handle)) {
      this.#fail(
        handle,
        new VerificationUnavailableError(
          `validation: the answer of node ${lease.nodeId} did not pass its check, and no other independent worker (another node and payout wallet) is connected to run the task again`,
          'Retry when one is.',
        ),
      );
      return;
    }
    this.scheduler.enqueue({ ...queued(handle.record, handle.placement), attempts: lease.attempt, tries });
  }

  /** Calls a task off (its batch expired): it leaves the queue or its node, and its waiters get an error. */
  abandon(taskId: string, reason: string): void {
    const handle = this.#handles.get(taskId);
    if (handle) this.#fail(handle, new TaskFailedError(taskId, handle.record.attempts, reason));
  }

  /** The scheduler ran out of attempts. */
  gaveUp(taskId: string, attempts: number, reason: string): void {
    const handle = this.#handles.get(taskId);
    if (handle) this.#fail(handle, new TaskFailedError(taskId, attempts, reason));
  }

  #fail(handle: TaskHandle, error: OmniError): void {
    // A router going down leaves its open tasks in the store as they are: the next start runs them again.
    if (this.#stopped) return;
    this.#handles.delete(handle.record.id);
    this.scheduler.cancel(handle.record.id);
    this.store.markFailed(handle.record.id, {
      code: error.code,
      message: error.message,
      status: HTTP_ERRORS[error.kind].status,
    });
    this.#notify((o) => o.failed?.(handle.record, error));
    handle.fail(error);
  }

  /** Tells the observers; one that throws must not stop the task's end. */
  #notify(call: (observer: TaskObserver) => void): void {
    for (const observer of this.#observers) {
      try {
        call(observer);
      } catch (error) {
        this.#log('error', 'a task observer failed', {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    }
  }

  #existing(record: TaskRecord): TaskHandle {
    const live = this.#handles.get(record.id);
    if (live) return live;
    const handle = new TaskHandle(record);
    const result = record.status === 'done' ? this.store.result(record.id) : undefined;
    // Issue 9: an answer sent again (a client re-sending its Idempotency-Key) says how it was checked, as it did.
    if (result && this.#reviewer) this.#reviewer.restore(handle, record, result);
    queueMicrotask(() => {
      if (result) handle.settle(result);
      else handle.fail(storedError(record));
    });
    return handle;
  }
}

/** A task without a seed gets one now, so every attempt of it samples the same tokens. */
function withSeed(input: TaskInput): TaskInput {
  if (input.kind === 'embedding' || input.kind === 'score' || input.params.seed !== undefined) return input;
  return { ...input, params: { ...input.params, seed: randomBytes(4).readUInt32BE() & 0x7fffffff } };
}

function queued(record: TaskRecord, placement: Placement = {}): QueuedTask {
  const { input } = record;
  // A score reads the output in one pass: size its lease like generating a tenth of it (~4 chars a token).
  const maxTokens =
    input.kind === 'embedding'
      ? 1
      : input.kind === 'score'
        ? Math.ceil(input.output.length / 40) + 1
        : input.params.maxTokens;
  return {
    id: record.id,
    modelSha256: record.modelSha256,
    maxTokens,
    attempts: record.attempts,
    ...(placement.role
      ? { role: placement.role }
      : input.kind === 'score'
        ? { role: 'validator' as const }
        : {}),
    ...(placement.avoid ? { avoid: placement.avoid } : {}),
    ...(placement.checkers ? { checkers: placement.checkers } : {}),
    promptChars: promptChars(input),
  };
}

/** Characters the node evaluates before its first token (the first-piece deadline allows for them). */
function promptChars(input: TaskInput): number {
  switch (input.kind) {
    case 'chat':
      return input.messages.reduce((sum, m) => sum + m.content.length, 0);
    case 'completion':
      return input.prompt.length;
    case 'embedding':
      return input.input.reduce((sum, text) => sum + text.length, 0);
    case 'score': {
      const target = 'prompt' in input.target ? input.target.prompt.length : 0;
      const messages = 'messages' in input.target ? input.target.messages : [];
      return target + messages.reduce((sum, m) => sum + m.content.length, 0) + input.output.length;
    }
  }
}

/**
 * Whether a client's retry under this task's key runs it again as a new task: it failed with a 503 (no node,
 * or no independent worker or checker, was connected then), which tells the client to retry; its hold went back.
 * Any other end (an answer, a refusal for the request itself, a failure on every attempt) is the key's answer.
 */
function mayRunAgain(record: TaskRecord): boolean {
  return (
    record.status === 'failed' &&
    record.error?.status === 503 &&
    record.idempotencyKey?.startsWith(CLIENT_KEY_PREFIX) === true
  );
}

function storedError(record: TaskRecord): OmniError {
  return new StoredError(
    record.error ?? { code: 'task_failed', message: `Task ${record.id} failed.`, status: 502 },
  );
}

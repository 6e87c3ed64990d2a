import {
  formatValidationLevel,
  parseValidationLevel,
  type TaskInput,
  type TaskOutput,
  type ValidationLevel,
} from '../protocol/index.js';
import type { Db } from './database.js';

export type TaskStatus = 'queued' | 'running' | 'done' | 'failed';

export type TaskRecord = {
  id: string;
  keyId: string;
  sessionId: string | null;
  idempotencyKey: string | null;
  /** sha256 of the client's request (method, path, canonical body) made under a client's idempotency key. */
  requestSha256?: string;
  modelSha256: string;
  modelName: string;
  input: TaskInput;
  status: TaskStatus;
  attempts: number;
  nodeId: string | null;
  error: { code: string; message: string; status: number } | null;
  createdAt: number;
  /** The validation level the request asked for; null: the default (`auto`). */
  validation: ValidationLevel | null;
};

export type ResultRecord = {
  taskId: string;
  nodeId: string;
  attempt: number;
  output: TaskOutput;
  outputSha256: string;
  signature: string;
  nonce: string;
};

type TaskRow = {
  id: string;
  key_id: string;
  session_id: string | null;
  idempotency_key: string | null;
  request_sha256: string | null;
  kind: string;
  model_sha256: string;
  model_name: string;
  input: string;
  status: TaskStatus;
  attempts: number;
  node_id: string | null;
  error: string | null;
  created_at: number;
  validation: string | null;
};

const toTask = (r: TaskRow): TaskRecord => ({
  id: r.id,
  keyId: r.key_id,
  sessionId: r.session_id,
  idempotencyKey: r.idempotency_key,
  ...(r.request_sha256 === null ? {} : { requestSha256: r.request_sha256 }),
  modelSha256: r.model_sha256,
  modelName: r.model_name,
  input: JSON.parse(r.input) as TaskInput,
  status: r.status,
  attempts: r.attempts,
  nodeId: r.node_id,
  error: r.error === null ? null : (JSON.parse(r.error) as TaskRecord['error']),
  createdAt: r.created_at,
  validation: r.validation === null ? null : parseValidationLevel(r.validation),
});

type PendingInsert = { record: TaskRecord; done: (error?: Error) => void };
type PendingComplete = {
  result: ResultRecord;
  also: (() => void) | undefined;
  done: (inserted: boolean, error?: Error) => void;
};

/**
 * Tasks and their accepted results. A task is written before it is queued, so a crash never loses it.
 *
 * Group commit: `insertSoon` and `completeSoon` gather writes made in one turn of the event loop and commit
 * them in ONE transaction (setImmediate), then call back; the caller queues a task, or settles a result,
 * only in that callback, after the commit. Reads (`get`, `byIdempotencyKey`) see gathered tasks at once, and
 * every synchronous write commits what is gathered first, so the order of writes is kept.
 */
export class TaskStore {
  readonly #db: Db;
  readonly #pendingInserts = new Map<string, PendingInsert>();
  readonly #pendingByIdempotency = new Map<string, TaskRecord>();
  #pendingCompletes: PendingComplete[] = [];
  #flushScheduled = false;
  /** Transactions committed by flush and the writes they carried, for benchmarks. */
  readonly commits = { transactions: 0, writes: 0 };
  readonly #insert;
  readonly #get;
  readonly #byIdempotency;
  readonly #open;
  readonly #requeue;
  readonly #fail;
  readonly #releaseKey;
  readonly #insertResult;
  readonly #finish;
  readonly #result;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO tasks (id, key_id, session_id, idempotency_key, request_sha256, kind, model_sha256, model_name, input, status, attempts, created_at, validation)
      VALUES (@id, @keyId, @sessionId, @idempotencyKey, @requestSha256, @kind, @modelSha256, @modelName, @input, 'queued', 0, @createdAt, @validation)`);
    this.#get = db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?');
    this.#byIdempotency = db.prepare<[string, string], TaskRow>(
      'SELECT * FROM tasks WHERE key_id = ? AND idempotency_key = ?',
    );
    this.#open = db.prepare<[], TaskRow>(
      "SELECT * FROM tasks WHERE status IN ('queued', 'running') ORDER BY created_at",
    );
    this.#requeue = db.prepare(
      "UPDATE tasks SET status = 'queued', node_id = NULL WHERE id = ? AND status = 'running'",
    );
    this.#fail = db.prepare("UPDATE tasks SET status = 'failed', error = ?, finished_at = ? WHERE id = ?");
    this.#releaseKey = db.prepare(
      "UPDATE tasks SET idempotency_key = idempotency_key || '#failed:' || id WHERE id = ? AND status = 'failed'",
    );
    this.#insertResult = db.prepare(`
      INSERT INTO results (task_id, node_id, attempt, output, output_sha256, signature, nonce, created_at)
      VALUES (@taskId, @nodeId, @attempt, @output, @outputSha256, @signature, @nonce, @createdAt)
      ON CONFLICT(task_id) DO NOTHING`);
    this.#finish = db.prepare(
      "UPDATE tasks SET status = 'done', node_id = ?, attempts = ?, finished_at = ? WHERE id = ? AND status != 'done'",
    );
    this.#result = db.prepare<
      [string],
      {
        task_id: string;
        node_id: string;
        attempt: number;
        output: string;
        output_sha256: string;
        signature: string;
        nonce: string;
      }
    >('SELECT * FROM results WHERE task_id = ?');
  }

  insert(task: TaskRecord): void {
    this.flush();
    this.#insertRow(task);
  }

  /** Gathers a task's insert into the next group commit; `done` runs after it committed (or failed). */
  insertSoon(task: TaskRecord, done: (error?: Error) => void): void {
    this.#pendingInserts.set(task.id, { record: task, done });
    if (task.idempotencyKey) this.#pendingByIdempotency.set(idemKey(task.keyId, task.idempotencyKey), task);
    this.#scheduleFlush();
  }

  /** Gathers a result into the next group commit; `done(inserted)` runs after it committed. */
  completeSoon(
    result: ResultRecord,
    also: (() => void) | undefined,
    done: (inserted: boolean, error?: Error) => void,
  ): void {
    this.#pendingCompletes.push({ result, also, done });
    this.#scheduleFlush();
  }

  /** Commits every gathered write now, in one transaction, and runs their callbacks. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#pendingInserts.size === 0 && this.#pendingCompletes.length === 0) return;
    const inserts = [...this.#pendingInserts.values()];
    const completes = this.#pendingCompletes;
    this.#pendingCompletes = [];
    let outcomes: boolean[] | undefined;
    try {
      outcomes = this.#db.transaction(() => {
        for (const pending of inserts) this.#insertRow(pending.record);
        return completes.map((c) => this.#completeRows(c.result, c.also));
      })();
      this.commits.transactions++;
      this.commits.writes += inserts.length + completes.length;
    } catch {
      // One bad write must not fail the others: fall back to one transaction each.
    }
    this.#pendingInserts.clear();
    this.#pendingByIdempotency.clear();
    if (outcomes) {
      for (const pending of inserts) safely(() => pending.done());
      for (const [i, c] of completes.entries()) safely(() => c.done(outcomes[i] as boolean));
      return;
    }
    for (const pending of inserts) {
      let failure: Error | undefined;
      try {
        this.#db.transaction(() => this.#insertRow(pending.record))();
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      safely(() => pending.done(failure));
    }
    for (const c of completes) {
      let inserted = false;
      let failure: Error | undefined;
      try {
        inserted = this.#db.transaction(() => this.#completeRows(c.result, c.also))();
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      safely(() => c.done(inserted, failure));
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.flush());
  }

  #insertRow(task: TaskRecord): void {
    this.#insert.run({
      ...task,
      requestSha256: task.requestSha256 ?? null,
      kind: task.input.kind,
      input: JSON.stringify(task.input),
      validation: task.validation === null ? null : formatValidationLevel(task.validation),
    });
  }

  get(id: string): TaskRecord | undefined {
    const pending = this.#pendingInserts.get(id);
    if (pending) return pending.record;
    const row = this.#get.get(id);
    return row && toTask(row);
  }

  byIdempotencyKey(keyId: string, idempotencyKey: string): TaskRecord | undefined {
    const pending = this.#pendingByIdempotency.get(idemKey(keyId, idempotencyKey));
    if (pending) return pending;
    const row = this.#byIdempotency.get(keyId, idempotencyKey);
    return row && toTask(row);
  }

  /** Tasks accepted but not finished: after a restart these are queued again. */
  open(): TaskRecord[] {
    this.flush();
    return this.#open.all().map(toTask);
  }

  requeue(id: string): void {
    this.flush();
    this.#requeue.run(id);
  }

  /**
   * Frees the idempotency key of a failed task, so a retry under that key runs as a new task; the failed one
   * keeps its key with `#failed:<id>` appended (still unique, still its account's, never a router key).
   */
  releaseIdempotencyKey(id: string): void {
    this.flush();
    this.#releaseKey.run(id);
  }

  markFailed(id: string, error: NonNullable<TaskRecord['error']>): void {
    this.flush();
    this.#fail.run(JSON.stringify(error), Date.now(), id);
  }

  /** Stores the one accepted result of a task; false when the task already had one (a duplicate). */
  complete(result: ResultRecord, alsoInTransaction?: () => void): boolean {
    this.flush();
    return this.#db.transaction(() => this.#completeRows(result, alsoInTransaction))();
  }

  #completeRows(result: ResultRecord, alsoInTransaction?: () => void): boolean {
    {
      const inserted = this.#insertResult.run({
        ...result,
        output: JSON.stringify(result.output),
        createdAt: Date.now(),
      });
      if (inserted.changes === 0) return false;
      this.#finish.run(result.nodeId, result.attempt, Date.now(), result.taskId);
      alsoInTransaction?.();
      return true;
    }
  }

  result(taskId: string): ResultRecord | undefined {
    this.flush();
    const row = this.#result.get(taskId);
    if (!row) return undefined;
    return {
      taskId: row.task_id,
      nodeId: row.node_id,
      attempt: row.attempt,
      output: JSON.parse(row.output) as TaskOutput,
      outputSha256: row.output_sha256,
      signature: row.signature,
      nonce: row.nonce,
    };
  }
}

const idemKey = (keyId: string, idempotencyKey: string) => `${keyId}\u0000${idempotencyKey}`;

/** Runs a group-commit callback; one that throws must not stop the others. */
function safely(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    console.error(
      `task store: a commit callback failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}

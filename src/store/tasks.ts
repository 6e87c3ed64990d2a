import type { TaskInput, TaskOutput } from '../protocol/index.js';
import type { Db } from './database.js';

export type TaskStatus = 'queued' | 'running' | 'done' | 'failed';

export type TaskRecord = {
  id: string;
  keyId: string;
  sessionId: string | null;
  idempotencyKey: string | null;
  modelSha256: string;
  modelName: string;
  input: TaskInput;
  status: TaskStatus;
  attempts: number;
  nodeId: string | null;
  error: { code: string; message: string; status: number } | null;
  createdAt: number;
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
  kind: string;
  model_sha256: string;
  model_name: string;
  input: string;
  status: TaskStatus;
  attempts: number;
  node_id: string | null;
  error: string | null;
  created_at: number;
};

const toTask = (r: TaskRow): TaskRecord => ({
  id: r.id,
  keyId: r.key_id,
  sessionId: r.session_id,
  idempotencyKey: r.idempotency_key,
  modelSha256: r.model_sha256,
  modelName: r.model_name,
  input: JSON.parse(r.input) as TaskInput,
  status: r.status,
  attempts: r.attempts,
  nodeId: r.node_id,
  error: r.error === null ? null : (JSON.parse(r.error) as TaskRecord['error']),
  createdAt: r.created_at,
});

/** Tasks and their accepted results. A task is written before it is queued, so a crash never loses it. */
export class TaskStore {
  readonly #db: Db;
  readonly #insert;
  readonly #get;
  readonly #byIdempotency;
  readonly #open;
  readonly #requeue;
  readonly #fail;
  readonly #insertResult;
  readonly #finish;
  readonly #result;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO tasks (id, key_id, session_id, idempotency_key, kind, model_sha256, model_name, input, status, attempts, created_at)
      VALUES (@id, @keyId, @sessionId, @idempotencyKey, @kind, @modelSha256, @modelName, @input, 'queued', 0, @createdAt)`);
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
    this.#insert.run({ ...task, kind: task.input.kind, input: JSON.stringify(task.input) });
  }

  get(id: string): TaskRecord | undefined {
    const row = this.#get.get(id);
    return row && toTask(row);
  }

  byIdempotencyKey(keyId: string, idempotencyKey: string): TaskRecord | undefined {
    const row = this.#byIdempotency.get(keyId, idempotencyKey);
    return row && toTask(row);
  }

  /** Tasks accepted but not finished: after a restart these are queued again. */
  open(): TaskRecord[] {
    return this.#open.all().map(toTask);
  }

  requeue(id: string): void {
    this.#requeue.run(id);
  }

  markFailed(id: string, error: NonNullable<TaskRecord['error']>): void {
    this.#fail.run(JSON.stringify(error), Date.now(), id);
  }

  /** Stores the one accepted result of a task; false when the task already had one (a duplicate). */
  complete(result: ResultRecord, alsoInTransaction?: () => void): boolean {
    return this.#db.transaction(() => {
      const inserted = this.#insertResult.run({
        ...result,
        output: JSON.stringify(result.output),
        createdAt: Date.now(),
      });
      if (inserted.changes === 0) return false;
      this.#finish.run(result.nodeId, result.attempt, Date.now(), result.taskId);
      alsoInTransaction?.();
      return true;
    })();
  }

  result(taskId: string): ResultRecord | undefined {
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

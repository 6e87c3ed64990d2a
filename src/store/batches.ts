import type { BatchStatus } from '../protocol/index.js';
import type { Db } from './database.js';
import type { FileStore } from './files.js';

/** A problem with the batch as a whole (an empty or oversized input file), not with one line. */
export type BatchError = { code: string; message: string; param: string | null; line: number | null };

export type BatchRecord = {
  id: string;
  keyId: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  status: BatchStatus;
  total: number;
  errors: BatchError[] | null;
  outputFileId: string | null;
  errorFileId: string | null;
  createdAt: number;
  inProgressAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  /** When the completion window ends; lines without an answer by then end as `batch_expired` errors. */
  expiresAt: number;
  expiredAt: number | null;
};

/** One input line: `request` is the prepared task (JSON) or null when the line was rejected up front. */
export type BatchLine = {
  line: number;
  customId: string | null;
  request: string | null;
  outcome: 'ok' | 'error' | null;
  result: string | null;
};

type Row = {
  id: string;
  key_id: string;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  metadata: string | null;
  status: BatchStatus;
  total: number;
  errors: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  expires_at: number | null;
  expired_at: number | null;
};

const toRecord = (r: Row): BatchRecord => ({
  id: r.id,
  keyId: r.key_id,
  endpoint: r.endpoint,
  inputFileId: r.input_file_id,
  completionWindow: r.completion_window,
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, string>),
  status: r.status,
  total: r.total,
  errors: r.errors === null ? null : (JSON.parse(r.errors) as BatchError[]),
  outputFileId: r.output_file_id,
  errorFileId: r.error_file_id,
  createdAt: r.created_at,
  inProgressAt: r.in_progress_at,
  finalizingAt: r.finalizing_at,
  completedAt: r.completed_at,
  failedAt: r.failed_at,
  cancellingAt: r.cancelling_at,
  cancelledAt: r.cancelled_at,
  // Batches created before expiry was recorded get OpenAI's 24 hours.
  expiresAt: r.expires_at ?? r.created_at + 24 * 3600_000,
  expiredAt: r.expired_at,
});

/** The stamp column written when a batch enters a status. */
const stampOf: Partial<Record<BatchStatus, string>> = {
  in_progress: 'in_progress_at',
  finalizing: 'finalizing_at',
  completed: 'completed_at',
  failed: 'failed_at',
  cancelling: 'cancelling_at',
  cancelled: 'cancelled_at',
  expired: 'expired_at',
};

/** Joins result lines in input order, whatever order they finished in. */
export function inInputOrder(lines: { line: number; result: string }[]): string {
  const sorted = [...lines].sort((a, b) => a.line - b.line);
  return sorted.map((l) => `${l.result}\n`).join('');
}

/** Batches and their lines. Every line's outcome is written once (`outcome IS NULL` guards the update). */
export class BatchStore {
  readonly #db: Db;
  readonly #files: FileStore;
  readonly #statements;

  constructor(db: Db, files: FileStore) {
    this.#db = db;
    this.#files = files;
    this.#statements = {
      insert: db.prepare(
        'INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, metadata, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      get: db.prepare<[string], Row>('SELECT * FROM batches WHERE id = ?'),
      list: db.prepare<[string, number, number], Row>(
        'SELECT * FROM batches WHERE key_id = ? AND created_at <= ? ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      open: db.prepare<[], Row>(
        "SELECT * FROM batches WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') ORDER BY created_at",
      ),
      clearLines: db.prepare('DELETE FROM batch_lines WHERE batch_id = ?'),
      insertLine: db.prepare(
        'INSERT INTO batch_lines (batch_id, line, custom_id, request, outcome, result) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setTotal: db.prepare('UPDATE batches SET total = ? WHERE id = ?'),
      pending: db.prepare<
        [string, number, number],
        { line: number; custom_id: string | null; request: string }
      >(
        'SELECT line, custom_id, request FROM batch_lines WHERE batch_id = ? AND line >= ? AND outcome IS NULL ORDER BY line LIMIT ?',
      ),
      finishLine: db.prepare(
        'UPDATE batch_lines SET outcome = ?, result = ? WHERE batch_id = ? AND line = ? AND outcome IS NULL',
      ),
      counts: db.prepare<[string], { outcome: string | null; n: number }>(
        'SELECT outcome, COUNT(*) AS n FROM batch_lines WHERE batch_id = ? GROUP BY outcome',
      ),
      results: db.prepare<[string, string], { line: number; result: string }>(
        'SELECT line, result FROM batch_lines WHERE batch_id = ? AND outcome = ? ORDER BY line',
      ),
      files: db.prepare('UPDATE batches SET output_file_id = ?, error_file_id = ? WHERE id = ?'),
      errors: db.prepare('UPDATE batches SET errors = ? WHERE id = ?'),
    };
  }

  /** Records a new batch (validating); it expires `windowMs` from now. */
  create(
    batch: Pick<BatchRecord, 'id' | 'keyId' | 'endpoint' | 'inputFileId' | 'completionWindow' | 'metadata'>,
    windowMs: number,
  ) {
    const s = this.#statements;
    const createdAt = Date.now();
    s.insert.run(
      batch.id,
      batch.keyId,
      batch.endpoint,
      batch.inputFileId,
      batch.completionWindow,
      batch.metadata === null ? null : JSON.stringify(batch.metadata),
      'validating',
      createdAt,
      createdAt + windowMs,
    );
    return this.get(batch.id) as BatchRecord;
  }

  get(id: string): BatchRecord | undefined {
    const row = this.#statements.get.get(id);
    return row && toRecord(row);
  }

  /** A key's batches, newest first; `before` (a created_at) pages on. */
  list(keyId: string, limit: number, before = Number.MAX_SAFE_INTEGER): BatchRecord[] {
    return this.#statements.list.all(keyId, before, limit).map(toRecord);
  }

  /** Batches not yet completed, cancelled or failed: after a restart these run on. */
  open(): BatchRecord[] {
    return this.#statements.open.all().map(toRecord);
  }

  setStatus(id: string, status: BatchStatus): void {
    const stamp = stampOf[status];
    const sql = `UPDATE batches SET status = ?${stamp ? `, ${stamp} = COALESCE(${stamp}, ?)` : ''} WHERE id = ?`;
    const statement = this.#db.prepare(sql);
    if (stamp) statement.run(status, Date.now(), id);
    else statement.run(status, id);
  }

  /** Writes all lines of a validated batch and moves it to in_progress, in one transaction. */
  startLines(id: string, lines: BatchLine[]): void {
    const s = this.#statements;
    this.#db.transaction(() => {
      s.clearLines.run(id);
      for (const l of lines) s.insertLine.run(id, l.line, l.customId, l.request, l.outcome, l.result);
      s.setTotal.run(lines.length, id);
      this.setStatus(id, 'in_progress');
    })();
  }

  /** The batch as a whole failed validation. */
  fail(id: string, errors: BatchError[]): void {
    this.#db.transaction(() => {
      this.#statements.errors.run(JSON.stringify(errors), id);
      this.setStatus(id, 'failed');
    })();
  }

  /** Lines from `fromLine` on that have no outcome yet, in order. */
  pending(id: string, fromLine: number, limit: number) {
    return this.#statements.pending
      .all(id, fromLine, limit)
      .map((r) => ({ line: r.line, customId: r.custom_id, request: r.request }));
  }

  /** Records a line's outcome; false when it already had one. */
  finishLine(id: string, line: number, outcome: 'ok' | 'error', result: string): boolean {
    return this.#statements.finishLine.run(outcome, result, id, line).changes > 0;
  }

  counts(id: string): { total: number; completed: number; failed: number; pending: number } {
    const counts = { total: 0, completed: 0, failed: 0, pending: 0 };
    for (const row of this.#statements.counts.all(id)) {
      counts.total += row.n;
      if (row.outcome === 'ok') counts.completed += row.n;
      else if (row.outcome === 'error') counts.failed += row.n;
      else counts.pending += row.n;
    }
    return counts;
  }

  /**
   * Writes the output and error files (lines in input order) and ends the batch, in one transaction. An
   * expired batch first gives each line still without an answer the error `unanswered(line)`.
   */
  finalize(
    id: string,
    status: 'completed' | 'cancelled' | 'expired',
    unanswered?: (line: { line: number; customId: string | null }) => string,
  ): BatchRecord {
    const s = this.#statements;
    this.#db.transaction(() => {
      const batch = this.get(id);
      if (!batch || ['completed', 'cancelled', 'expired'].includes(batch.status)) return;
      if (status === 'expired' && unanswered)
        for (const line of this.pending(id, 0, Number.MAX_SAFE_INTEGER))
          s.finishLine.run('error', unanswered(line), id, line.line);
      const write = (outcome: string, name: string) => {
        const rows = s.results.all(id, outcome);
        if (rows.length === 0) return null;
        const content = Buffer.from(inInputOrder(rows));
        return this.#files.add(
          { keyId: batch.keyId, purpose: 'batch_output', filename: `${id}_${name}.jsonl` },
          content,
        ).id;
      };
      s.files.run(write('ok', 'output'), write('error', 'error'), id);
      this.setStatus(id, status);
    })();
    return this.get(id) as BatchRecord;
  }
}

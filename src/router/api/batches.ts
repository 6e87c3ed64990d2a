import { randomBytes } from 'node:crypto';
import { OmniError, QueueFullError } from '../../protocol/index.js';
import { type BatchLine, type BatchRecord, BatchStore, type Db, FileStore } from '../../store/index.js';
import type { RouterServices } from '../context.js';
import type { Logger } from '../log.js';
import {
  type BatchEndpoint,
  errorLine,
  type LineError,
  lineValidation,
  outputLine,
  type PreparedLine,
  parseLine,
  prepareLine,
  splitJsonl,
  toLineError,
} from './batch-lines.js';

export const maxBatchLines = 50_000;

export type BatchServiceInit = {
  db: Db;
  services: RouterServices;
  log: Logger;
  /** Batches submit no new line while this many tasks already wait in the scheduler's queue. */
  maxQueued: number;
  /** Lines of one batch submitted and not yet answered, at most. */
  maxInFlight?: number;
  pumpMs?: number;
  /** How long a batch may run before it expires (OpenAI's completion window, 24 h). */
  windowMs?: number;
};

const DAY_MS = 24 * 3600_000;
const EXPIRED: LineError = {
  status: null,
  code: 'batch_expired',
  message: 'This request could not be executed before the completion window expired.',
  param: null,
};

type Pending = { line: number; customId: string | null; request: string };

/** A batch this router process is running. */
type Active = {
  id: string;
  keyId: string;
  expiresAt: number;
  cancelling: boolean;
  /** Tasks of lines submitted and not yet answered, by line. */
  running: Map<number, string>;
  /** Next line number to load pending lines from. */
  cursor: number;
  buffer: Pending[];
  exhausted: boolean;
  inFlight: number;
};

const newBatchId = () => `batch_${randomBytes(12).toString('hex')}`;

/**
 * Runs batches: validates the input file into lines, submits each valid line as a task (idempotency key
 * `batch id:line`, so a restart joins or reuses a line's task and never runs it twice), keeps few of them
 * waiting in the queue so interactive users still get in, records each line's outcome once, and writes
 * the output and error files in input order.
 */
export class BatchService {
  readonly store: BatchStore;
  readonly files: FileStore;
  readonly #init: BatchServiceInit;
  readonly #services: RouterServices;
  readonly #active = new Map<string, Active>();
  #timer: NodeJS.Timeout | undefined;
  readonly #windowMs: number;
  #closed = false;

  constructor(init: BatchServiceInit) {
    this.#init = init;
    this.#services = init.services;
    this.files = new FileStore(init.db);
    this.store = new BatchStore(init.db, this.files);
    this.#windowMs = init.windowMs ?? DAY_MS;
  }

  /** Picks up batches left open by an earlier process and starts the pump. */
  start(): void {
    const open = this.store.open();
    if (open.length > 0) this.#init.log('info', 'resumed open batches', { count: open.length });
    for (const batch of open) {
      if (batch.status === 'validating') this.#validate(batch);
      else if (batch.status === 'finalizing') this.#finalize(batch.id, 'completed');
      else this.#activate(batch, batch.status === 'cancelling');
    }
    this.#timer = setInterval(() => this.#pumpAll(), this.#init.pumpMs ?? 200);
    this.#timer.unref();
  }

  stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  create(
    keyId: string,
    request: {
      inputFileId: string;
      endpoint: BatchEndpoint;
      completionWindow: string;
      metadata: Record<string, string> | null;
    },
  ): BatchRecord {
    const batch = this.store.create({ id: newBatchId(), keyId, ...request }, this.#windowMs);
    setImmediate(() => {
      if (!this.#closed) this.#validate(batch);
    });
    return batch;
  }

  /** Stops submitting the batch's lines; lines already running finish, then the batch is cancelled. */
  cancel(batch: BatchRecord): BatchRecord {
    if (batch.status === 'cancelling' || batch.status === 'cancelled') return batch;
    if (batch.status !== 'validating' && batch.status !== 'in_progress') {
      throw Object.assign(
        new OmniError(
          'batch_not_cancellable',
          `Batch ${batch.id} is ${batch.status} and cannot be cancelled.`,
        ),
        { status: 409 },
      );
    }
    this.store.setStatus(batch.id, 'cancelling');
    const active = this.#active.get(batch.id);
    if (active) {
      active.cancelling = true;
      active.buffer = [];
      active.exhausted = true;
      this.#maybeFinish(active);
    }
    // A batch still validating sees the status when validation runs, and ends without running a line.
    return this.store.get(batch.id) as BatchRecord;
  }

  #validate(batch: BatchRecord): void {
    try {
      const content = this.files.content(batch.inputFileId)?.toString('utf8') ?? '';
      const texts = splitJsonl(content);
      if (texts.length === 0 || texts.length > maxBatchLines) {
        const message =
          texts.length === 0
            ? 'The input file has no request lines.'
            : `The input file has ${texts.length} lines; a batch holds at most ${maxBatchLines}.`;
        this.store.fail(batch.id, [
          {
            code: texts.length === 0 ? 'empty_file' : 'too_many_lines',
            message,
            param: 'input_file_id',
            line: null,
          },
        ]);
        return;
      }
      const endpoint = batch.endpoint as BatchEndpoint;
      const seen = new Set<string>();
      const lines = texts.map((text, index): BatchLine => {
        const parsed = parseLine(text, index, endpoint, seen);
        if ('error' in parsed) {
          const result = errorLine(parsed.customId, index, parsed.error);
          return { line: index, customId: parsed.customId, request: null, outcome: 'error', result };
        }
        try {
          const prepared = prepareLine(this.#services, batch.keyId, endpoint, parsed.body);
          return {
            line: index,
            customId: parsed.customId,
            request: JSON.stringify(prepared),
            outcome: null,
            result: null,
          };
        } catch (error) {
          const result = errorLine(parsed.customId, index, toLineError(error));
          return { line: index, customId: parsed.customId, request: null, outcome: 'error', result };
        }
      });
      const cancelled = this.store.get(batch.id)?.status === 'cancelling';
      this.store.startLines(batch.id, lines);
      if (cancelled) this.store.setStatus(batch.id, 'cancelling');
      this.#init.log('info', 'batch validated', { batch: batch.id, lines: lines.length });
      this.#activate(batch, cancelled);
    } catch (error) {
      this.#init.log('error', 'batch validation failed', { batch: batch.id, error: String(error) });
      this.store.fail(batch.id, [
        {
          code: 'internal_error',
          message: 'The router could not read the input file.',
          param: null,
          line: null,
        },
      ]);
    }
  }

  #activate(batch: BatchRecord, cancelling: boolean): void {
    const active: Active = {
      id: batch.id,
      keyId: batch.keyId,
      expiresAt: batch.expiresAt,
      cancelling,
      running: new Map(),
      cursor: 0,
      buffer: [],
      exhausted: false,
      inFlight: 0,
    };
    this.#active.set(batch.id, active);
    if (cancelling) {
      // After a restart: lines that were already submitted get their answers; the rest never run.
      for (let rows = this.store.pending(batch.id, 0, 1000); rows.length > 0; ) {
        for (const row of rows) {
          if (this.#services.taskStore.byIdempotencyKey(batch.keyId, this.#key(active, row.line)))
            this.#submit(active, row);
        }
        const last = rows[rows.length - 1] as Pending;
        rows = this.store.pending(batch.id, last.line + 1, 1000);
      }
      active.exhausted = true;
    }
    this.#fill(active);
  }

  #pumpAll(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const active of [...this.#active.values()]) {
      if (now >= active.expiresAt) this.#expire(active);
      else this.#fill(active);
    }
  }

  /**
   * The completion window is over: as OpenAI's Batch API does, the lines still without an answer (waiting,
   * or running) end as `batch_expired` errors, their tasks are called off, and the answers already in stay.
   */
  #expire(active: Active): void {
    this.#active.delete(active.id);
    active.cancelling = true;
    active.buffer = [];
    active.exhausted = true;
    this.store.finalize(active.id, 'expired', (line) => errorLine(line.customId, line.line, EXPIRED));
    const { scheduler, tasks, gateway } = this.#services;
    for (const taskId of active.running.values()) {
      const lease = scheduler.lease(taskId);
      tasks.abandon(taskId, 'batch expired');
      if (lease) gateway.cancel(lease.nodeId, taskId, lease.attempt);
    }
    const counts = this.store.counts(active.id);
    this.#init.log('warn', 'batch expired', {
      batch: active.id,
      completed: counts.completed,
      failed: counts.failed,
    });
  }

  #key(active: Active, line: number): string {
    return `${active.id}:${line}`;
  }

  /** Submits the batch's next lines while the queue has room for them. */
  #fill(active: Active): void {
    const { scheduler, taskStore, tasks } = this.#services;
    const maxInFlight = this.#init.maxInFlight ?? 1024;
    while (!this.#closed && !active.cancelling) {
      if (active.buffer.length === 0 && !active.exhausted) {
        active.buffer = this.store.pending(active.id, active.cursor, 256);
        const last = active.buffer[active.buffer.length - 1];
        if (last) active.cursor = last.line + 1;
        else active.exhausted = true;
      }
      const next = active.buffer[0];
      if (!next) break;
      // A line whose task exists (a restart) is joined: that adds nothing to the queue.
      if (!taskStore.byIdempotencyKey(active.keyId, this.#key(active, next.line))) {
        const prepared = JSON.parse(next.request) as PreparedLine;
        if (!scheduler.canServe(prepared.modelSha256)) break;
        if (tasks.waiting >= this.#init.maxQueued || active.inFlight >= maxInFlight) break;
      }
      active.buffer.shift();
      if (!this.#submit(active, next)) {
        active.buffer.unshift(next);
        break;
      }
    }
    this.#maybeFinish(active);
  }

  /** Submits (or joins) one line's task; false when the queue is full and the line must wait. */
  #submit(active: Active, row: Pending): boolean {
    const prepared = JSON.parse(row.request) as PreparedLine;
    const customId = row.customId as string;
    const model = this.#services.models.resolve(prepared.modelSha256);
    let handle: ReturnType<RouterServices['tasks']['submit']>;
    try {
      if (!model) throw new OmniError('model_not_found', 'The model was removed from the router.');
      handle = this.#services.tasks.submit({
        keyId: active.keyId,
        sessionId: prepared.sessionId,
        idempotencyKey: this.#key(active, row.line),
        model,
        input: prepared.input,
        validation: lineValidation(prepared),
      });
    } catch (error) {
      if (error instanceof QueueFullError) return false;
      this.#finishLine(active, row.line, 'error', errorLine(customId, row.line, toLineError(error)), false);
      return true;
    }
    active.inFlight++;
    active.running.set(row.line, handle.record.id);
    handle.result.then(
      (result) =>
        this.#finishLine(active, row.line, 'ok', outputLine(customId, prepared, handle, result), true),
      (error: unknown) =>
        this.#finishLine(
          active,
          row.line,
          'error',
          errorLine(customId, row.line, toLineError(error), handle.record.id),
          true,
        ),
    );
    return true;
  }

  #finishLine(
    active: Active,
    line: number,
    outcome: 'ok' | 'error',
    text: string,
    wasInFlight: boolean,
  ): void {
    if (this.#closed) return;
    active.running.delete(line);
    if (wasInFlight) active.inFlight--;
    this.store.finishLine(active.id, line, outcome, text);
    if (wasInFlight) this.#fill(active);
  }

  #maybeFinish(active: Active): void {
    if (this.#closed || active.inFlight > 0 || active.buffer.length > 0 || !active.exhausted) return;
    if (!this.#active.has(active.id)) return;
    if (!active.cancelling && this.store.counts(active.id).pending > 0) return;
    this.#active.delete(active.id);
    this.#finalize(active.id, active.cancelling ? 'cancelled' : 'completed');
  }

  #finalize(id: string, status: 'completed' | 'cancelled'): void {
    if (status === 'completed') this.store.setStatus(id, 'finalizing');
    this.store.finalize(id, status);
    const counts = this.store.counts(id);
    this.#init.log('info', `batch ${status}`, {
      batch: id,
      completed: counts.completed,
      failed: counts.failed,
    });
  }
}

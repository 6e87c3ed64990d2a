import { randomUUID } from 'node:crypto';
import type { ResultRecord } from '../../store/index.js';
import { type CheckLevel, hasCleanRecord, type ValidationLevel } from '../../verify/index.js';
import type { Logger } from '../log.js';
import { auditKey } from './audits.js';
import type { CheckRunner, Party } from './check-runner.js';
import { EarlyAudit } from './early-audit.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import type { Lease } from './scheduler.js';
import { EarlyReplicas } from './stream-release.js';
import { scoreInputFor } from './stream-resume.js';
import { ChunkChecks, type ScoreSession } from './stream-score.js';
import type { TaskHandle, TaskManager } from './task-manager.js';
import type { VerdictBook } from './verdict-book.js';

export type StreamChecksInit = { tasks: TaskManager; runner: CheckRunner; book: VerdictBook; log: Logger };

/**
 * The checks that start with an attempt's lease so its stream can be released before the whole answer is
 * checked: replicas beside the worker (checksum, redundant:k; stream-release.ts) and a likelihood stream's
 * chunk checks (stream-score.ts). It owns them, by task id, until the attempt ends.
 */
export class StreamChecks {
  readonly #init: StreamChecksInit;
  /** Replicas started with an attempt's lease (checksum, redundant:k), by task id: see stream-release.ts. */
  readonly #early = new Map<string, EarlyReplicas>();
  /** A likelihood attempt's chunk checks while it streams, by task id: see stream-score.ts. */
  readonly #chunks = new Map<string, ChunkChecks>();
  /** A likelihood attempt's audit replica started before its result, by task id: see early-audit.ts. */
  readonly #audits = new Map<string, EarlyAudit>();

  constructor(init: StreamChecksInit) {
    this.#init = init;
  }

  /** Starts the attempt's early checks for `level`, if it has any; whether it did. */
  start(handle: TaskHandle, lease: Lease, level: CheckLevel, requested: ValidationLevel): boolean {
    return this.#startReplicas(handle, lease, level, requested) || this.#startChunks(handle, lease, level);
  }

  /** Releases the part of the attempt's stream its replicas agree on (called on every piece of either). */
  streamed(handle: TaskHandle): void {
    const chunks = this.#chunks.get(handle.record.id);
    if (chunks && chunks.attempt === handle.attempt) chunks.streamed();
    const early = this.#early.get(handle.record.id);
    if (!early || early.attempt !== handle.attempt) return;
    this.#init.tasks.release(handle, early.attempt, early.agreed(handle.attemptText));
  }

  /** The task ended, or a new attempt began: replicas of an earlier attempt still running are called off. */
  callOff(taskId: string): void {
    const audit = this.#audits.get(taskId);
    if (audit) {
      this.#audits.delete(taskId);
      for (const id of audit.taskIds) this.#init.tasks.abandon(id, 'the attempt it audited ended');
    }
    const chunks = this.#chunks.get(taskId);
    if (chunks) {
      this.#chunks.delete(taskId);
      chunks.stop('the attempt ended');
      for (const id of chunks.taskIds) this.#init.tasks.abandon(id, 'the attempt it checked ended');
    }
    const early = this.#early.get(taskId);
    if (!early) return;
    this.#early.delete(taskId);
    for (const id of early.taskIds) this.#init.tasks.abandon(id, 'the attempt it checked ended');
  }

  /** The answer was accepted: its early checks are done with (those still running finish unheard). */
  accepted(taskId: string): void {
    this.#early.delete(taskId);
    this.#audits.delete(taskId);
    this.#chunks.get(taskId)?.stop('the answer was accepted');
    this.#chunks.delete(taskId);
  }

  /** A replica started with the result's attempt and not yet taken; null when none is left. */
  takeReplica(taskId: string, attempt: number): Promise<ResultRecord> | null {
    const early = this.#early.get(taskId);
    return early?.attempt === attempt ? early.take() : null;
  }

  /**
   * An audited likelihood attempt (plan's `audit`): its audit's first replica starts now for a non-streamed
   * answer, after the first verified chunk for a streamed one (early-audit.ts). Only where a worker
   * independent of this one is connected (else the audit is skipped, as before).
   */
  startAudit(handle: TaskHandle, lease: Lease): void {
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return;
    const { runner } = this.#init;
    const worker = runner.party(lease.nodeId);
    if (!runner.eligible('worker', lease.task.modelSha256, [worker])) return;
    const subject = { taskId: handle.record.id, attempt: lease.attempt, modelSha256: lease.task.modelSha256 };
    // Key n = 0: the audit's own replicas (a third on a mismatch) count from 1.
    const early = new EarlyAudit(lease.attempt, (avoid, watch) =>
      runner.run(handle, lease, 'worker', avoid, input, auditKey(subject, 0), (check) =>
        watch(check.record.id),
      ),
    );
    this.#audits.set(handle.record.id, early);
    const chunks = this.#chunks.get(handle.record.id);
    const streamed = chunks?.attempt === lease.attempt && handle.listenerCount('text') > 0;
    if (!streamed) early.start([worker]);
  }

  /** A streamed attempt's first chunk passed: its audit starts, on a worker that is none of its validators. */
  #auditAfterRelease(handle: TaskHandle, lease: Lease, chunks: ChunkChecks): void {
    const audit = this.#audits.get(handle.record.id);
    if (audit?.attempt !== lease.attempt) return;
    const { runner } = this.#init;
    const avoid = [lease.nodeId, ...chunks.validatorIds].map((id) => runner.party(id));
    if (runner.eligible('worker', lease.task.modelSha256, avoid)) audit.start(avoid);
  }

  /** The audit replica started with the result's attempt, if one was (the audit's first answer). */
  takeAudit(taskId: string, attempt: number): Promise<ResultRecord> | null {
    const early = this.#audits.get(taskId);
    return early?.attempt === attempt ? early.take() : null;
  }

  /** The verified-stream sessions of the result's attempt, once its last chunk check is done. */
  async sessionsOf(taskId: string, result: ResultRecord): Promise<readonly ScoreSession[]> {
    const chunks = this.#chunks.get(taskId);
    if (!chunks || chunks.attempt !== result.attempt) return [];
    const text = result.output.text ?? '';
    return (await chunks.settled()).filter((s) => text.startsWith(s.text));
  }

  /**
   * checksum and redundant:k on text: the replicas start now, beside the worker, so the check ends about when
   * the slower node does and the stream can be released as they agree (stream-release.ts).
   */
  #startReplicas(handle: TaskHandle, lease: Lease, level: CheckLevel, requested: ValidationLevel): boolean {
    const { input } = handle.record;
    if (level !== 'checksum' && level !== 'redundant') return false;
    if (input.kind !== 'chat' && input.kind !== 'completion') return false;
    const k = requested.kind === 'redundant' ? requested.k : 2;
    const { runner } = this.#init;
    const early = new EarlyReplicas(
      lease.attempt,
      Math.floor(k / 2),
      k - 1,
      runner.party(lease.nodeId),
      (nodeId) => runner.party(nodeId),
      (avoid, watch) => runner.run(handle, lease, 'worker', avoid, input, undefined, watch),
      () => this.streamed(handle),
    );
    this.#early.set(handle.record.id, early);
    return true;
  }

  /**
   * likelihood on text: validators score the stream in chunks as it comes, and each chunk whose tokens pass
   * is released (stream-score.ts). The whole answer is still checked, as before, when it arrives.
   */
  #startChunks(handle: TaskHandle, lease: Lease, level: CheckLevel): boolean {
    const { input } = handle.record;
    if (level !== 'likelihood' || (input.kind !== 'chat' && input.kind !== 'completion')) return false;
    const { runner } = this.#init;
    const sha = lease.task.modelSha256;
    const worker = runner.party(lease.nodeId);
    // As the final check: a worker without a clean record needs a second validator's pass when one is there.
    const fresh = !hasCleanRecord(this.#init.book.recordOf(lease.nodeId, sha));
    const scoreBy = async (
      text: string,
      avoid: readonly Party[],
      session: ScoreSession | undefined,
      watch: (check: TaskHandle) => void,
    ) => {
      // Under a key no user's hold knows (as honeypots): chunk checks are the network's cost, not the user's.
      const key = `${CHECK_KEY_PREFIX}stream_${randomUUID().replaceAll('-', '')}:0:0`;
      const score = await runner.run(
        handle,
        lease,
        'validator',
        avoid,
        scoreInputFor(input, text, session),
        key,
        watch,
        session?.validatorId,
      );
      if (!score.output.scores) throw new Error('the validator returned no scores');
      runner.spentOnStream(score.output.scores.evaluatedTokens);
      return { scores: score.output.scores, validatorId: score.nodeId };
    };
    const chunks = new ChunkChecks(
      lease.attempt,
      input.params,
      // Only while a client streams (a non-streamed answer has no use for early text) and the result is not in.
      () =>
        handle.listenerCount('text') === 0 || handle.resultAt > handle.startedAt ? null : handle.attemptText,
      async (text, sessions, watch) => {
        // Each session's validator goes on from where it left off.
        if (sessions.length > 0)
          return Promise.all(
            sessions.map((session) => scoreBy(text, [worker], session, (check) => watch(check.record.id))),
          );
        // A fresh worker's two validators score at once: the second is placed once the first is leased,
        // avoiding it (as replicas are, stream-release.ts).
        let leased: (validator: Party | null) => void = () => {};
        const firstLeased = new Promise<Party | null>((resolve) => {
          leased = resolve;
        });
        const first = scoreBy(text, [worker], undefined, (check) => {
          watch(check.record.id);
          check.once('leased', (nodeId) => leased(runner.party(nodeId)));
        });
        first.then(
          () => leased(null),
          () => leased(null),
        );
        const validator = fresh ? await firstLeased : null;
        if (!validator || !runner.eligible('validator', sha, [worker, validator])) return [await first];
        const second = scoreBy(text, [worker, validator], undefined, (check) => watch(check.record.id));
        return Promise.all([first, second]);
      },
      (verified) => {
        this.#init.tasks.release(handle, lease.attempt, verified);
        this.#auditAfterRelease(handle, lease, chunks);
      },
      (reason) =>
        this.#init.log('info', 'stream held until the whole answer is checked', {
          task: handle.record.id,
          reason,
        }),
    );
    this.#chunks.set(handle.record.id, chunks);
    chunks.open();
    return true;
  }
}

import type { ResultRecord } from '../../store/index.js';
import { confirmedVerdicts, judgeEmbedding, makeVerdict, type VerdictRecord } from '../../verify/index.js';
import type { CheckRunner, Party } from './check-runner.js';
import type { Lease } from './scheduler.js';
import type { TaskHandle } from './task-manager.js';

/**
 * The `embedding` level: the output against a reference answer from another worker, compared by the
 * cosine of their embeddings. Its verdicts are returned, not recorded (the caller records them).
 */
export class EmbeddingCheck {
  readonly #runner: CheckRunner;

  constructor(runner: CheckRunner) {
    this.#runner = runner;
  }

  /**
   * The output against a reference answer from another worker. Two answers that differ cannot say which
   * is wrong (the reference may be the cheat), so a mismatch brings a second reference and the pair that
   * agrees decides, as `checksum` does with hashes. `reference`: one already running (an audit's).
   */
  async judge(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    reference?: Promise<ResultRecord>,
  ): Promise<VerdictRecord[]> {
    const runner = this.#runner;
    const { input } = handle.record;
    const modelSha256 = lease.task.modelSha256;
    const worker = runner.party(result.nodeId);
    const subject = (validatorId: string) => ({
      taskId: handle.record.id,
      attempt: result.attempt,
      nodeId: result.nodeId,
      validatorId,
      modelSha256,
    });
    const references: ResultRecord[] = [
      await (reference ?? runner.run(handle, lease, 'worker', [worker], input)),
    ];
    for (;;) {
      const answers = [result, ...references];
      const { vectors, validatorId } = await this.#vectors(handle, lease, worker, answers);
      const judge = (a: number, b: number) => leastSimilar(vectors, a, b);
      const last = references.length;
      const mine = judge(0, last);
      const now = Date.now();
      if (mine.outcome === 'pass') {
        // Agreeing with a later reference clears the worker; an earlier reference that disagreed with
        // both was the odd one out.
        const odd = references.slice(0, -1).map((r, i) => {
          const about = { taskId: r.taskId, attempt: r.attempt, nodeId: r.nodeId, validatorId, modelSha256 };
          const judged = judge(i + 1, 0);
          // Text was embedded by one validator: its vectors alone blame nobody (the task is answered anyway).
          if (input.kind !== 'embedding' && judged.outcome === 'fail') {
            const reason = `not confirmed, so not blamed: one validator's embeddings (${judged.reason})`;
            return makeVerdict(about, 'embedding', { ...judged, outcome: 'undecided', reason }, now);
          }
          return makeVerdict(about, 'embedding', judged, now);
        });
        return [makeVerdict(subject(validatorId), 'embedding', mine, now), ...odd];
      }
      if (last >= 2 && judge(1, last).outcome === 'pass') {
        if (input.kind === 'embedding') return [makeVerdict(subject(validatorId), 'embedding', mine, now)];
        // Text: one validator embedded every answer, so its vectors alone cannot fail the worker; a second
        // validator embeds them again (see confirmedVerdicts).
        const heard = [worker, ...references.map((r) => runner.party(r.nodeId)), runner.party(validatorId)];
        const second = await runner.second(lease, heard, async (avoid) => {
          const again = await this.#vectors(handle, lease, worker, answers, avoid);
          return { validatorId: again.validatorId, judgment: leastSimilar(again.vectors, 0, last) };
        });
        const about = { taskId: handle.record.id, attempt: result.attempt, nodeId: result.nodeId };
        return confirmedVerdicts(
          { ...about, modelSha256 },
          'embedding',
          { validatorId, judgment: mine },
          second,
          now,
        );
      }
      if (last >= 2) return [];
      const heard = [worker, ...references.map((r) => runner.party(r.nodeId))];
      references.push(await runner.run(handle, lease, 'worker', heard, input));
    }
  }

  /** The embedding vectors of each answer: as returned for embedding tasks, else from a validator. */
  async #vectors(
    handle: TaskHandle,
    lease: Lease,
    worker: Party,
    answers: ResultRecord[],
    also: readonly Party[] = [],
  ): Promise<{ vectors: number[][][]; validatorId: string }> {
    if (handle.record.input.kind === 'embedding') {
      const vectors = answers.map((a) => a.output.embeddings ?? []);
      if (vectors.some((v) => v.length === 0 || v.length !== vectors[0]?.length))
        throw new Error('embeddings missing');
      return { vectors, validatorId: answers[answers.length - 1]?.nodeId ?? 'router' };
    }
    // Text: a validator embeds every answer with its own copy of the model.
    const heard = [worker, ...answers.slice(1).map((a) => this.#runner.party(a.nodeId)), ...also];
    const embedded = await this.#runner.run(handle, lease, 'validator', heard, {
      kind: 'embedding',
      input: answers.map((a) => a.output.text ?? ''),
    });
    const vectors = (embedded.output.embeddings ?? []).map((v) => [v]);
    if (vectors.length !== answers.length) throw new Error('embeddings missing');
    return { vectors, validatorId: embedded.nodeId };
  }
}

/** The least similar pair of answers `a` and `b`'s vectors (one answer may have several inputs) decides. */
function leastSimilar(vectors: number[][][], a: number, b: number) {
  const judgments = (vectors[a] as number[][]).map((v, i) =>
    judgeEmbedding(v, (vectors[b] as number[][])[i] as number[]),
  );
  return judgments.reduce((x, y) => (x.evidence.cosine <= y.evidence.cosine ? x : y));
}

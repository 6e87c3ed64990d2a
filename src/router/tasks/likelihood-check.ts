import type { ResultRecord } from '../../store/index.js';
import {
  completionBoundFor,
  concurringVerdicts,
  confirmedVerdicts,
  hasCleanRecord,
  isDeterministic,
  judgeLikelihood,
  type LikelihoodEvidence,
  type ValidatorJudgment,
  type VerdictRecord,
} from '../../verify/index.js';
import type { Logger } from '../log.js';
import type { CheckRunner, Party } from './check-runner.js';
import type { Honeypots } from './honeypots.js';
import type { Lease } from './scheduler.js';
import type { StreamChecks } from './stream-checks.js';
import { resumedScores, scoreInputFor } from './stream-resume.js';
import type { ScoreSession } from './stream-score.js';
import type { TaskHandle } from './task-manager.js';
import type { CheckedCounts } from './token-counts.js';
import type { VerdictBook } from './verdict-book.js';

export type LikelihoodCheckInit = {
  runner: CheckRunner;
  book: VerdictBook;
  honeypots: Honeypots;
  streams: StreamChecks;
  log: Logger;
  /** The tokens a validator counted bound what gets paid: the check state's writer records them. */
  counted: (handle: TaskHandle, counts: CheckedCounts) => void;
};

/**
 * The `likelihood` level: validators score the worker's output under the request's decoding parameters.
 * Its verdicts are returned, not recorded (the caller records them); validators' faults are recorded here.
 */
export class LikelihoodCheck {
  readonly #init: LikelihoodCheckInit;

  constructor(init: LikelihoodCheckInit) {
    this.#init = init;
  }

  async judge(handle: TaskHandle, lease: Lease, result: ResultRecord): Promise<VerdictRecord[]> {
    const { runner, book, honeypots, streams } = this.#init;
    const worker = runner.party(result.nodeId);
    // One validator's fail is one opinion: a second, independent of the worker and of the first,
    // must confirm it before the worker is failed (and slashed). See confirmedVerdicts.
    // A node without a clean record needs a second validator's pass too (see concurringVerdicts): a
    // validator of the same operator as a fresh Sybil node would pass anything it sends.
    const fresh = !hasCleanRecord(book.recordOf(result.nodeId, lease.task.modelSha256));
    // A verified stream's validators score only what their chunk checks did not (stream-resume.ts);
    // anything but a pass that way is judged again from scratch, as without streaming.
    const [sessionA, sessionB] = await streams.sessionsOf(handle.record.id, result);
    const sha = lease.task.modelSha256;
    // A fresh worker's two sessions are judged at once; the second counts only if the first did.
    const heardA = sessionA ? [worker, runner.party(sessionA.validatorId)] : [];
    const alsoB =
      fresh && sessionA && sessionB && runner.eligible('validator', sha, heardA, pinned(sessionB))
        ? this.#resumed(handle, lease, result, sessionB, heardA)
        : null;
    const resumed = sessionA ? await this.#resumed(handle, lease, result, sessionA, [worker]) : null;
    if (resumed) resumed.counted();
    const first = resumed ?? (await this.#likelihood(handle, lease, result, [worker]));
    if (first.judgment.outcome === 'pass')
      honeypots.maybe(handle, lease, result, worker, resumed ? sessionA : undefined);
    const heard = [worker, runner.party(first.validatorId)];
    const fromB = await alsoB;
    const resumedSecond = resumed ? fromB : null;
    resumedSecond?.counted();
    const second =
      resumedSecond ??
      (first.judgment.outcome === 'fail' || fresh
        ? await runner.second(lease, heard, (avoid) => this.#likelihood(handle, lease, result, avoid))
        : null);
    const about = { taskId: handle.record.id, attempt: result.attempt, nodeId: result.nodeId };
    const subjectOf = { ...about, modelSha256: lease.task.modelSha256 };
    // Two validators disagree on a fresh node's result: a seeded replica on another independent worker
    // breaks the tie. The same bytes mean the worker was honest and the failing validator wrong (it is
    // marked so, as when a second validator overrules a first); otherwise nobody can tell, and the task
    // runs elsewhere unblamed. Without this, one lying validator would stall every fresh worker's checks.
    if (fresh && second && first.judgment.outcome !== second.judgment.outcome) {
      const validators = [runner.party(first.validatorId), runner.party(second.validatorId)];
      if (await this.#replicaAgrees(handle, lease, result, [worker, ...validators])) {
        const [failing, passing] = first.judgment.outcome === 'fail' ? [first, second] : [second, first];
        return confirmedVerdicts(subjectOf, 'likelihood', failing, passing, Date.now());
      }
    }
    return (fresh ? concurringVerdicts : confirmedVerdicts)(
      subjectOf,
      'likelihood',
      first,
      second,
      Date.now(),
    );
  }

  /** One validator's likelihood judgment of the result (a `score` task on a validator not in `avoid`). */
  async #likelihood(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    avoid: readonly Party[],
  ): Promise<ValidatorJudgment<LikelihoodEvidence>> {
    const { runner, book } = this.#init;
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') throw new Error('likelihood needs text');
    const score = await runner.run(handle, lease, 'validator', avoid, {
      kind: 'score',
      target: input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt },
      output: result.output.text ?? '',
      stop: input.params.stop,
      greedy: input.params.temperature === 0,
    });
    const scores = score.output.scores;
    if (!scores) throw new Error('the validator returned no scores');
    runner.spent(scores.evaluatedTokens);
    const judgment = judgeResult(scores, input.params, result);
    const invalid = judgment.evidence.invalidScores;
    if (invalid !== undefined) {
      // The router checked this itself: the validator scored other text. Its work is void (a fault of its
      // own, never the worker's), and another validator judges the result.
      book.fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      const avoidAlso = [...avoid, runner.party(score.nodeId)];
      if (!runner.eligible('validator', lease.task.modelSha256, avoidAlso))
        throw new Error(
          `validator ${score.nodeId} returned invalid scores and no other validator is connected`,
        );
      return this.#likelihood(handle, lease, result, avoidAlso);
    }
    // What gets paid is at most what the validator counted (payments takes the lower): the prompt as
    // generation rendered it, the output as the validator split it plus its end. A sampled output drawn
    // in a split other than the canonical one may have taken a few more tokens; the difference is the
    // user's, never a liar's.
    this.#init.counted(handle, {
      attempt: result.attempt,
      promptTokens: scores.promptTokens,
      completionTokens: completionBoundFor(scores.tokens.length, input.params),
    });
    return { validatorId: score.nodeId, judgment };
  }

  /**
   * A session's validator's judgment of the whole result, scoring only the text after its session; null
   * unless it passes (or when it cannot be made): the caller then judges from scratch.
   */
  async #resumed(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    session: ScoreSession,
    avoid: readonly Party[],
  ): Promise<(ValidatorJudgment<LikelihoodEvidence> & { counted: () => void }) | null> {
    const { runner, book } = this.#init;
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return null;
    const text = result.output.text ?? '';
    try {
      const task = scoreInputFor(input, text, session);
      const score = await runner.run(
        handle,
        lease,
        'validator',
        avoid,
        task,
        undefined,
        undefined,
        session.validatorId,
      );
      const rest = score.output.scores;
      if (!rest) return null;
      runner.spent(rest.evaluatedTokens);
      const scores = resumedScores(session, rest);
      const judgment = judgeResult(scores, input.params, result);
      // Scores that do not spell the answer are the validator's fault, as in a check from scratch.
      if (judgment.evidence.invalidScores !== undefined)
        book.fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      if (judgment.outcome !== 'pass') return null;
      // The counts bound what gets paid (as in #likelihood) once the caller uses this judgment.
      const counted = () =>
        this.#init.counted(handle, {
          attempt: result.attempt,
          promptTokens: scores.promptTokens,
          completionTokens: completionBoundFor(scores.tokens.length, input.params),
        });
      return { validatorId: score.nodeId, judgment, counted };
    } catch (error) {
      this.#init.log('info', 'resumed check not made; checking from scratch', {
        task: handle.record.id,
        error: String(error),
      });
      return null;
    }
  }

  /**
   * Whether another independent worker, running the same seeded request, produces the result's exact bytes.
   * False when the request is not deterministic, no such worker is connected, or the replica cannot run.
   */
  async #replicaAgrees(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    avoid: readonly Party[],
  ): Promise<boolean> {
    const { runner } = this.#init;
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return false;
    if (!isDeterministic(input.params)) return false;
    if (!runner.eligible('worker', lease.task.modelSha256, avoid)) return false;
    try {
      const replica = await runner.run(handle, lease, 'worker', avoid, input);
      runner.spent(replica.output.promptTokens + replica.output.completionTokens);
      return replica.outputSha256 === result.outputSha256;
    } catch {
      return false;
    }
  }
}

/** Checkers of only the session's validator (it holds the session's context). */
const pinned = (session: ScoreSession): Map<string, bigint> => new Map([[session.validatorId, 0n]]);

/** The likelihood judgment of a result's claim (its text, token count and why it stopped) from its scores. */
function judgeResult(
  scores: Parameters<typeof judgeLikelihood>[0]['scores'],
  params: Parameters<typeof judgeLikelihood>[0]['params'],
  result: ResultRecord,
) {
  return judgeLikelihood({
    scores,
    params,
    claim: {
      finishReason: result.output.finishReason ?? 'stop',
      completionTokens: result.output.completionTokens,
      text: result.output.text ?? '',
    },
  });
}

import { randomInt, randomUUID } from 'node:crypto';
import { type OmniError, type TaskInput, VerificationUnavailableError } from '../../protocol/index.js';
import type { ModelStore, ResultRecord, StoredVerdict, TaskRecord, VerdictStore } from '../../store/index.js';
import {
  auditFor,
  type CheckLevel,
  checkerPool,
  checkFor,
  completionBoundFor,
  concurringVerdicts,
  confirmedVerdicts,
  EMPTY_RECORD,
  formatValidationLevel,
  type HashedResult,
  hasCleanRecord,
  isDeterministic,
  judgeChecksum,
  judgeEmbedding,
  judgeLikelihood,
  judgeRedundant,
  type LikelihoodEvidence,
  makeVerdict,
  missingForCheck,
  type ReputationRecord,
  recordVerdict,
  redundantVerdicts,
  related,
  reputationFromVerdicts,
  reputationKey,
  reputationScore,
  toVerdictEvent,
  type ValidationLevel,
  type ValidatorFault,
  type ValidatorJudgment,
  type VerdictEvent,
  type VerdictRecord,
} from '../../verify/index.js';
import type { Logger } from '../log.js';
import { audit } from './audits.js';
import { type Validation, writeCheck } from './check-state.js';
import { CheckerSet, type Checkers, PinnedChecker } from './checker-set.js';
import { corruptOutput } from './honeypots.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import type { Lease, Scheduler } from './scheduler.js';
import { EarlyReplicas } from './stream-release.js';
import { resumedScores, scoreInputFor } from './stream-resume.js';
import { ChunkChecks, type ScoreSession } from './stream-score.js';
import type {
  Placement,
  Reviewer,
  SubmitRequest,
  TaskHandle,
  TaskManager,
  TaskObserver,
} from './task-manager.js';

export type VerificationInit = {
  tasks: TaskManager;
  scheduler: Scheduler;
  models: ModelStore;
  verdicts: VerdictStore;
  log: Logger;
  /** [0, 1); injected so tests can decide the `auto` draws. */
  random?: () => number;
  /**
   * How long a check may wait for a node that can make it (a validator, an independent worker) when none
   * is connected, before its task ends with 503; default 30 s.
   */
  checkWaitMs?: number;
  /** Share of passed likelihood checks followed by a honeypot for a validator (see honeypots.ts); 0.02. */
  honeypotRate?: number;
  /** A node's bonded stake (smallest unit): checkers are drawn in proportion to it. Default: none staked. */
  stakeOf?: (nodeId: string) => bigint;
};

export const DEFAULT_HONEYPOT_RATE = 0.02;

/** Long enough for a validator to restart; short enough that a client's request does not hang. */
export const DEFAULT_CHECK_WAIT_MS = 30_000;

/**
 * The check one attempt gets, decided when it was leased; `audit`: the router also reruns the seeded request
 * and compares bytes (src/verify/audit.ts), beyond the level asked for.
 */
type Plan = { level: CheckLevel; requested: ValidationLevel; audit?: boolean };
/** A node, the payout wallet it counts under, and the network it connects from (null: not comparable). */
type Party = { nodeId: string; wallet: string; addressGroup: string | null };
type Subject = { taskId: string; attempt: number; nodeId: string; validatorId: string; modelSha256: string };

const AUTO: ValidationLevel = { kind: 'auto' };

/**
 * Checks nodes' results as the request's validation level asks (src/verify judges them), records verdicts
 * with their evidence, keeps reputation per node and model, and tells listeners (the ledger) of every final
 * verdict. Checks are ordinary tasks: a `score` pass on a validator for `likelihood`, the same request on
 * other workers for `checksum` and `redundant:k`, embeddings for `embedding`. A check never goes to the
 * node, or the payout wallet, whose work it checks.
 */
export class Verification implements Reviewer<Plan>, TaskObserver {
  readonly #init: VerificationInit;
  readonly #random: () => number;
  readonly #reputation = new Map<string, ReputationRecord>();
  /** reputationScore of each record, kept beside it: the scheduler reads it on every dispatch. */
  readonly #scores = new Map<string, number>();
  readonly #listeners: ((event: VerdictEvent) => void)[] = [];
  /** Fault verdicts per validator (honeypots passed, scores of other text): a second one slashes. */
  readonly #strikes = new Map<string, number>();
  /** Replicas started with an attempt's lease (checksum, redundant:k), by task id: see stream-release.ts. */
  readonly #early = new Map<string, EarlyReplicas>();
  /** A likelihood attempt's chunk checks while it streams, by task id: see stream-score.ts. */
  readonly #chunks = new Map<string, ChunkChecks>();
  /**
   * Engine tokens spent on checks, for the verification-cost figure; `streamChecks`/`streamTokens` are the
   * chunk checks of likelihood streams (score tasks and tokens evaluated), beyond the whole-answer check.
   */
  readonly cost = { checkTasks: 0, checkTokens: 0, streamChecks: 0, streamTokens: 0 };

  constructor(init: VerificationInit) {
    this.#init = init;
    this.#random = init.random ?? (() => randomInt(2 ** 32) / 2 ** 32);
    const rebuilt = reputationFromVerdicts(
      init.verdicts
        .all()
        .map((v) => ({ nodeId: v.nodeId, modelSha256: v.modelSha256, outcome: v.outcome, at: v.at })),
    );
    for (const [key, record] of rebuilt) {
      this.#reputation.set(key, record);
      this.#scores.set(key, reputationScore(record));
    }
    if (this.#scores.size > 0) this.#useScores();
    for (const v of init.verdicts.all()) {
      const fault = (v.evidence as { validatorFault?: ValidatorFault }).validatorFault;
      if (fault) this.#strikes.set(v.nodeId, Math.max(this.#strikes.get(v.nodeId) ?? 0, fault.strike));
    }
  }

  /** Calls `listener` with each final verdict from now on. */
  onVerdict(listener: (event: VerdictEvent) => void): void {
    this.#listeners.push(listener);
  }

  reputation(nodeId: string, modelSha256: string): ReputationRecord & { score: number } {
    const record = this.#reputation.get(reputationKey(nodeId, modelSha256)) ?? EMPTY_RECORD;
    return { ...record, score: reputationScore(record) };
  }

  /**
   * Admission (before payment): a request whose explicit level no connected set of nodes can check is
   * refused with 503 naming what is missing; it would otherwise wait with no end and hold its payment.
   */
  admit(record: TaskRecord, request: SubmitRequest): void {
    const { input } = record;
    if (request.placement?.check || input.kind === 'score') return;
    const level = request.validation ?? AUTO;
    // The common case costs nothing: `auto` and `none` never lack a node.
    if (level.kind === 'auto' || level.kind === 'none') return;
    const nodes = {
      workers: this.#parties('worker', record.modelSha256),
      validators: this.#parties('validator', record.modelSha256),
    };
    const params = input.kind === 'embedding' ? undefined : input.params;
    const missing = missingForCheck(level, input.kind, params, nodes);
    if (missing) throw new VerificationUnavailableError(missing);
  }

  plan(handle: TaskHandle, lease: Lease): Plan | null {
    const { input } = handle.record;
    if (handle.placement.check || input.kind === 'score') return null;
    const requested = handle.record.validation ?? AUTO;
    const params = input.kind === 'embedding' ? undefined : input.params;
    const record = this.#reputation.get(reputationKey(lease.nodeId, lease.task.modelSha256)) ?? EMPTY_RECORD;
    let level = checkFor(requested, input.kind, params, record, this.#random);
    if (level !== null && requested.kind === 'auto' && !this.#canCheck(level, lease)) {
      // `auto` checks with what the network has: by likelihood when no independent worker can rerun a
      // deterministic request, by hash when no validator can score it; unchecked only when there is nobody
      // independent at all (said in the answer's headers).
      const other = otherLevel(level, params);
      level = other && this.#canCheck(other, lease) ? other : null;
    }
    this.#callOff(handle.record.id);
    if (level === null) {
      writeCheck.receipt(handle.check, {
        requested: formatValidationLevel(requested),
        level: 'none',
        verdict: 'unchecked',
        checkedBy: [],
      });
      writeCheck.streamed(handle.check, 'unchecked');
      return null;
    }
    writeCheck.receipt(handle.check, null);
    const audited = auditFor(requested, input.kind, params, record, this.#random);
    const plan = { level, requested, ...(audited ? { audit: true } : {}) };
    const early = this.#startReplicas(handle, lease, plan) || this.#startChunks(handle, lease, plan);
    writeCheck.streamed(handle.check, early ? 'verified-prefix' : 'held');
    return plan;
  }

  /**
   * checksum and redundant:k on text: the replicas start now, beside the worker, so the check ends about when
   * the slower node does and the stream can be released as they agree (stream-release.ts).
   */
  #startReplicas(handle: TaskHandle, lease: Lease, plan: Plan): boolean {
    const { input } = handle.record;
    if (plan.level !== 'checksum' && plan.level !== 'redundant') return false;
    if (input.kind !== 'chat' && input.kind !== 'completion') return false;
    const k = plan.requested.kind === 'redundant' ? plan.requested.k : 2;
    const early = new EarlyReplicas(
      lease.attempt,
      Math.floor(k / 2),
      k - 1,
      this.#worker(lease.nodeId),
      (nodeId) => this.#worker(nodeId),
      (avoid, watch) => this.#run(handle, lease, 'worker', avoid, input, undefined, watch),
      () => this.streamed(handle, plan),
    );
    this.#early.set(handle.record.id, early);
    return true;
  }

  /**
   * likelihood on text: validators score the stream in chunks as it comes, and each chunk whose tokens pass
   * is released (stream-score.ts). The whole answer is still checked, as before, when it arrives.
   */
  #startChunks(handle: TaskHandle, lease: Lease, plan: Plan): boolean {
    const { input } = handle.record;
    if (plan.level !== 'likelihood' || (input.kind !== 'chat' && input.kind !== 'completion')) return false;
    const sha = lease.task.modelSha256;
    const worker = this.#worker(lease.nodeId);
    // As the final check: a worker without a clean record needs a second validator's pass when one is there.
    const fresh = !hasCleanRecord(this.#recordOf(lease.nodeId, sha));
    const scoreBy = async (
      text: string,
      avoid: readonly Party[],
      session: ScoreSession | undefined,
      watch: (check: TaskHandle) => void,
    ) => {
      // Under a key no user's hold knows (as honeypots): chunk checks are the network's cost, not the user's.
      const key = `${CHECK_KEY_PREFIX}stream_${randomUUID().replaceAll('-', '')}:0:0`;
      const score = await this.#run(
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
      this.cost.streamChecks++;
      this.cost.streamTokens += score.output.scores.evaluatedTokens;
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
          check.once('leased', (nodeId) => leased(this.#worker(nodeId)));
        });
        first.then(
          () => leased(null),
          () => leased(null),
        );
        const validator = fresh ? await firstLeased : null;
        if (!validator || !this.#eligible('validator', sha, [worker, validator])) return [await first];
        const second = scoreBy(text, [worker, validator], undefined, (check) => watch(check.record.id));
        return Promise.all([first, second]);
      },
      (verified) => this.#init.tasks.release(handle, lease.attempt, verified),
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

  /** Releases the part of the attempt's stream its replicas agree on (called on every piece of either). */
  streamed(handle: TaskHandle, _plan: Plan): void {
    const chunks = this.#chunks.get(handle.record.id);
    if (chunks && chunks.attempt === handle.attempt) chunks.streamed();
    const early = this.#early.get(handle.record.id);
    if (!early || early.attempt !== handle.attempt) return;
    this.#init.tasks.release(handle, early.attempt, early.agreed(handle.attemptText));
  }

  /** The task ended, or a new attempt began: replicas of an earlier attempt still running are called off. */
  #callOff(taskId: string): void {
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

  failed(record: TaskRecord): void {
    this.#callOff(record.id);
  }

  accepted(result: ResultRecord): void {
    this.#early.delete(result.taskId);
    this.#chunks.get(result.taskId)?.stop('the answer was accepted');
    this.#chunks.delete(result.taskId);
  }

  restore(handle: TaskHandle, record: TaskRecord, result: ResultRecord): void {
    writeCheck.receipt(handle.check, this.#storedReceipt(record, result));
  }

  #storedReceipt(record: TaskRecord, result: ResultRecord): Validation {
    const requested = formatValidationLevel(record.validation ?? AUTO);
    const passes = this.#init.verdicts
      .byTask(record.id)
      .filter((v) => v.nodeId === result.nodeId && v.attempt === result.attempt && v.outcome === 'pass')
      .filter((v) => !(v.evidence as { audit?: true }).audit);
    const level = passes[0]?.level;
    if (level === undefined) return { requested, level: 'none', verdict: 'unchecked', checkedBy: [] };
    return { requested, level, verdict: 'pass', checkedBy: [...new Set(passes.map((v) => v.validatorId))] };
  }

  async review(
    handle: TaskHandle,
    plan: Plan,
    result: ResultRecord,
    lease: Lease,
    fellBack = false,
  ): Promise<'pass' | 'fail' | OmniError> {
    try {
      // An audit's first replica under `embedding` is the level's own reference answer, run once for both.
      const { input } = handle.record;
      const reference =
        plan.audit && plan.level === 'embedding' && input.kind !== 'embedding'
          ? this.#run(handle, lease, 'worker', [this.#worker(result.nodeId)], input)
          : undefined;
      reference?.catch(() => {});
      const [checked, audited] = await Promise.all([
        this.#check(handle, plan, result, lease, reference),
        plan.audit ? this.#audit(handle, lease, result, reference) : [],
      ]);
      // The audit speaks only where the level passed the worker: a fail the level made stands as it was
      // made (its validator takes the slash's share), and an audit cannot pass what the level failed.
      const byLevel = checked.filter((v) => v.nodeId === result.nodeId && v.attempt === result.attempt);
      const levelPassed = byLevel.length > 0 && byLevel.every((v) => v.outcome === 'pass');
      const verdicts = [...checked, ...(levelPassed ? this.#record(audited) : [])];
      // An audit that could not decide (replicas that disagree among themselves) blames nobody.
      const mine = verdicts.filter(
        (v) =>
          v.nodeId === result.nodeId &&
          v.attempt === result.attempt &&
          !(v.outcome === 'undecided' && v.evidence.audit),
      );
      const outcome = mine.length > 0 && mine.every((v) => v.outcome === 'pass') ? 'pass' : 'fail';
      if (outcome === 'pass') {
        writeCheck.receipt(handle.check, {
          requested: formatValidationLevel(plan.requested),
          level: plan.level,
          verdict: 'pass',
          checkedBy: [...new Set(mine.map((v) => v.validatorId))],
        });
      }
      return outcome;
    } catch (error) {
      if (error instanceof VerificationUnavailableError) {
        // `auto` checks with what the network has, as `plan` does at lease time: by the other text check
        // if an independent node can make it, else the answer goes out unchecked and says so.
        const { input } = handle.record;
        const other = otherLevel(plan.level, 'params' in input ? input.params : undefined);
        if (plan.requested.kind === 'auto' && !fellBack) {
          if (other && this.#canCheck(other, lease))
            return this.review(handle, { ...plan, level: other }, result, lease, true);
          this.#init.log('warn', 'check could not be made; answer goes out unchecked (auto)', {
            task: result.taskId,
            level: plan.level,
          });
          writeCheck.receipt(handle.check, {
            requested: formatValidationLevel(plan.requested),
            level: 'none',
            verdict: 'unchecked',
            checkedBy: [],
          });
          return 'pass';
        }
        // An explicit level: the task ends (its payment is released) rather than wait on.
        return error;
      }
      // A check that could not run says nothing about the node: run the task again, unpunished.
      this.#init.log('warn', 'check failed to run', { task: result.taskId, error: String(error) });
      return 'fail';
    }
  }

  /** The scheduler prefers reputable nodes once there are verdicts at all (until then it has no need to ask). */
  #useScores(): void {
    this.#init.scheduler.useReputation((nodeId, sha) => this.#scores.get(reputationKey(nodeId, sha)) ?? 0);
  }

  /** Whether some connected node independent of the worker can make this check. */
  #canCheck(level: CheckLevel, lease: Lease): boolean {
    const role = level === 'likelihood' ? 'validator' : 'worker';
    return this.#init.scheduler.hasIndependent(role, lease.task.modelSha256, lease.nodeId);
  }

  /**
   * The router's own audit of a result checked at a weak explicit level (audits.ts): its verdicts, not yet
   * recorded (review records them when the level passed the worker). An audit that cannot run (no
   * independent worker, a replica that failed) blames nobody.
   */
  async #audit(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    reference?: Promise<ResultRecord>,
  ): Promise<VerdictRecord[]> {
    const { input } = handle.record;
    const sha = lease.task.modelSha256;
    try {
      const verdicts = await audit(
        { taskId: handle.record.id, attempt: result.attempt, modelSha256: sha },
        result,
        {
          replica: (avoid, key) => this.#run(handle, lease, 'worker', avoid, input, key),
          eligible: (avoid) => this.#eligible('worker', sha, avoid),
          party: (nodeId) => this.#worker(nodeId),
          spent: (tokens) => {
            this.cost.checkTokens += tokens;
          },
        },
        reference,
      );
      return verdicts ?? [];
    } catch (error) {
      this.#init.log('info', 'audit not made', { task: handle.record.id, error: String(error) });
      return [];
    }
  }

  async #check(
    handle: TaskHandle,
    plan: Plan,
    result: ResultRecord,
    lease: Lease,
    reference?: Promise<ResultRecord>,
  ): Promise<VerdictRecord[]> {
    const worker = this.#worker(result.nodeId);
    const subject = (nodeId: string, attempt: number, validatorId: string): Subject => ({
      taskId: handle.record.id,
      attempt,
      nodeId,
      validatorId,
      modelSha256: lease.task.modelSha256,
    });
    const { input } = handle.record;
    switch (plan.level) {
      case 'likelihood': {
        // One validator's fail is one opinion: a second, independent of the worker and of the first,
        // must confirm it before the worker is failed (and slashed). See confirmedVerdicts.
        // A node without a clean record needs a second validator's pass too (see concurringVerdicts): a
        // validator of the same operator as a fresh Sybil node would pass anything it sends.
        const fresh = !hasCleanRecord(this.#recordOf(result.nodeId, lease.task.modelSha256));
        // A verified stream's validators score only what their chunk checks did not (stream-resume.ts);
        // anything but a pass that way is judged again from scratch, as without streaming.
        const [sessionA, sessionB] = await this.#sessionsOf(handle.record.id, result);
        const sha = lease.task.modelSha256;
        // A fresh worker's two sessions are judged at once; the second counts only if the first did.
        const heardA = sessionA ? [worker, this.#worker(sessionA.validatorId)] : [];
        const alsoB =
          fresh && sessionA && sessionB && this.#eligible('validator', sha, heardA, pinned(sessionB))
            ? this.#resumed(handle, lease, result, sessionB, heardA)
            : null;
        const resumed = sessionA ? await this.#resumed(handle, lease, result, sessionA, [worker]) : null;
        if (resumed) resumed.counted();
        const first = resumed ?? (await this.#likelihood(handle, lease, result, [worker]));
        if (first.judgment.outcome === 'pass')
          this.#maybeHoneypot(handle, lease, result, worker, resumed ? sessionA : undefined);
        const heard = [worker, this.#worker(first.validatorId)];
        const fromB = await alsoB;
        const resumedSecond = resumed ? fromB : null;
        resumedSecond?.counted();
        const second =
          resumedSecond ??
          (first.judgment.outcome === 'fail' || fresh
            ? await this.#second(lease, heard, (avoid) => this.#likelihood(handle, lease, result, avoid))
            : null);
        const about = { taskId: handle.record.id, attempt: result.attempt, nodeId: result.nodeId };
        const subjectOf = { ...about, modelSha256: lease.task.modelSha256 };
        // Two validators disagree on a fresh node's result: a seeded replica on another independent worker
        // breaks the tie. The same bytes mean the worker was honest and the failing validator wrong (it is
        // marked so, as when a second validator overrules a first); otherwise nobody can tell, and the task
        // runs elsewhere unblamed. Without this, one lying validator would stall every fresh worker's checks.
        if (fresh && second && first.judgment.outcome !== second.judgment.outcome) {
          const validators = [this.#worker(first.validatorId), this.#worker(second.validatorId)];
          if (await this.#replicaAgrees(handle, lease, result, [worker, ...validators])) {
            const [failing, passing] = first.judgment.outcome === 'fail' ? [first, second] : [second, first];
            return this.#record(confirmedVerdicts(subjectOf, 'likelihood', failing, passing, Date.now()));
          }
        }
        return this.#record(
          (fresh ? concurringVerdicts : confirmedVerdicts)(
            subjectOf,
            'likelihood',
            first,
            second,
            Date.now(),
          ),
        );
      }
      case 'embedding':
        return this.#record(await this.#embedding(handle, lease, result, worker, subject, reference));
      case 'checksum':
      case 'redundant': {
        const k = plan.requested.kind === 'redundant' ? plan.requested.k : 2;
        const answers: (HashedResult & Party & { attempt: number })[] = [
          { ...worker, outputSha256: result.outputSha256, attempt: result.attempt },
        ];
        // Each replica avoids every node (and wallet) that already answered; a tie adds up to two more. The
        // majority is of the k votes asked for (2 for checksum), and must beat every other answer.
        while (answers.length < k + 2) {
          if (answers.length >= k && judgeRedundant(answers, k).outcome !== 'undecided') break;
          const early = this.#early.get(handle.record.id);
          const started = early?.attempt === result.attempt ? early.take() : null;
          const replica = await (started ?? this.#run(handle, lease, 'worker', answers, input));
          this.cost.checkTokens += replica.output.promptTokens + replica.output.completionTokens;
          answers.push({
            ...this.#worker(replica.nodeId),
            outputSha256: replica.outputSha256,
            attempt: replica.attempt,
          });
          if (plan.level === 'checksum' && answers.length === 2) {
            const judged = judgeChecksum(answers[0] as HashedResult, answers[1] as HashedResult);
            if (judged.outcome === 'pass') {
              return this.#record([
                makeVerdict(
                  subject(result.nodeId, result.attempt, replica.nodeId),
                  'checksum',
                  judged,
                  Date.now(),
                ),
              ]);
            }
          }
        }
        const judged = judgeRedundant(answers, k);
        const task = { taskId: handle.record.id, modelSha256: lease.task.modelSha256 };
        return this.#record(redundantVerdicts(task, answers, judged, Date.now()));
      }
    }
  }

  /** One validator's likelihood judgment of the result (a `score` task on a validator not in `avoid`). */
  async #likelihood(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    avoid: readonly Party[],
  ): Promise<ValidatorJudgment<LikelihoodEvidence>> {
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') throw new Error('likelihood needs text');
    const score = await this.#run(handle, lease, 'validator', avoid, {
      kind: 'score',
      target: input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt },
      output: result.output.text ?? '',
      stop: input.params.stop,
      greedy: input.params.temperature === 0,
    });
    const scores = score.output.scores;
    if (!scores) throw new Error('the validator returned no scores');
    this.cost.checkTokens += scores.evaluatedTokens;
    const judgment = judgeLikelihood({
      scores,
      params: input.params,
      claim: {
        finishReason: result.output.finishReason ?? 'stop',
        completionTokens: result.output.completionTokens,
        text: result.output.text ?? '',
      },
    });
    const invalid = judgment.evidence.invalidScores;
    if (invalid !== undefined) {
      // The router checked this itself: the validator scored other text. Its work is void (a fault of its
      // own, never the worker's), and another validator judges the result.
      this.#fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      const avoidAlso = [...avoid, this.#worker(score.nodeId)];
      if (!this.#eligible('validator', lease.task.modelSha256, avoidAlso))
        throw new Error(
          `validator ${score.nodeId} returned invalid scores and no other validator is connected`,
        );
      return this.#likelihood(handle, lease, result, avoidAlso);
    }
    // What gets paid is at most what the validator counted (payments takes the lower): the prompt as
    // generation rendered it, the output as the validator split it plus its end. A sampled output drawn
    // in a split other than the canonical one may have taken a few more tokens; the difference is the
    // user's, never a liar's.
    writeCheck.checkedTokens(handle.check, {
      attempt: result.attempt,
      promptTokens: scores.promptTokens,
      completionTokens: completionBoundFor(scores.tokens.length, input.params),
    });
    return { validatorId: score.nodeId, judgment };
  }

  /** The verified-stream sessions of the result's attempt, once its last chunk check is done. */
  async #sessionsOf(taskId: string, result: ResultRecord): Promise<readonly ScoreSession[]> {
    const chunks = this.#chunks.get(taskId);
    if (!chunks || chunks.attempt !== result.attempt) return [];
    const text = result.output.text ?? '';
    return (await chunks.settled()).filter((s) => text.startsWith(s.text));
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
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return null;
    const text = result.output.text ?? '';
    try {
      const task = scoreInputFor(input, text, session);
      const score = await this.#run(
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
      this.cost.checkTokens += rest.evaluatedTokens;
      const scores = resumedScores(session, rest);
      const judgment = judgeLikelihood({
        scores,
        params: input.params,
        claim: {
          finishReason: result.output.finishReason ?? 'stop',
          completionTokens: result.output.completionTokens,
          text,
        },
      });
      // Scores that do not spell the answer are the validator's fault, as in a check from scratch.
      if (judgment.evidence.invalidScores !== undefined)
        this.#fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      if (judgment.outcome !== 'pass') return null;
      // The counts bound what gets paid (as in #likelihood) once the caller uses this judgment.
      const counted = () =>
        writeCheck.checkedTokens(handle.check, {
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
   * A second validator's judgment, from a validator outside `avoid`; null when no such validator is
   * connected or none came within the wait (then the first fail is not confirmed and blames nobody).
   */
  async #second<E>(
    lease: Lease,
    avoid: readonly Party[],
    judge: (avoid: readonly Party[]) => Promise<ValidatorJudgment<E>>,
  ): Promise<ValidatorJudgment<E> | null> {
    if (!this.#eligible('validator', lease.task.modelSha256, avoid)) return null;
    try {
      return await judge(avoid);
    } catch (error) {
      if (error instanceof VerificationUnavailableError) return null;
      throw error;
    }
  }

  /**
   * The output against a reference answer from another worker. Two answers that differ cannot say which
   * is wrong (the reference may be the cheat), so a mismatch brings a second reference and the pair that
   * agrees decides, as `checksum` does with hashes.
   */
  async #embedding(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    worker: Party,
    subject: (nodeId: string, attempt: number, validatorId: string) => Subject,
    reference?: Promise<ResultRecord>,
  ): Promise<VerdictRecord[]> {
    const { input } = handle.record;
    const references: ResultRecord[] = [
      await (reference ?? this.#run(handle, lease, 'worker', [worker], input)),
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
        const modelSha256 = lease.task.modelSha256;
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
        return [
          makeVerdict(subject(result.nodeId, result.attempt, validatorId), 'embedding', mine, now),
          ...odd,
        ];
      }
      if (last >= 2 && judge(1, last).outcome === 'pass') {
        if (input.kind === 'embedding')
          return [makeVerdict(subject(result.nodeId, result.attempt, validatorId), 'embedding', mine, now)];
        // Text: one validator embedded every answer, so its vectors alone cannot fail the worker; a second
        // validator embeds them again (see confirmedVerdicts).
        const heard = [worker, ...references.map((r) => this.#worker(r.nodeId)), this.#worker(validatorId)];
        const second = await this.#second(lease, heard, async (avoid) => {
          const again = await this.#vectors(handle, lease, worker, answers, avoid);
          return { validatorId: again.validatorId, judgment: leastSimilar(again.vectors, 0, last) };
        });
        const about = { taskId: handle.record.id, attempt: result.attempt, nodeId: result.nodeId };
        return confirmedVerdicts(
          { ...about, modelSha256: lease.task.modelSha256 },
          'embedding',
          { validatorId, judgment: mine },
          second,
          now,
        );
      }
      if (last >= 2) return [];
      const heard = [worker, ...references.map((r) => this.#worker(r.nodeId))];
      references.push(await this.#run(handle, lease, 'worker', heard, input));
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
    const heard = [worker, ...answers.slice(1).map((a) => this.#worker(a.nodeId)), ...also];
    const embedded = await this.#run(handle, lease, 'validator', heard, {
      kind: 'embedding',
      input: answers.map((a) => a.output.text ?? ''),
    });
    const vectors = (embedded.output.embeddings ?? []).map((v) => [v]);
    if (vectors.length !== answers.length) throw new Error('embeddings missing');
    return { vectors, validatorId: embedded.nodeId };
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
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return false;
    if (!isDeterministic(input.params)) return false;
    if (!this.#eligible('worker', lease.task.modelSha256, avoid)) return false;
    try {
      const replica = await this.#run(handle, lease, 'worker', avoid, input);
      this.cost.checkTokens += replica.output.promptTokens + replica.output.completionTokens;
      return replica.outputSha256 === result.outputSha256;
    } catch {
      return false;
    }
  }

  /** Runs one check task and waits for its result. */
  async #run(
    handle: TaskHandle,
    lease: Lease,
    role: 'worker' | 'validator',
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
      return this.#submitCheck(handle, lease, role, avoid, input, idempotencyKey, watchPinned, pinned);
    }
    // A checker that fails the check is passed over; when none is left the set is drawn again without them.
    const checkers =
      drawn.size > 0
        ? new CheckerSet(drawn, (passedOver) => this.#checkers(role, sha, avoid, passedOver))
        : undefined;
    return this.#submitCheck(handle, lease, role, avoid, input, idempotencyKey, watch, checkers);
  }

  #submitCheck(
    handle: TaskHandle,
    lease: Lease,
    role: 'worker' | 'validator',
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
    this.cost.checkTasks++;
    const check = this.#init.tasks.submit({
      keyId: handle.record.keyId,
      sessionId: null,
      idempotencyKey:
        idempotencyKey ?? `${CHECK_KEY_PREFIX}${handle.record.id}:${lease.attempt}:${this.cost.checkTasks}`,
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
    role: 'worker' | 'validator',
    modelSha256: string,
    avoid: readonly Party[],
    passedOver: ReadonlySet<string> = new Set(),
  ): Map<string, bigint> {
    const connected = this.#parties(role, modelSha256).filter((p) => !passedOver.has(p.nodeId));
    // Nodes kept from work after missing a lease are drawn only when nobody else is there.
    const taking = connected.filter((p) => !this.#init.scheduler.isBackedOff(p.nodeId));
    const parties = taking.length > 0 ? taking : connected;
    const candidates = parties.map((p) => ({
      ...p,
      stake: this.#init.stakeOf?.(p.nodeId) ?? 0n,
      record: this.#recordOf(p.nodeId, modelSha256),
    }));
    const pool = checkerPool(candidates, avoid);
    return new Map(pool.map((c) => [c.nodeId, c.stake]));
  }

  #recordOf(nodeId: string, modelSha256: string): ReputationRecord {
    return this.#reputation.get(reputationKey(nodeId, modelSha256)) ?? EMPTY_RECORD;
  }

  /**
   * A check task's result, or VerificationUnavailableError once it has waited `checkWaitMs` while no
   * connected node could take it (its validator left, say). While some node could, it waits on as any
   * queued task does: the network is busy, not missing a role.
   */
  #bounded(
    check: TaskHandle,
    role: 'worker' | 'validator',
    modelSha256: string,
    avoid: readonly Party[],
    checkers?: Checkers,
  ): Promise<ResultRecord> {
    const waitMs = this.#init.checkWaitMs ?? DEFAULT_CHECK_WAIT_MS;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const expire = () => {
        const id = check.record.id;
        if (this.#init.scheduler.lease(id) || this.#eligible(role, modelSha256, avoid, checkers)) {
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

  /** Whether a connected node in `role` is unrelated to `avoid` (node, wallet, network) and among `checkers`. */
  #eligible(
    role: 'worker' | 'validator',
    modelSha256: string,
    avoid: readonly Party[],
    checkers?: Checkers,
  ): boolean {
    return this.#parties(role, modelSha256).some(
      (n) => avoid.every((p) => !related(n, p)) && (!checkers || checkers.has(n.nodeId)),
    );
  }

  /** The connected nodes in `role` holding the model, each with its party wallet. */
  #parties(role: 'worker' | 'validator', modelSha256: string): Party[] {
    return this.#init.scheduler.members(role, modelSha256).map((n) => ({
      nodeId: n.nodeId,
      wallet: n.wallet ?? `node:${n.nodeId.toLowerCase()}`,
      addressGroup: n.addressGroup,
    }));
  }

  /** A node and its payout wallet; a node that named none stands for itself alone. */
  #worker(nodeId: string): Party {
    return {
      nodeId,
      wallet: this.#init.scheduler.walletOf(nodeId) ?? `node:${nodeId.toLowerCase()}`,
      addressGroup: this.#init.scheduler.addressGroupOf(nodeId),
    };
  }

  /**
   * Now and then (honeypotRate), a known-wrong output of the same prompt for a validator to score, judged
   * as a greedy check: passing it is a fault of the validator's. It runs after the answer went out, under a
   * key no user's hold knows (`check:honeypot_...`): the network pays for it, never a user.
   */
  #maybeHoneypot(
    handle: TaskHandle,
    lease: Lease,
    result: ResultRecord,
    worker: Party,
    session?: ScoreSession,
  ): void {
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return;
    const text = result.output.text ?? '';
    const rate = this.#init.honeypotRate ?? DEFAULT_HONEYPOT_RATE;
    if (rate <= 0 || (rate < 1 && this.#random() >= rate)) return;
    // A validator must not learn to tell honeypots by their form: after a verified stream, half of them
    // resume its session, as a chunk check of a stream that went wrong after the passed text would.
    if (session && session.tokens.length > 0 && this.#random() < 0.5) {
      this.#resumedHoneypot(handle, lease, input, text, worker, session);
      return;
    }
    // Only this task's own answer, reversed: another user's answer would show that user's words to a validator.
    const wrong = corruptOutput(text);
    if (wrong === null) return;
    const id = `honeypot_${randomUUID().replaceAll('-', '')}`;
    const run = async () => {
      const score = await this.#run(
        handle,
        lease,
        'validator',
        [worker],
        {
          kind: 'score',
          target: input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt },
          output: wrong,
          stop: input.params.stop,
          greedy: true,
        },
        `${CHECK_KEY_PREFIX}${id}:0:0`,
      );
      const scores = score.output.scores;
      if (!scores) throw new Error('the validator returned no scores');
      const n = scores.tokens.length;
      const judgment = judgeLikelihood({
        scores,
        params: { maxTokens: Math.max(n, 1), temperature: 0, topP: 1, stop: input.params.stop },
        claim: { finishReason: 'stop', completionTokens: n, text: wrong },
      });
      if (judgment.evidence.invalidScores !== undefined)
        this.#fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      else if (judgment.outcome === 'pass') this.#fault(score, lease.task.modelSha256, 'honeypot', judgment);
      else this.#init.log('debug', 'validator failed a honeypot, as it should', { validator: score.nodeId });
    };
    run().catch((error: unknown) =>
      this.#init.log('info', 'honeypot not judged', { task: handle.record.id, error: String(error) }),
    );
  }

  /** A honeypot in the resumed form: the session's passed text, then the rest of the answer reversed. */
  #resumedHoneypot(
    handle: TaskHandle,
    lease: Lease,
    input: Extract<TaskInput, { kind: 'chat' | 'completion' }>,
    text: string,
    worker: Party,
    session: ScoreSession,
  ): void {
    const wrong = corruptOutput(text.slice(session.text.length));
    if (wrong === null) return;
    const id = `honeypot_${randomUUID().replaceAll('-', '')}`;
    const run = async () => {
      const task = scoreInputFor(input, session.text + wrong, session, true);
      const key = `${CHECK_KEY_PREFIX}${id}:0:0`;
      const score = await this.#run(
        handle,
        lease,
        'validator',
        [worker],
        task,
        key,
        undefined,
        session.validatorId,
      );
      const scores = score.output.scores;
      if (!scores) throw new Error('the validator returned no scores');
      // Only the wrong rest is judged: the passed text before it need not be greedy (a sampled answer).
      const n = scores.tokens.length;
      const judgment = judgeLikelihood({
        scores,
        params: { maxTokens: Math.max(n, 1), temperature: 0, topP: 1, stop: input.params.stop },
        claim: { finishReason: 'stop', completionTokens: n, text: wrong },
      });
      if (judgment.evidence.invalidScores !== undefined)
        this.#fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
      else if (judgment.outcome === 'pass') this.#fault(score, lease.task.modelSha256, 'honeypot', judgment);
      else
        this.#init.log('debug', 'validator failed a resumed honeypot, as it should', {
          validator: score.nodeId,
          resumedChars: session.text.length,
        });
    };
    run().catch((error: unknown) =>
      this.#init.log('info', 'honeypot not judged', { task: handle.record.id, error: String(error) }),
    );
  }

  /** A validator's own fail verdict, from what the router checked itself (validator 'router'). */
  #fault(
    score: ResultRecord,
    modelSha256: string,
    kind: ValidatorFault['kind'],
    judgment: ReturnType<typeof judgeLikelihood>,
  ): void {
    const strike = (this.#strikes.get(score.nodeId) ?? 0) + 1;
    this.#strikes.set(score.nodeId, strike);
    const reason =
      kind === 'honeypot'
        ? `validator passed a known-wrong output (honeypot, strike ${strike}): ${judgment.reason}`
        : `validator's scores are not of the output it was given (strike ${strike}): ${judgment.evidence.invalidScores}`;
    const about = {
      taskId: score.taskId,
      attempt: score.attempt,
      nodeId: score.nodeId,
      validatorId: 'router',
      modelSha256,
    };
    const verdict = makeVerdict(about, 'likelihood', { ...judgment, outcome: 'fail', reason }, Date.now());
    verdict.evidence.validatorFault = { kind, strike };
    this.#record([verdict]);
  }

  #record(verdicts: VerdictRecord[]): VerdictRecord[] {
    for (const verdict of verdicts) {
      const stored: StoredVerdict = { ...verdict };
      if (!this.#init.verdicts.add(stored)) continue;
      if (verdict.outcome === 'undecided') continue;
      const key = reputationKey(verdict.nodeId, verdict.modelSha256);
      const record = recordVerdict(this.#reputation.get(key) ?? EMPTY_RECORD, verdict.outcome);
      this.#reputation.set(key, record);
      if (this.#scores.size === 0) this.#useScores();
      this.#scores.set(key, reputationScore(record));
      if (verdict.outcome === 'fail')
        this.#init.log('warn', 'result failed verification', {
          task: verdict.taskId,
          node: verdict.nodeId,
          level: verdict.level,
          reason: verdict.reason,
        });
      const event = toVerdictEvent(verdict);
      if (event) for (const listener of this.#listeners) listener(event);
    }
    return verdicts;
  }
}

/** Checkers of only the session's validator (it holds the session's context). */
const pinned = (session: ScoreSession): Map<string, bigint> => new Map([[session.validatorId, 0n]]);

/** The least similar pair of answers `a` and `b`'s vectors (one answer may have several inputs) decides. */
function leastSimilar(vectors: number[][][], a: number, b: number) {
  const judgments = (vectors[a] as number[][]).map((v, i) =>
    judgeEmbedding(v, (vectors[b] as number[][])[i] as number[]),
  );
  return judgments.reduce((x, y) => (x.evidence.cosine <= y.evidence.cosine ? x : y));
}

/** Under `auto`, the text check to make instead when no independent node can make `level`. */
function otherLevel(
  level: CheckLevel,
  params: Parameters<typeof isDeterministic>[0] | undefined,
): CheckLevel | null {
  if (level === 'checksum') return 'likelihood';
  return level === 'likelihood' && params && isDeterministic(params) ? 'checksum' : null;
}

import { randomInt } from 'node:crypto';
import type { TaskInput } from '../protocol/index.js';
import type { ModelStore, ResultRecord, StoredVerdict, TaskRecord, VerdictStore } from '../store/index.js';
import {
  type CheckLevel,
  checkFor,
  completionBoundFor,
  EMPTY_RECORD,
  formatValidationLevel,
  type HashedResult,
  isDeterministic,
  judgeChecksum,
  judgeEmbedding,
  judgeLikelihood,
  judgeRedundant,
  makeVerdict,
  type ReputationRecord,
  recordVerdict,
  redundantVerdicts,
  reputationFromVerdicts,
  reputationKey,
  reputationScore,
  toVerdictEvent,
  type ValidationLevel,
  type VerdictEvent,
  type VerdictRecord,
} from '../verify/index.js';
import type { Logger } from './log.js';
import type { Lease, Scheduler } from './scheduler.js';
import {
  CHECK_KEY_PREFIX,
  type Placement,
  type Reviewer,
  type TaskHandle,
  type TaskManager,
  type Validation,
} from './task-manager.js';

export type VerificationInit = {
  tasks: TaskManager;
  scheduler: Scheduler;
  models: ModelStore;
  verdicts: VerdictStore;
  log: Logger;
  /** [0, 1); injected so tests can decide the `auto` draws. */
  random?: () => number;
};

/** The check one attempt gets, decided when it was leased. */
type Plan = { level: CheckLevel; requested: ValidationLevel };
/** A node and the payout wallet it counts under. */
type Party = { nodeId: string; wallet: string };
type Subject = { taskId: string; attempt: number; nodeId: string; validatorId: string; modelSha256: string };

const AUTO: ValidationLevel = { kind: 'auto' };

/**
 * Checks nodes' results as the request's validation level asks (src/verify judges them), records verdicts
 * with their evidence, keeps reputation per node and model, and tells listeners (the ledger) of every final
 * verdict. Checks are ordinary tasks: a `score` pass on a validator for `likelihood`, the same request on
 * other workers for `checksum` and `redundant:k`, embeddings for `embedding`. A check never goes to the
 * node, or the payout wallet, whose work it checks.
 */
export class Verification implements Reviewer<Plan> {
  readonly #init: VerificationInit;
  readonly #random: () => number;
  readonly #reputation = new Map<string, ReputationRecord>();
  /** reputationScore of each record, kept beside it: the scheduler reads it on every dispatch. */
  readonly #scores = new Map<string, number>();
  readonly #listeners: ((event: VerdictEvent) => void)[] = [];
  /** Engine tokens spent on checks, for the verification-cost figure. */
  readonly cost = { checkTasks: 0, checkTokens: 0 };

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
  }

  /** Calls `listener` with each final verdict from now on. */
  onVerdict(listener: (event: VerdictEvent) => void): void {
    this.#listeners.push(listener);
  }

  reputation(nodeId: string, modelSha256: string): ReputationRecord & { score: number } {
    const record = this.#reputation.get(reputationKey(nodeId, modelSha256)) ?? EMPTY_RECORD;
    return { ...record, score: reputationScore(record) };
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
      const other =
        level === 'checksum'
          ? 'likelihood'
          : level === 'likelihood' && params && isDeterministic(params)
            ? 'checksum'
            : null;
      level = other && this.#canCheck(other, lease) ? other : null;
    }
    if (level === null) {
      handle.validation = {
        requested: formatValidationLevel(requested),
        level: 'none',
        verdict: 'unchecked',
        checkedBy: [],
      };
      return null;
    }
    handle.validation = null;
    return { level, requested };
  }

  stored(record: TaskRecord, result: ResultRecord): Validation {
    const requested = formatValidationLevel(record.validation ?? AUTO);
    const passes = this.#init.verdicts
      .byTask(record.id)
      .filter((v) => v.nodeId === result.nodeId && v.attempt === result.attempt && v.outcome === 'pass');
    const level = passes[0]?.level;
    if (level === undefined) return { requested, level: 'none', verdict: 'unchecked', checkedBy: [] };
    return { requested, level, verdict: 'pass', checkedBy: [...new Set(passes.map((v) => v.validatorId))] };
  }

  async review(handle: TaskHandle, plan: Plan, result: ResultRecord, lease: Lease): Promise<'pass' | 'fail'> {
    try {
      const verdicts = await this.#check(handle, plan, result, lease);
      const mine = verdicts.filter((v) => v.nodeId === result.nodeId && v.attempt === result.attempt);
      const outcome = mine.length > 0 && mine.every((v) => v.outcome === 'pass') ? 'pass' : 'fail';
      if (outcome === 'pass') {
        handle.validation = {
          requested: formatValidationLevel(plan.requested),
          level: plan.level,
          verdict: 'pass',
          checkedBy: [...new Set(mine.map((v) => v.validatorId))],
        };
      }
      return outcome;
    } catch (error) {
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

  async #check(handle: TaskHandle, plan: Plan, result: ResultRecord, lease: Lease): Promise<VerdictRecord[]> {
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
        if (input.kind !== 'chat' && input.kind !== 'completion') throw new Error('likelihood needs text');
        const score = await this.#run(handle, lease, 'validator', [worker], {
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
        // What gets paid is at most what the validator counted (payments takes the lower): the prompt as
        // generation rendered it, the output as the validator split it plus its end. A sampled output drawn
        // in a split other than the canonical one may have taken a few more tokens; the difference is the
        // user's, never a liar's.
        handle.checkedTokens = {
          attempt: result.attempt,
          promptTokens: scores.promptTokens,
          completionTokens: completionBoundFor(scores.tokens.length, input.params),
        };
        return this.#record([
          makeVerdict(
            subject(result.nodeId, result.attempt, score.nodeId),
            'likelihood',
            judgment,
            Date.now(),
          ),
        ]);
      }
      case 'embedding':
        return this.#record(await this.#embedding(handle, lease, result, worker, subject));
      case 'checksum':
      case 'redundant': {
        const k = plan.requested.kind === 'redundant' ? plan.requested.k : 2;
        const answers: (HashedResult & { attempt: number })[] = [
          { ...worker, outputSha256: result.outputSha256, attempt: result.attempt },
        ];
        // Each replica avoids every node (and wallet) that already answered; a tie adds up to two more. The
        // majority is of the k votes asked for (2 for checksum), and must beat every other answer.
        while (answers.length < k + 2) {
          if (answers.length >= k && judgeRedundant(answers, k).outcome !== 'undecided') break;
          const replica = await this.#run(handle, lease, 'worker', answers, input);
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
  ): Promise<VerdictRecord[]> {
    const { input } = handle.record;
    const references: ResultRecord[] = [await this.#run(handle, lease, 'worker', [worker], input)];
    for (;;) {
      const answers = [result, ...references];
      const { vectors, validatorId } = await this.#vectors(handle, lease, worker, answers);
      const judge = (a: number, b: number) => {
        const judgments = (vectors[a] as number[][]).map((v, i) =>
          judgeEmbedding(v, (vectors[b] as number[][])[i] as number[]),
        );
        // The least similar pair of vectors decides.
        return judgments.reduce((x, y) => (x.evidence.cosine <= y.evidence.cosine ? x : y));
      };
      const last = references.length;
      const mine = judge(0, last);
      const now = Date.now();
      if (mine.outcome === 'pass') {
        // Agreeing with a later reference clears the worker; an earlier reference that disagreed with
        // both was the odd one out.
        const modelSha256 = lease.task.modelSha256;
        const odd = references.slice(0, -1).map((r, i) => {
          const about = { taskId: r.taskId, attempt: r.attempt, nodeId: r.nodeId, validatorId, modelSha256 };
          return makeVerdict(about, 'embedding', judge(i + 1, 0), now);
        });
        return [
          makeVerdict(subject(result.nodeId, result.attempt, validatorId), 'embedding', mine, now),
          ...odd,
        ];
      }
      if (last >= 2 && judge(1, last).outcome === 'pass') {
        return [makeVerdict(subject(result.nodeId, result.attempt, validatorId), 'embedding', mine, now)];
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
  ): Promise<{ vectors: number[][][]; validatorId: string }> {
    if (handle.record.input.kind === 'embedding') {
      const vectors = answers.map((a) => a.output.embeddings ?? []);
      if (vectors.some((v) => v.length === 0 || v.length !== vectors[0]?.length))
        throw new Error('embeddings missing');
      return { vectors, validatorId: answers[answers.length - 1]?.nodeId ?? 'router' };
    }
    // Text: a validator embeds every answer with its own copy of the model.
    const heard = [worker, ...answers.slice(1).map((a) => this.#worker(a.nodeId))];
    const embedded = await this.#run(handle, lease, 'validator', heard, {
      kind: 'embedding',
      input: answers.map((a) => a.output.text ?? ''),
    });
    const vectors = (embedded.output.embeddings ?? []).map((v) => [v]);
    if (vectors.length !== answers.length) throw new Error('embeddings missing');
    return { vectors, validatorId: embedded.nodeId };
  }

  /** Runs one check task and waits for its result. */
  async #run(
    handle: TaskHandle,
    lease: Lease,
    role: 'worker' | 'validator',
    avoid: readonly Party[],
    input: TaskInput,
  ): Promise<ResultRecord> {
    const model = this.#init.models.resolve(lease.task.modelSha256);
    if (!model) throw new Error(`model ${lease.task.modelSha256} is no longer registered`);
    const placement: Placement = {
      role,
      check: true,
      avoid: {
        nodes: new Set(avoid.map((w) => w.nodeId)),
        wallets: new Set(avoid.map((w) => w.wallet).filter((w) => !w.startsWith('node:'))),
      },
    };
    this.cost.checkTasks++;
    const check = this.#init.tasks.submit({
      keyId: handle.record.keyId,
      sessionId: null,
      idempotencyKey: `${CHECK_KEY_PREFIX}${handle.record.id}:${lease.attempt}:${this.cost.checkTasks}`,
      model,
      input,
      placement,
    });
    return check.result;
  }

  /** A node and its payout wallet; a node that named none stands for itself alone. */
  #worker(nodeId: string): Party {
    return { nodeId, wallet: this.#init.scheduler.walletOf(nodeId) ?? `node:${nodeId.toLowerCase()}` };
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

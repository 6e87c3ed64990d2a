import { randomInt } from 'node:crypto';
import { type OmniError, VerificationUnavailableError } from '../../protocol/index.js';
import type { ModelStore, ResultRecord, TaskRecord, VerdictStore } from '../../store/index.js';
import {
  auditFor,
  type CheckLevel,
  checkFor,
  formatValidationLevel,
  isDeterministic,
  missingForCheck,
  type ReputationRecord,
  reputationScore,
  type ValidationLevel,
  type VerdictEvent,
  type VerdictRecord,
} from '../../verify/index.js';
import type { Logger } from '../log.js';
import { audit } from './audits.js';
import { type CheckCost, CheckRunner } from './check-runner.js';
import { type Validation, writeCheck } from './check-state.js';
import { EmbeddingCheck } from './embedding-check.js';
import { Honeypots } from './honeypots.js';
import { LikelihoodCheck } from './likelihood-check.js';
import { ReplicaCheck } from './replica-check.js';
import type { Lease, Scheduler } from './scheduler.js';
import { StreamChecks } from './stream-checks.js';
import type { Reviewer, SubmitRequest, TaskHandle, TaskManager, TaskObserver } from './task-manager.js';
import { VerdictBook } from './verdict-book.js';

export { DEFAULT_CHECK_WAIT_MS } from './check-runner.js';
export { DEFAULT_HONEYPOT_RATE } from './honeypots.js';

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

/**
 * The check one attempt gets, decided when it was leased; `audit`: the router also reruns the seeded request
 * and compares bytes (src/verify/audit.ts), beyond the level asked for.
 */
type Plan = { level: CheckLevel; requested: ValidationLevel; audit?: boolean };

const AUTO: ValidationLevel = { kind: 'auto' };

/**
 * Checks nodes' results as the request's validation level asks (src/verify judges them), records verdicts
 * with their evidence, keeps reputation per node and model, and tells listeners (the ledger) of every final
 * verdict. Checks are ordinary tasks: a `score` pass on a validator for `likelihood`, the same request on
 * other workers for `checksum` and `redundant:k`, embeddings for `embedding`. A check never goes to the
 * node, or the payout wallet, whose work it checks.
 *
 * It coordinates (plan at lease, review the result, write the task's check state); the parts it wires do
 * the rest: the check runner (check-runner.ts), the verdicts and reputation (verdict-book.ts), the
 * judgments per level (likelihood-check.ts, embedding-check.ts, replica-check.ts), honeypots and the
 * checks that release a stream early (stream-checks.ts).
 */
export class Verification implements Reviewer<Plan>, TaskObserver {
  readonly #init: VerificationInit;
  readonly #random: () => number;
  readonly #book: VerdictBook;
  readonly #runner: CheckRunner;
  readonly #streams: StreamChecks;
  readonly #likelihood: LikelihoodCheck;
  readonly #embedding: EmbeddingCheck;
  readonly #replicas: ReplicaCheck;

  constructor(init: VerificationInit) {
    this.#init = init;
    this.#random = init.random ?? (() => randomInt(2 ** 32) / 2 ** 32);
    const { tasks, scheduler, log } = init;
    const book = new VerdictBook({ verdicts: init.verdicts, scheduler, log });
    const runner = new CheckRunner({
      tasks,
      scheduler,
      models: init.models,
      stakeOf: init.stakeOf,
      checkWaitMs: init.checkWaitMs,
      recordOf: (nodeId, sha) => book.recordOf(nodeId, sha),
    });
    const streams = new StreamChecks({ tasks, runner, book, log });
    const honeypots = new Honeypots({ runner, book, log, random: this.#random, rate: init.honeypotRate });
    this.#book = book;
    this.#runner = runner;
    this.#streams = streams;
    this.#likelihood = new LikelihoodCheck({
      runner,
      book,
      honeypots,
      streams,
      log,
      counted: (handle, counts) => writeCheck.checkedTokens(handle.check, counts),
    });
    this.#embedding = new EmbeddingCheck(runner);
    this.#replicas = new ReplicaCheck(runner, streams);
  }

  /**
   * Engine tokens spent on checks, for the verification-cost figure; `streamChecks`/`streamTokens` are the
   * chunk checks of likelihood streams (score tasks and tokens evaluated), beyond the whole-answer check.
   */
  get cost(): Readonly<CheckCost> {
    return this.#runner.cost;
  }

  /** Calls `listener` with each final verdict from now on. */
  onVerdict(listener: (event: VerdictEvent) => void): void {
    this.#book.onVerdict(listener);
  }

  reputation(nodeId: string, modelSha256: string): ReputationRecord & { score: number } {
    const record = this.#book.recordOf(nodeId, modelSha256);
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
      workers: this.#runner.parties('worker', record.modelSha256),
      validators: this.#runner.parties('validator', record.modelSha256),
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
    const record = this.#book.recordOf(lease.nodeId, lease.task.modelSha256);
    let level = checkFor(requested, input.kind, params, record, this.#random);
    if (level !== null && requested.kind === 'auto' && !this.#canCheck(level, lease)) {
      // `auto` checks with what the network has: by likelihood when no independent worker can rerun a
      // deterministic request, by hash when no validator can score it; unchecked only when there is nobody
      // independent at all (said in the answer's headers).
      const other = otherLevel(level, params);
      level = other && this.#canCheck(other, lease) ? other : null;
    }
    this.#streams.callOff(handle.record.id);
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
    const early = this.#streams.start(handle, lease, level, requested);
    if (audited && level === 'likelihood') this.#streams.startAudit(handle, lease);
    writeCheck.streamed(handle.check, early ? 'verified-prefix' : 'held');
    return plan;
  }

  /** Releases the part of the attempt's stream its replicas agree on (called on every piece of either). */
  streamed(handle: TaskHandle, _plan: Plan): void {
    this.#streams.streamed(handle);
  }

  failed(record: TaskRecord): void {
    this.#streams.callOff(record.id);
  }

  accepted(result: ResultRecord): void {
    this.#streams.accepted(result.taskId);
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
          ? this.#runner.run(handle, lease, 'worker', [this.#runner.party(result.nodeId)], input)
          : undefined;
      reference?.catch(() => {});
      // A likelihood audit's first replica may already be running (early-audit.ts); its tokens count here.
      const early =
        plan.level === 'likelihood' ? this.#streams.takeAudit(handle.record.id, result.attempt) : null;
      const first = early?.then((replica) => {
        this.#runner.spent(replica.output.promptTokens + replica.output.completionTokens);
        return replica;
      });
      const [checked, audited] = await Promise.all([
        this.#check(handle, plan, result, lease, reference),
        plan.audit ? this.#audit(handle, lease, result, reference ?? first) : [],
      ]);
      // The audit speaks only where the level passed the worker: a fail the level made stands as it was
      // made (its validator takes the slash's share), and an audit cannot pass what the level failed.
      const byLevel = checked.filter((v) => v.nodeId === result.nodeId && v.attempt === result.attempt);
      const levelPassed = byLevel.length > 0 && byLevel.every((v) => v.outcome === 'pass');
      const verdicts = [...checked, ...(levelPassed ? this.#book.record(audited) : [])];
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
          replica: (avoid, key) => this.#runner.run(handle, lease, 'worker', avoid, input, key),
          eligible: (avoid) => this.#runner.eligible('worker', sha, avoid),
          party: (nodeId) => this.#runner.party(nodeId),
          spent: (tokens) => this.#runner.spent(tokens),
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
    switch (plan.level) {
      case 'likelihood':
        return this.#book.record(await this.#likelihood.judge(handle, lease, result));
      case 'embedding':
        return this.#book.record(await this.#embedding.judge(handle, lease, result, reference));
      case 'checksum':
      case 'redundant': {
        const k = plan.requested.kind === 'redundant' ? plan.requested.k : 2;
        return this.#book.record(await this.#replicas.judge(handle, lease, result, plan.level, k));
      }
    }
  }
}

/** Under `auto`, the text check to make instead when no independent node can make `level`. */
function otherLevel(
  level: CheckLevel,
  params: Parameters<typeof isDeterministic>[0] | undefined,
): CheckLevel | null {
  if (level === 'checksum') return 'likelihood';
  return level === 'likelihood' && params && isDeterministic(params) ? 'checksum' : null;
}

import type { ResultRecord, StoredVerdict, VerdictStore } from '../../store/index.js';
import {
  EMPTY_RECORD,
  type judgeLikelihood,
  makeVerdict,
  type ReputationRecord,
  recordVerdict,
  reputationFromVerdicts,
  reputationKey,
  reputationScore,
  toVerdictEvent,
  type ValidatorFault,
  type VerdictEvent,
  type VerdictRecord,
} from '../../verify/index.js';
import type { Logger } from '../log.js';
import type { Scheduler } from './scheduler.js';

export type VerdictBookInit = { verdicts: VerdictStore; scheduler: Scheduler; log: Logger };

/**
 * The verdicts' one writer: stores each, keeps reputation per node and model (and each validator's
 * strikes) from them, and tells listeners (the ledger) of every final verdict. Rebuilt from the stored
 * verdicts on start.
 */
export class VerdictBook {
  readonly #init: VerdictBookInit;
  readonly #reputation = new Map<string, ReputationRecord>();
  /** reputationScore of each record, kept beside it: the scheduler reads it on every dispatch. */
  readonly #scores = new Map<string, number>();
  readonly #listeners: ((event: VerdictEvent) => void)[] = [];
  /** Fault verdicts per validator (honeypots passed, scores of other text): a second one slashes. */
  readonly #strikes = new Map<string, number>();

  constructor(init: VerdictBookInit) {
    this.#init = init;
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

  recordOf(nodeId: string, modelSha256: string): ReputationRecord {
    return this.#reputation.get(reputationKey(nodeId, modelSha256)) ?? EMPTY_RECORD;
  }

  /** A validator's own fail verdict, from what the router checked itself (validator 'router'). */
  fault(
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
    this.record([verdict]);
  }

  /** Stores the verdicts (a duplicate is skipped) and counts each decided one in its node's reputation. */
  record(verdicts: VerdictRecord[]): VerdictRecord[] {
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

  /** The scheduler prefers reputable nodes once there are verdicts at all (until then it has no need to ask). */
  #useScores(): void {
    this.#init.scheduler.useReputation((nodeId, sha) => this.#scores.get(reputationKey(nodeId, sha)) ?? 0);
  }
}

import { canonicalJson, sha256Hex } from '../protocol/index.js';
import type { RedundantJudgment } from './consensus.js';
import type {
  CheckLevel,
  ChecksumEvidence,
  EmbeddingEvidence,
  Evidence,
  Judgment,
  LikelihoodEvidence,
  Outcome,
  RedundantEvidence,
} from './types.js';
import { SLASHING_STRIKE } from './types.js';

/** The evidence each level's judge produces. */
export type EvidenceFor = {
  checksum: ChecksumEvidence;
  redundant: RedundantEvidence;
  likelihood: LikelihoodEvidence;
  embedding: EmbeddingEvidence;
};

/**
 * A verdict on one node's result for one task, with the evidence and thresholds it was judged by, so a
 * dispute can be re-judged from the record alone (or by re-running the same check and comparing).
 */
export type VerdictRecord = {
  /** `verdict_` + a hash of (task, attempt, node, validator, level): recording it twice is idempotent. */
  id: string;
  taskId: string;
  attempt: number;
  /** The node whose result was judged. */
  nodeId: string;
  /** The node that checked it, or 'router' for hash comparisons the router did itself. */
  validatorId: string;
  modelSha256: string;
  level: CheckLevel;
  outcome: Outcome;
  reason: string;
  evidence: Evidence;
  /** Milliseconds since the epoch. */
  at: number;
};

/** What the ledger consumes: final verdicts only (an undecided check is followed by another). */
export type VerdictEvent = {
  type: 'verdict';
  verdictId: string;
  taskId: string;
  attempt: number;
  nodeId: string;
  validatorId: string;
  modelSha256: string;
  level: CheckLevel;
  outcome: 'pass' | 'fail';
  at: number;
};

export type VerdictSubject = {
  taskId: string;
  attempt: number;
  nodeId: string;
  validatorId: string;
  modelSha256: string;
};

/** A stable id: the same check of the same result always gets the same id. */
export function verdictId(subject: VerdictSubject, level: CheckLevel): string {
  const key = canonicalJson({ ...subject, nodeId: subject.nodeId.toLowerCase(), level });
  return `verdict_${sha256Hex(key).slice(0, 32)}`;
}

/** Turns a judge's judgment on one node's result into a verdict record. */
export function makeVerdict<L extends CheckLevel>(
  subject: VerdictSubject,
  level: L,
  judgment: Judgment<EvidenceFor[L]>,
  at: number,
): VerdictRecord {
  return {
    id: verdictId(subject, level),
    ...subject,
    level,
    outcome: judgment.outcome,
    reason: judgment.reason,
    evidence: { level, ...judgment.evidence } as Evidence,
    at,
  };
}

/**
 * One verdict per node from a decided redundant vote: the majority passes, the rest fail. The router
 * compared the hashes, so it is the validator. Undecided votes give none: the task needs more answers.
 */
export function redundantVerdicts(
  task: { taskId: string; modelSha256: string },
  results: ReadonlyArray<{ nodeId: string; attempt: number }>,
  judgment: RedundantJudgment,
  at: number,
): VerdictRecord[] {
  if (judgment.outcome !== 'pass') return [];
  return results.map((r) => {
    const passed = judgment.passed.includes(r.nodeId);
    const subject = { ...task, attempt: r.attempt, nodeId: r.nodeId, validatorId: 'router' };
    const reason = passed ? judgment.reason : `in the minority: ${judgment.reason}`;
    return makeVerdict(subject, 'redundant', { ...judgment, outcome: passed ? 'pass' : 'fail', reason }, at);
  });
}

/** The ledger's view of a verdict, or null while it is undecided or when it is no slash (a dispute). */
export function toVerdictEvent(record: VerdictRecord): VerdictEvent | null {
  // An overruled validator loses reputation, not stake (see confirmedVerdicts); so does a first fault.
  if (record.outcome === 'undecided' || (record.outcome === 'fail' && !isSlash(record))) return null;
  return {
    type: 'verdict',
    verdictId: record.id,
    taskId: record.taskId,
    attempt: record.attempt,
    nodeId: record.nodeId,
    validatorId: record.validatorId,
    modelSha256: record.modelSha256,
    level: record.level,
    outcome: record.outcome,
    at: record.at,
  };
}

/** Whether a verdict slashes its node: a final fail, except a validator's overruled fail (a dispute) and its first fault. */
export function isSlash(verdict: { outcome: string; evidence: unknown }): boolean {
  if (verdict.outcome !== 'fail') return false;
  const evidence = verdict.evidence as { dispute?: unknown; validatorFault?: { strike: number } } | null;
  if (!evidence || typeof evidence !== 'object') return true;
  if (evidence.validatorFault && evidence.validatorFault.strike < SLASHING_STRIKE) return false;
  return evidence.dispute === undefined;
}

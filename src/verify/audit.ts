import type { RedundantJudgment } from './consensus.js';
import { judgeRedundant } from './consensus.js';
import { isDeterministic } from './levels.js';
import { AUTO_POLICY_DEFAULTS, type AutoPolicyOptions, shouldCheck } from './policy.js';
import type { ReputationRecord } from './reputation.js';
import type { DecodingParams, ValidationLevel, Worker } from './types.js';

/**
 * The router's own audit (issue 9). An explicit level is the requester's floor, not the network's ceiling:
 * `likelihood` cannot tell a Q8_0 copy from the F32 model on sampled text, and `embedding` on a small model
 * cannot tell a replayed answer from the right one, but both run on requests the router seeded, whose
 * right bytes any honest node of the same build reproduces. So on such a request the router also reruns
 * it on an independent worker, at the node's `auto` rate (every result while the node is untrusted, the
 * floor once it is trusted), and compares bytes. Explicit `checksum`, `redundant:k` and `auto` already
 * compare bytes, `none` asked for nothing, and unseeded sampled text has no single right answer: none of
 * those is audited.
 */
export function auditFor(
  requested: ValidationLevel,
  kind: 'chat' | 'completion' | 'embedding' | 'score',
  params: Pick<DecodingParams, 'temperature' | 'seed'> | undefined,
  record: ReputationRecord,
  random: () => number,
  options: AutoPolicyOptions = AUTO_POLICY_DEFAULTS,
): boolean {
  if (requested.kind !== 'likelihood' && requested.kind !== 'embedding') return false;
  if ((kind !== 'chat' && kind !== 'completion') || !params || !isDeterministic(params)) return false;
  return shouldCheck(record, random, options);
}

export type AuditAnswer = Worker & { outputSha256: string };

/**
 * An audit's answers so far (the worker's first, then replicas) judged: `pass` when a replica matches the
 * worker; `fail` only when two independent replicas agree with each other and not with the worker (one
 * mismatch is no evidence: the replica may be the cheat, or on other hardware); `more` when a third answer
 * is needed; `undecided` when three answers leave no majority (nodes whose bytes differ, as on mixed
 * hardware: the level the requester chose then judges alone, and nobody is flagged).
 */
export function judgeAudit(answers: readonly AuditAnswer[]): {
  outcome: 'pass' | 'fail' | 'more' | 'undecided';
  judgment: RedundantJudgment;
} {
  const judgment = judgeRedundant(answers, 2);
  const worker = answers[0];
  if (!worker) throw new RangeError('an audit needs the worker answer');
  if (judgment.outcome === 'pass' && judgment.passed.includes(worker.nodeId))
    return { outcome: 'pass', judgment };
  if (judgment.outcome === 'pass' && answers.length >= 3) return { outcome: 'fail', judgment };
  return { outcome: answers.length < 3 ? 'more' : 'undecided', judgment };
}

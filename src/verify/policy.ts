import { isDeterministic } from './levels.js';
import {
  isTrusted,
  REPUTATION_DEFAULTS,
  type ReputationOptions,
  type ReputationRecord,
} from './reputation.js';
import type { CheckLevel, DecodingParams, ValidationLevel } from './types.js';

/**
 * `auto`: adaptive checking, after BOINC's adaptive replication. Untrusted nodes (new, or after a failure)
 * are always checked; once trusted, the share of their results checked falls with the square of their
 * clean streak down to a floor, and one failure resets the streak and the trust.
 */

export type AutoPolicyOptions = ReputationOptions & {
  /** The streak at which the checking rate starts to fall below 1. */
  probation: number;
  /** The lowest checking rate: how often even a long-trusted node is still checked. */
  floor: number;
};

/**
 * Probation 20 and a 4 % floor: the floor is reached at a streak of 100, about 700 results in. A likelihood
 * check evaluates about 1.1 times the tokens the work did (docs/verification.md), so checking 4 % of a
 * trusted node's results costs about 4.4 % of its useful compute, inside the 5 % target.
 */
export const AUTO_POLICY_DEFAULTS: AutoPolicyOptions = { ...REPUTATION_DEFAULTS, probation: 20, floor: 0.04 };

/** The share of this node's results (for this model) that should be checked now. */
export function checkRate(
  record: ReputationRecord,
  options: AutoPolicyOptions = AUTO_POLICY_DEFAULTS,
): number {
  if (!isTrusted(record, options) || record.streak <= options.probation) return 1;
  return Math.max(options.floor, (options.probation / record.streak) ** 2);
}

/** Draws whether to check one result; `random` returns [0, 1) and is injected so tests are deterministic. */
export function shouldCheck(
  record: ReputationRecord,
  random: () => number,
  options: AutoPolicyOptions = AUTO_POLICY_DEFAULTS,
): boolean {
  const rate = checkRate(record, options);
  return rate >= 1 || random() < rate;
}

export type TaskKind = 'chat' | 'completion' | 'embedding';

/**
 * The check a level asks for on one task, or null for none. Under `auto`, deterministic text gets `checksum`
 * and other text `likelihood` (the router falls back to the other when no independent node can make the
 * first); embeddings get `embedding` (recomputed and compared by cosine, since float vectors rarely hash
 * equal across hardware).
 */
export function checkFor(
  level: ValidationLevel,
  kind: TaskKind,
  params: Pick<DecodingParams, 'temperature' | 'seed'> | undefined,
  record: ReputationRecord,
  random: () => number,
  options: AutoPolicyOptions = AUTO_POLICY_DEFAULTS,
): CheckLevel | null {
  switch (level.kind) {
    case 'none':
      return null;
    case 'auto':
      if (!shouldCheck(record, random, options)) return null;
      if (kind === 'embedding') return 'embedding';
      // A deterministic request (greedy, or sampled with a seed: the router seeds every task) is checked by
      // hash: a replica costs about the tokens a likelihood pass does (1.0x vs 1.1x, docs/verification.md) and
      // also catches what likelihood cannot tell on sampled text (a Q8_0 copy claiming F32, a plausible
      // replayed or truncated sample). Likelihood is for requests with no single right answer.
      return params && isDeterministic(params) ? 'checksum' : 'likelihood';
    case 'checksum':
      // A non-deterministic request has no single right hash; judge its likelihood instead.
      return kind !== 'embedding' && params && params.temperature > 0 && params.seed === undefined
        ? 'likelihood'
        : 'checksum';
    case 'likelihood':
      return kind === 'embedding' ? 'embedding' : 'likelihood';
    default:
      return level.kind;
  }
}

/**
 * Reputation per (node, model) from verdicts: a Wilson lower bound on the share of passed checks, with each
 * failure weighing as several checks, so a record is earned slowly and lost quickly.
 */

export type ReputationRecord = {
  passes: number;
  fails: number;
  /** Passed checks since the last failure. */
  streak: number;
};

export type ReputationOptions = {
  /** How many passed checks one failure cancels. */
  failWeight: number;
  /** z of the Wilson interval; 1.96 is 95 % confidence. */
  confidenceZ: number;
  /** Below this score a node gets no unverified work. */
  trustThreshold: number;
};

/**
 * With these, a new node needs 35 clean checks to be trusted (35 / (35 + 1.96^2) = 0.901), and one failure
 * in its first ~300 checks takes the trust away again.
 */
export const REPUTATION_DEFAULTS: ReputationOptions = {
  failWeight: 10,
  confidenceZ: 1.96,
  trustThreshold: 0.9,
};

export const EMPTY_RECORD: ReputationRecord = { passes: 0, fails: 0, streak: 0 };

/** The record after one more verdict. */
export function recordVerdict(record: ReputationRecord, outcome: 'pass' | 'fail'): ReputationRecord {
  return outcome === 'pass'
    ? { passes: record.passes + 1, fails: record.fails, streak: record.streak + 1 }
    : { passes: record.passes, fails: record.fails + 1, streak: 0 };
}

/** Wilson lower bound of the pass rate, failures weighted; 0 for a node with no record. */
export function reputationScore(
  record: ReputationRecord,
  options: ReputationOptions = REPUTATION_DEFAULTS,
): number {
  const n = record.passes + options.failWeight * record.fails;
  if (n === 0) return 0;
  const z2 = options.confidenceZ * options.confidenceZ;
  const p = record.passes / n;
  const centre = p + z2 / (2 * n);
  const spread = options.confidenceZ * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

/** Whether the node may get unverified work for this model. */
export function isTrusted(
  record: ReputationRecord,
  options: ReputationOptions = REPUTATION_DEFAULTS,
): boolean {
  return reputationScore(record, options) >= options.trustThreshold;
}

/** The key reputation is kept under: one record per node and model. */
export function reputationKey(nodeId: string, modelSha256: string): string {
  return `${nodeId.toLowerCase()}/${modelSha256}`;
}

/** Rebuilds every record from stored verdicts (any order; they are replayed by time), as on startup. */
export function reputationFromVerdicts(
  verdicts: Iterable<{ nodeId: string; modelSha256: string; outcome: string; at: number }>,
): Map<string, ReputationRecord> {
  const records = new Map<string, ReputationRecord>();
  for (const v of [...verdicts].sort((a, b) => a.at - b.at)) {
    if (v.outcome !== 'pass' && v.outcome !== 'fail') continue;
    const key = reputationKey(v.nodeId, v.modelSha256);
    records.set(key, recordVerdict(records.get(key) ?? EMPTY_RECORD, v.outcome));
  }
  return records;
}

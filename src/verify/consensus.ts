import { isIndependent, partiesOf } from './independence.js';
import type { ChecksumEvidence, Judgment, RedundantEvidence, Worker } from './types.js';

/** One node's answer to a task, identified by the output hash it signed. */
export type HashedResult = Worker & { outputSha256: string };

/**
 * `checksum`: a second, independent node ran the same deterministic request. Equal hashes pass. Unequal
 * ones are undecided: two answers cannot say which node is wrong, so a third opinion (a redundant vote or
 * a likelihood check) must follow.
 */
export function judgeChecksum(claimed: HashedResult, check: HashedResult): Judgment<ChecksumEvidence> {
  const evidence = { claimedSha256: claimed.outputSha256, checkSha256: check.outputSha256 };
  if (!isIndependent(check, claimed)) {
    return { outcome: 'undecided', reason: 'the checking node is not independent of the worker', evidence };
  }
  return claimed.outputSha256 === check.outputSha256
    ? { outcome: 'pass', reason: 'output hashes match', evidence }
    : { outcome: 'undecided', reason: 'output hashes differ; a third opinion is needed', evidence };
}

export type RedundantJudgment = Judgment<RedundantEvidence> & {
  /** Nodes whose answer is the majority's (pass) and those outside it (fail); both empty when undecided. */
  passed: string[];
  failed: string[];
};

/**
 * `redundant:k`: k independent answers; the hash with a strict majority of the k votes wins. Nodes that
 * share a payout wallet vote once per hash, so a colluding pair cannot outvote an honest node.
 */
export function judgeRedundant(results: readonly HashedResult[], k: number): RedundantJudgment {
  const votes: Record<string, number> = {};
  for (const party of partiesOf(results)) {
    for (const hash of new Set(party.map((r) => r.outputSha256))) votes[hash] = (votes[hash] ?? 0) + 1;
  }
  const hashes = results.map(({ nodeId, wallet, outputSha256 }) => ({ nodeId, wallet, outputSha256 }));
  const ranked = Object.entries(votes).sort((a, b) => b[1] - a[1]);
  const [best, bestVotes] = ranked[0] ?? [null, 0];
  const runnerUp = ranked[1]?.[1] ?? 0;
  // More than half of the k votes asked for, and more than any other answer (extra answers, heard to break
  // a tie, must not raise the bar that an honest pair has to clear).
  const majority = best !== null && bestVotes > k / 2 && bestVotes > runnerUp ? best : null;
  const evidence: RedundantEvidence = { k, hashes, votes, majoritySha256: majority };
  const parties = partiesOf(results).length;
  if (majority === null) {
    const reason =
      parties < k
        ? `only ${parties} independent answers of ${k}`
        : `no answer has a majority of ${k} (best ${bestVotes})`;
    return { outcome: 'undecided', reason, evidence, passed: [], failed: [] };
  }
  const passed = results.filter((r) => r.outputSha256 === majority).map((r) => r.nodeId);
  const failed = results.filter((r) => r.outputSha256 !== majority).map((r) => r.nodeId);
  return {
    outcome: 'pass',
    reason: `${bestVotes} of ${k} independent answers agree`,
    evidence,
    passed,
    failed,
  };
}

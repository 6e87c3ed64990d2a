/**
 * Consensus on review votes: a one-coin Dawid-Skene model (docs/data.md). Each reviewer has one accuracy p, the
 * chance their vote matches the truth whatever the item; it is estimated from gold items (known answers) and
 * from agreement with final verdicts, with a Beta prior. An item's verdict is the posterior of its votes, each
 * vote weighted by log(p / (1 - p)): a reviewer at chance weighs nothing, an accurate one a lot.
 */

export type Verdict = 'accept' | 'reject';

export type ConsensusSettings = {
  /** Posterior confidence an item needs after its first round, ppm (default 0.9). */
  thresholdPpm: number;
  /** Prior pseudo-counts: as if every reviewer had already answered this many right and wrong. */
  priorCorrect: number;
  priorWrong: number;
  /** Below this estimated accuracy (ppm), with enough evidence, a reviewer loses rights and part of its stake. */
  accuracyFloorPpm: number;
  /** Answers with a known truth (gold or decided) before a reviewer can be judged. */
  minEvidence: number;
};

export const defaultConsensus: ConsensusSettings = {
  thresholdPpm: 900_000,
  priorCorrect: 4,
  priorWrong: 1,
  accuracyFloorPpm: 700_000,
  minEvidence: 10,
};

/**
 * What is known of a reviewer: its answers whose truth is known (a gold answer, or the item's final verdict),
 * split by that truth, and how many of each were right.
 */
export type ReviewerRecord = { goodRight: number; goodTotal: number; badRight: number; badTotal: number };

export const emptyRecord = (): ReviewerRecord => ({ goodRight: 0, goodTotal: 0, badRight: 0, badTotal: 0 });

/**
 * A reviewer's estimated accuracy: the mean of its Beta-posterior accuracy on items that should be accepted and
 * on items that should be rejected. Balancing the two keeps the one coin honest when most data is good: an
 * always-accept reviewer is right on the good 90 % of items and wrong on every bad one, which a plain share of
 * right answers would score at 0.9; balanced, it scores about 0.5, which is what its vote is worth.
 */
export function accuracy(record: ReviewerRecord, s: ConsensusSettings = defaultConsensus): number {
  const prior = s.priorCorrect + s.priorWrong;
  const good = (s.priorCorrect + record.goodRight) / (prior + record.goodTotal);
  const bad = (s.priorCorrect + record.badRight) / (prior + record.badTotal);
  return (good + bad) / 2;
}

/** Answers with a known truth in a record. */
export const evidence = (r: ReviewerRecord) => r.goodTotal + r.badTotal;

/** A vote's weight in log-odds: log(p / (1 - p)), p kept inside [0.01, 0.99] so no one reviewer decides alone. */
export function weight(p: number): number {
  const q = Math.min(0.99, Math.max(0.01, p));
  return Math.log(q / (1 - q));
}

export type WeightedVote = { verdict: Verdict; accuracy: number };

/** The posterior chance the item should be accepted, from an even prior and the weighted votes. */
export function acceptProbability(votes: WeightedVote[]): number {
  let logOdds = 0;
  for (const v of votes) logOdds += (v.verdict === 'accept' ? 1 : -1) * weight(v.accuracy);
  return 1 / (1 + Math.exp(-logOdds));
}

export type Decision =
  | { outcome: 'wait' }
  | { outcome: 'second_round'; agreementPpm: number }
  | {
      outcome: 'decided';
      verdict: Verdict;
      agreementPpm: number;
      /** False when round two ended below the threshold and the item was rejected for want of consensus. */
      consensus: boolean;
    };

const round1Confident = (agreementPpm: number, thresholdPpm: number) => agreementPpm >= thresholdPpm;

export type DecideInput = {
  /** Every counted vote on the item, of both rounds. */
  votes: WeightedVote[];
  round: 1 | 2;
  /** Counted votes in this round so far, and how many the round needs. */
  votesThisRound: number;
  needed: number;
  /** A reviewer flagged the item (round 1): it goes to the second round whatever the votes. */
  flagged: boolean;
  thresholdPpm: number;
};

/**
 * Round 1 with its votes in: confident enough (and not flagged) decides, else a second round. Round 2 with
 * its votes in: accepted only if the posterior for accept reaches the threshold, else rejected.
 */
export function decide(input: DecideInput): Decision {
  if (input.votesThisRound < input.needed) return { outcome: 'wait' };
  const p = acceptProbability(input.votes);
  const agreementPpm = Math.round(Math.max(p, 1 - p) * 1_000_000);
  if (input.round === 1 && (input.flagged || agreementPpm < input.thresholdPpm))
    return { outcome: 'second_round', agreementPpm };
  // Accepting needs the threshold in either round: after round two an item still short of it is rejected, so
  // only data that passes a consensus enters the dataset (a 2-2 split of honest reviewers is not consensus).
  const accept = round1Confident(agreementPpm, input.thresholdPpm) && p > 0.5;
  return {
    outcome: 'decided',
    verdict: accept ? 'accept' : 'reject',
    agreementPpm,
    consensus: accept || p < 0.5,
  };
}

/** Whether a reviewer's record shows it below the floor, with enough evidence to say so. */
export function caught(record: ReviewerRecord, s: ConsensusSettings = defaultConsensus): boolean {
  return evidence(record) >= s.minEvidence && accuracy(record, s) * 1_000_000 < s.accuracyFloorPpm;
}

/** Plain majority of the votes (ties reject): the baseline the benchmark compares with. */
export function majority(votes: Verdict[]): Verdict {
  const accepts = votes.filter((v) => v === 'accept').length;
  return accepts * 2 > votes.length ? 'accept' : 'reject';
}

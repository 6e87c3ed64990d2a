import { type DecideInput, type Decision, decide, weight } from './consensus.js';
import type { Answer, Question } from './questions.js';

/**
 * Consensus for label and rating questions (docs/data.md), beside the accept/reject one in consensus.ts.
 *
 * Labels: the one-coin Dawid-Skene model with K classes, the campaign's labels and reject. A reviewer of accuracy
 * p votes the true class with chance p and each other class with (1 - p) / (K - 1), so a vote for class c adds
 * log(p (K - 1) / (1 - p)) to c's log-score and the posterior is the softmax of the scores from an even prior.
 * With K = 2 this is exactly the accept/reject posterior.
 *
 * Ratings: a weighted median, each vote weighted by its reviewer's log-odds log(p / (1 - p)) (none below chance),
 * agreement being the share of the weight within the tolerance of the median; reject votes weigh against it,
 * and when they hold half the weight or more the item is rejected with their share as the agreement.
 */

export type AnswerVote = { answer: Answer; accuracy: number };

/** The posterior of each class (labels in order, then reject) from the weighted votes. */
export function labelPosterior(labels: string[], votes: AnswerVote[]): Map<string | null, number> {
  const classes: (string | null)[] = [...labels, null];
  const k = classes.length;
  const score = new Map<string | null, number>(classes.map((c) => [c, 0]));
  for (const v of votes) {
    const c = v.answer.verdict === 'reject' ? null : v.answer.label;
    if (!score.has(c)) continue;
    const p = Math.min(0.99, Math.max(0.01, v.accuracy));
    score.set(c, (score.get(c) ?? 0) + Math.log((p * (k - 1)) / (1 - p)));
  }
  const top = Math.max(...score.values());
  let total = 0;
  for (const s of score.values()) total += Math.exp(s - top);
  return new Map([...score].map(([c, s]) => [c, Math.exp(s - top) / total]));
}

/** The lower weighted median: the least rating with at least half the weight at or below it. */
export function weightedMedian(ratings: { rating: number; weight: number }[]): number | null {
  const sorted = ratings.filter((r) => r.weight > 0).sort((a, b) => a.rating - b.rating);
  const total = sorted.reduce((sum, r) => sum + r.weight, 0);
  let seen = 0;
  for (const r of sorted) {
    seen += r.weight;
    if (seen * 2 >= total) return r.rating;
  }
  return null;
}

/** The leading outcome of an item's votes and its agreement (0 to 1). */
type Leader = { answer: Answer; agreement: number };

function labelLeader(labels: string[], votes: AnswerVote[]): Leader {
  const posterior = labelPosterior(labels, votes);
  // Reject first, so a tie between reject and a label rejects.
  let best: { c: string | null; p: number } = { c: null, p: posterior.get(null) ?? 0 };
  for (const label of labels) {
    const p = posterior.get(label) ?? 0;
    if (p > best.p) best = { c: label, p };
  }
  return {
    answer: best.c === null ? rejected : { verdict: 'accept', label: best.c, rating: null },
    agreement: best.p,
  };
}

function ratingLeader(tolerance: number, votes: AnswerVote[]): Leader {
  const weighted = votes.map((v) => ({ ...v, weight: Math.max(0, weight(v.accuracy)) }));
  const total = weighted.reduce((sum, v) => sum + v.weight, 0);
  const against = weighted.filter((v) => v.answer.verdict === 'reject').reduce((s, v) => s + v.weight, 0);
  const median = weightedMedian(
    weighted.flatMap((v) =>
      v.answer.rating === null ? [] : [{ rating: v.answer.rating, weight: v.weight }],
    ),
  );
  if (total === 0 || median === null || against * 2 >= total)
    return { answer: rejected, agreement: total === 0 ? 0 : against / total };
  const near = weighted
    .filter((v) => v.answer.rating !== null && Math.abs(v.answer.rating - median) <= tolerance)
    .reduce((s, v) => s + v.weight, 0);
  return { answer: { verdict: 'accept', label: null, rating: median }, agreement: near / total };
}

const rejected: Answer = { verdict: 'reject', label: null, rating: null };

export type AnswerDecision =
  | { outcome: 'wait' }
  | { outcome: 'second_round'; agreementPpm: number }
  | { outcome: 'decided'; answer: Answer; agreementPpm: number; consensus: boolean };

export type DecideAnswerInput = Omit<DecideInput, 'votes'> & { votes: AnswerVote[] };

/**
 * Decides an item under its campaign's question, with the rounds of accept/reject: round 1 decides when the
 * leading answer reaches the threshold and nobody flagged it, else round 2; after round 2 only an accept at the
 * threshold is accepted, anything else rejected (for want of consensus when the votes leaned to accept).
 */
export function decideAnswer(q: Question, input: DecideAnswerInput): AnswerDecision {
  if (q.type === 'accept') {
    const d: Decision = decide({
      ...input,
      votes: input.votes.map((v) => ({ verdict: v.answer.verdict, accuracy: v.accuracy })),
    });
    if (d.outcome !== 'decided') return d;
    return {
      outcome: 'decided',
      answer: { verdict: d.verdict, label: null, rating: null },
      agreementPpm: d.agreementPpm,
      consensus: d.consensus,
    };
  }
  if (input.votesThisRound < input.needed) return { outcome: 'wait' };
  const leader =
    q.type === 'label' ? labelLeader(q.labels, input.votes) : ratingLeader(q.tolerance, input.votes);
  const agreementPpm = Math.round(leader.agreement * 1_000_000);
  const confident = agreementPpm >= input.thresholdPpm;
  if (input.round === 1 && (input.flagged || !confident)) return { outcome: 'second_round', agreementPpm };
  if (leader.answer.verdict === 'accept' && confident)
    return { outcome: 'decided', answer: leader.answer, agreementPpm, consensus: true };
  return {
    outcome: 'decided',
    answer: rejected,
    agreementPpm,
    consensus: leader.answer.verdict === 'reject',
  };
}

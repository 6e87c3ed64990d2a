import { describe, expect, it } from 'vitest';
import { type AnswerVote, decideAnswer, labelPosterior, weightedMedian } from './answer-consensus.js';
import { acceptProbability, accuracy, type ReviewerRecord } from './consensus.js';
import type { Answer, Question } from './questions.js';

const LABELS: Question = { type: 'label', labels: ['cat', 'dog', 'bird'] };
const RATING: Question = { type: 'rating', min: 1, max: 5, tolerance: 1 };
const label = (l: string): Answer => ({ verdict: 'accept', label: l, rating: null });
const rating = (r: number): Answer => ({ verdict: 'accept', label: null, rating: r });
const reject: Answer = { verdict: 'reject', label: null, rating: null };

// Reviewers as gold items measure them: right on 19 of 20 known answers each way, or on 3 of 20.
const accurate: ReviewerRecord = { goodRight: 19, goodTotal: 20, badRight: 19, badTotal: 20 };
const bad: ReviewerRecord = { goodRight: 3, goodTotal: 20, badRight: 3, badTotal: 20 };
const prior: ReviewerRecord = { goodRight: 0, goodTotal: 0, badRight: 0, badTotal: 0 };
const by = (record: ReviewerRecord, answer: Answer): AnswerVote => ({ answer, accuracy: accuracy(record) });

const round1 = (votes: AnswerVote[], extra: { flagged?: boolean } = {}) => ({
  votes,
  round: 1 as const,
  votesThisRound: votes.length,
  needed: votes.length,
  flagged: extra.flagged ?? false,
  thresholdPpm: 900_000,
});

describe('label consensus: one-coin Dawid-Skene over K classes', () => {
  it('is the accept/reject posterior when there is one label', () => {
    const votes = [by(accurate, label('cat')), by(prior, reject), by(bad, label('cat'))];
    const posterior = labelPosterior(['cat'], votes);
    const binary = acceptProbability(votes.map((v) => ({ verdict: v.answer.verdict, accuracy: v.accuracy })));
    expect(posterior.get('cat')).toBeCloseTo(binary, 12);
  });

  it('lets accurate reviewers, weighted by gold, outvote bad ones', () => {
    // One bad reviewer against two accurate ones: decided at once.
    const one = decideAnswer(
      LABELS,
      round1([by(bad, label('dog')), by(accurate, label('cat')), by(accurate, label('cat'))]),
    );
    expect(one).toMatchObject({ outcome: 'decided', answer: label('cat') });
    // Two bad reviewers agreeing against one accurate one: plain majority says dog, the weights say cat.
    const two = decideAnswer(
      LABELS,
      round1([by(bad, label('dog')), by(bad, label('dog')), by(accurate, label('cat'))]),
    );
    expect(two).toMatchObject({ outcome: 'decided', answer: label('cat') });
    if (two.outcome === 'decided') expect(two.agreementPpm).toBeGreaterThan(900_000);
  });

  it('sends a split or a flagged item to the second round, and rejects what round two leaves unsure', () => {
    const split = round1([by(prior, label('cat')), by(prior, label('dog'))]);
    expect(decideAnswer(LABELS, split).outcome).toBe('second_round');
    const agreed = round1([by(prior, label('cat')), by(prior, label('cat'))]);
    expect(decideAnswer(LABELS, agreed)).toMatchObject({ outcome: 'decided', answer: label('cat') });
    expect(decideAnswer(LABELS, { ...agreed, flagged: true }).outcome).toBe('second_round');
    const unsure = decideAnswer(LABELS, {
      ...round1([
        by(prior, label('cat')),
        by(prior, label('dog')),
        by(prior, label('cat')),
        by(prior, label('dog')),
      ]),
      round: 2,
    });
    expect(unsure).toMatchObject({ outcome: 'decided', answer: reject, consensus: false });
    const spam = decideAnswer(LABELS, round1([by(prior, reject), by(prior, reject)]));
    expect(spam).toMatchObject({ outcome: 'decided', answer: reject, consensus: true });
    expect(decideAnswer(LABELS, { ...split, votesThisRound: 1 }).outcome).toBe('wait');
  });
});

describe('rating consensus: a weighted median', () => {
  it('takes the lower weighted median', () => {
    expect(
      weightedMedian([
        { rating: 5, weight: 1 },
        { rating: 2, weight: 1 },
        { rating: 3, weight: 1 },
      ]),
    ).toBe(3);
    expect(
      weightedMedian([
        { rating: 1, weight: 3 },
        { rating: 5, weight: 1 },
      ]),
    ).toBe(1);
    expect(
      weightedMedian([
        { rating: 2, weight: 1 },
        { rating: 4, weight: 1 },
      ]),
    ).toBe(2);
    expect(weightedMedian([{ rating: 4, weight: 0 }])).toBeNull();
  });

  it('gives a bad reviewer no weight and measures agreement within the tolerance', () => {
    // The bad reviewer rates 1 where the accurate ones rate 4 and 5: it is below chance, so it weighs nothing.
    const d = decideAnswer(
      RATING,
      round1([by(bad, rating(1)), by(accurate, rating(4)), by(accurate, rating(5))]),
    );
    expect(d).toEqual({ outcome: 'decided', answer: rating(4), agreementPpm: 1_000_000, consensus: true });
    // Equal weights spread over the scale: the median is 3 and only a third of the weight is within 1 of it.
    const spread = decideAnswer(
      RATING,
      round1([by(prior, rating(1)), by(prior, rating(3)), by(prior, rating(5))]),
    );
    expect(spread).toEqual({ outcome: 'second_round', agreementPpm: 333_333 });
  });

  it('rejects when reject votes hold half the weight, and after an unsure second round', () => {
    const rejected = decideAnswer(
      RATING,
      round1([by(prior, reject), by(prior, reject), by(prior, rating(4))]),
    );
    expect(rejected).toEqual({ outcome: 'second_round', agreementPpm: 666_667 });
    const twoRounds = decideAnswer(RATING, {
      ...round1([by(prior, reject), by(prior, reject), by(prior, rating(4)), by(prior, reject)]),
      round: 2,
    });
    expect(twoRounds).toMatchObject({ outcome: 'decided', answer: reject, consensus: true });
    const unsure = decideAnswer(RATING, {
      ...round1([by(prior, rating(1)), by(prior, rating(5)), by(prior, rating(5)), by(prior, rating(1))]),
      round: 2,
    });
    expect(unsure).toMatchObject({ outcome: 'decided', answer: reject, consensus: false });
  });
});

import { describe, expect, it } from 'vitest';
import {
  acceptProbability,
  accuracy,
  caught,
  decide,
  defaultConsensus,
  emptyRecord,
  majority,
  type ReviewerRecord,
  weight,
} from './consensus.js';

describe('one-coin Dawid-Skene consensus', () => {
  it('a reviewer at chance weighs nothing; an accurate one outweighs two at chance', () => {
    expect(weight(0.5)).toBe(0);
    const p = acceptProbability([
      { verdict: 'reject', accuracy: 0.95 },
      { verdict: 'accept', accuracy: 0.52 },
      { verdict: 'accept', accuracy: 0.5 },
    ]);
    expect(p).toBeLessThan(0.1);
  });

  it('accuracy is the Beta posterior mean: the prior, then the record', () => {
    expect(accuracy(emptyRecord())).toBeCloseTo(0.8);
    expect(accuracy({ goodRight: 10, goodTotal: 10, badRight: 10, badTotal: 10 })).toBeCloseTo(14 / 15);
    // Right on every good item, wrong on every bad one: about what a coin is worth.
    expect(accuracy({ goodRight: 90, goodTotal: 90, badRight: 0, badTotal: 10 })).toBeCloseTo(
      (94 / 95 + 4 / 15) / 2,
    );
  });

  it('round one: unanimous decides, a split or a flag goes to round two; round two always decides', () => {
    const votes = (...v: ('accept' | 'reject')[]) => v.map((verdict) => ({ verdict, accuracy: 0.8 }));
    const base = { round: 1 as const, needed: 3, flagged: false, thresholdPpm: 900_000 };
    expect(decide({ ...base, votes: votes('accept', 'accept'), votesThisRound: 2 })).toEqual({
      outcome: 'wait',
    });
    expect(decide({ ...base, votes: votes('accept', 'accept', 'accept'), votesThisRound: 3 })).toMatchObject({
      outcome: 'decided',
      verdict: 'accept',
    });
    expect(decide({ ...base, votes: votes('accept', 'accept', 'reject'), votesThisRound: 3 }).outcome).toBe(
      'second_round',
    );
    expect(
      decide({ ...base, flagged: true, votes: votes('accept', 'accept', 'accept'), votesThisRound: 3 })
        .outcome,
    ).toBe('second_round');
    const second = decide({
      ...base,
      round: 2,
      votes: votes('accept', 'accept', 'reject', 'reject', 'reject', 'accept'),
      votesThisRound: 3,
    });
    // A tie rejects: only data that passes enters the dataset.
    expect(second).toMatchObject({
      outcome: 'decided',
      verdict: 'reject',
      agreementPpm: 500_000,
      consensus: false,
    });
    // So does a lean to accept below the threshold after round two.
    const lean = decide({
      ...base,
      round: 2,
      votes: votes('accept', 'accept', 'accept', 'reject', 'reject'),
      votesThisRound: 3,
    });
    expect(lean).toMatchObject({ outcome: 'decided', verdict: 'reject', consensus: false });
    expect(
      decide({
        ...base,
        round: 2,
        votes: votes('accept', 'accept', 'accept', 'accept', 'reject'),
        votesThisRound: 3,
      }),
    ).toMatchObject({ verdict: 'accept', consensus: true });
  });

  it('catches an always-accept and a random reviewer on gold, not an honest one', () => {
    // 20 gold items, half of them spam (gold sets test both ways; docs/data.md).
    const gold = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'reject' : 'accept'));
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const reviewers = {
      honest: (truth: string) => (random() < 0.95 ? truth : truth === 'accept' ? 'reject' : 'accept'),
      alwaysAccept: () => 'accept',
      coin: () => (random() < 0.5 ? 'accept' : 'reject'),
    };
    const records = Object.fromEntries(
      Object.entries(reviewers).map(([name, vote]) => {
        const r = emptyRecord();
        for (const truth of gold) {
          const right = vote(truth) === truth ? 1 : 0;
          if (truth === 'accept') {
            r.goodTotal += 1;
            r.goodRight += right;
          } else {
            r.badTotal += 1;
            r.badRight += right;
          }
        }
        return [name, r];
      }),
    );
    expect(caught(records.honest as ReviewerRecord)).toBe(false);
    expect(caught(records.alwaysAccept as ReviewerRecord)).toBe(true);
    expect(caught(records.coin as ReviewerRecord)).toBe(true);
    // Not before the evidence is in: four wrong answers are not yet enough.
    expect(caught({ ...emptyRecord(), badTotal: defaultConsensus.minEvidence - 1 })).toBe(false);
  });

  it('plain majority, the baseline', () => {
    expect(majority(['accept', 'accept', 'reject'])).toBe('accept');
    expect(majority(['accept', 'reject'])).toBe('reject');
  });
});

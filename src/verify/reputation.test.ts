import { describe, expect, it } from 'vitest';
import {
  EMPTY_RECORD,
  isTrusted,
  type ReputationRecord,
  recordVerdict,
  reputationFromVerdicts,
  reputationKey,
  reputationScore,
} from './index.js';

const recordOf = (outcomes: Array<'pass' | 'fail'>): ReputationRecord =>
  outcomes.reduce(recordVerdict, EMPTY_RECORD);
const passes = (n: number): Array<'pass'> => Array.from({ length: n }, () => 'pass' as const);

describe('reputation', () => {
  it('starts at zero and grows with clean checks', () => {
    expect(reputationScore(EMPTY_RECORD)).toBe(0);
    expect(reputationScore(recordOf(passes(10)))).toBeCloseTo(10 / (10 + 1.96 ** 2), 5);
    expect(reputationScore(recordOf(passes(100)))).toBeGreaterThan(reputationScore(recordOf(passes(10))));
  });

  it('trusts a node after 35 clean checks and not before', () => {
    expect(isTrusted(recordOf(passes(34)))).toBe(false);
    expect(isTrusted(recordOf(passes(35)))).toBe(true);
  });

  it('loses trust on one failure and resets the streak', () => {
    const record = recordOf([...passes(100), 'fail']);
    expect(record).toEqual({ passes: 100, fails: 1, streak: 0 });
    expect(isTrusted(record)).toBe(false);
    expect(isTrusted(recordOf([...passes(100), 'fail', ...passes(300)]))).toBe(true);
  });

  it('rebuilds records from stored verdicts in time order, skipping undecided ones', () => {
    const model = 'ab'.repeat(32);
    const records = reputationFromVerdicts([
      { nodeId: '0xAA', modelSha256: model, outcome: 'pass', at: 3 },
      { nodeId: '0xaa', modelSha256: model, outcome: 'fail', at: 1 },
      { nodeId: '0xaa', modelSha256: model, outcome: 'undecided', at: 2 },
      { nodeId: '0xbb', modelSha256: model, outcome: 'pass', at: 1 },
    ]);
    expect(records.get(reputationKey('0xaa', model))).toEqual({ passes: 1, fails: 1, streak: 1 });
    expect(records.get(reputationKey('0xBB', model))).toEqual({ passes: 1, fails: 0, streak: 1 });
  });
});

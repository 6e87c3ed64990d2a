import { describe, expect, it } from 'vitest';
import {
  AUTO_POLICY_DEFAULTS,
  checkFor,
  checkRate,
  EMPTY_RECORD,
  type ReputationRecord,
  recordVerdict,
  shouldCheck,
} from './index.js';

const clean = (n: number): ReputationRecord => ({ passes: n, fails: 0, streak: n });
/** A fixed sequence of "random" numbers, so each draw is known. */
const sequence = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('auto policy', () => {
  it('always checks new and untrusted nodes', () => {
    expect(checkRate(EMPTY_RECORD)).toBe(1);
    expect(checkRate(clean(20))).toBe(1);
    expect(checkRate({ passes: 100, fails: 1, streak: 60 })).toBe(1);
    expect(shouldCheck(EMPTY_RECORD, () => 0.999)).toBe(true);
  });

  it('checks less as a clean streak grows, down to the floor', () => {
    expect(checkRate(clean(40))).toBeCloseTo(0.25);
    expect(checkRate(clean(60))).toBeCloseTo(1 / 9);
    expect(checkRate(clean(100))).toBeCloseTo(AUTO_POLICY_DEFAULTS.floor, 5);
    expect(checkRate(clean(10_000))).toBe(AUTO_POLICY_DEFAULTS.floor);
    const rates = [40, 50, 70, 100, 200].map((n) => checkRate(clean(n)));
    expect([...rates].sort((a, b) => b - a)).toEqual(rates);
  });

  it('snaps back to checking everything after a failure', () => {
    const record = recordVerdict(clean(1000), 'fail');
    expect(checkRate(record)).toBe(1);
  });

  it('draws deterministically from the injected random source', () => {
    const record = clean(40); // rate 0.25
    const draws = Array.from({ length: 4 }, sequence([0.1, 0.3, 0.24, 0.9]));
    const random = sequence([0.1, 0.3, 0.24, 0.9]);
    expect(draws.map(() => shouldCheck(record, random))).toEqual([true, false, true, false]);
    // Over many draws the share checked matches the rate.
    let state = 1;
    const lcg = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    let checked = 0;
    for (let i = 0; i < 20_000; i++) if (shouldCheck(record, lcg)) checked++;
    expect(checked / 20_000).toBeCloseTo(0.25, 1);
  });

  it('picks the check a level asks for', () => {
    const always = () => 0;
    const never = () => 0.99;
    const trusted = clean(10_000);
    expect(checkFor({ kind: 'none' }, 'chat', undefined, EMPTY_RECORD, always)).toBeNull();
    expect(checkFor({ kind: 'auto' }, 'chat', { temperature: 0 }, EMPTY_RECORD, never)).toBe('checksum');
    expect(checkFor({ kind: 'auto' }, 'chat', { temperature: 0.7, seed: 3 }, EMPTY_RECORD, never)).toBe(
      'checksum',
    );
    expect(checkFor({ kind: 'auto' }, 'chat', { temperature: 0.7 }, EMPTY_RECORD, never)).toBe('likelihood');
    expect(checkFor({ kind: 'auto' }, 'embedding', undefined, EMPTY_RECORD, never)).toBe('embedding');
    expect(checkFor({ kind: 'auto' }, 'chat', { temperature: 0 }, trusted, never)).toBeNull();
    expect(checkFor({ kind: 'checksum' }, 'chat', { temperature: 0 }, trusted, never)).toBe('checksum');
    expect(checkFor({ kind: 'checksum' }, 'chat', { temperature: 0.7 }, trusted, never)).toBe('likelihood');
    expect(checkFor({ kind: 'checksum' }, 'chat', { temperature: 0.7, seed: 1 }, trusted, never)).toBe(
      'checksum',
    );
    expect(checkFor({ kind: 'redundant', k: 3 }, 'completion', undefined, trusted, never)).toBe('redundant');
  });
});

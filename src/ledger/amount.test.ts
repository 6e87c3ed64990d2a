import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../protocol/index.js';
import {
  checkAmount,
  formatAmount,
  formatPpm,
  InvalidAmountError,
  ONE_TOKEN,
  parseAmount,
  parseJsonAmount,
  parsePpm,
} from './amount.js';
import { consistencyPpm, median, omniTensorReward, tensorChainReward } from './formulas.js';

describe('amounts', () => {
  it('parses whole tokens with up to 18 decimals into the smallest unit, without floats', () => {
    expect(parseAmount('1.5')).toBe(1_500_000_000_000_000_000n);
    expect(parseAmount('0.000000000000000001')).toBe(1n);
    expect(parseAmount('100')).toBe(100n * ONE_TOKEN);
    expect(parseAmount('.25')).toBe(ONE_TOKEN / 4n);
    // 2^64 tokens: far beyond a float's or an int64's exact range.
    expect(parseAmount('18446744073709551616.000000000000000001')).toBe(
      18446744073709551616n * ONE_TOKEN + 1n,
    );
  });

  it('formats the smallest unit back as whole tokens with only the decimals it needs', () => {
    expect(formatAmount(1_500_000_000_000_000_000n)).toBe('1.5');
    expect(formatAmount(1n)).toBe('0.000000000000000001');
    expect(formatAmount(0n)).toBe('0');
    expect(formatAmount(-ONE_TOKEN * 3n)).toBe('-3');
    for (const text of ['0.1', '123456789.987654321', '7'])
      expect(formatAmount(parseAmount(text))).toBe(text);
  });

  it('round-trips every amount through formatAmount and parseAmount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), (v) => parseAmount(formatAmount(v)) === v),
    );
  });

  it('refuses bad amounts with an error that names the field and quotes the value', () => {
    const cases: [string, RegExp][] = [
      ['-1', /amount '-1' is not a valid amount: it must not be negative/],
      ['1e18', /amount '1e18' is not a valid amount: write an amount of tokens like 1.5/],
      ['0.0000000000000000001', /more than 18 decimals/],
      ['', /amount '' is not a valid amount/],
      ['1,5', /amount '1,5'/],
    ];
    for (const [text, message] of cases) {
      const error = (() => {
        try {
          parseAmount(text);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidAmountError);
      expect(error).toBeInstanceOf(InvalidParameterError);
      expect((error as InvalidAmountError).value).toBe(text);
      expect((error as Error).message).toMatch(message);
    }
    expect(() => parseAmount('x', 'budget')).toThrow(/budget 'x'/);
    expect(() => checkAmount(0n)).toThrow(/must be positive/);
    expect(() => checkAmount(-5n, 'budget', true)).toThrow(/budget '-0.000000000000000005'.*negative/);
  });

  it('parses ratios into parts per million', () => {
    expect(parsePpm('0.05', 'fee')).toBe(50_000n);
    expect(parsePpm(0.5)).toBe(500_000n);
    expect(() => parsePpm('1.5', 'fee')).toThrow(/fee '1.5'.*at most 1/);
    expect(() => parsePpm('0.0000001', 'fee')).toThrow(/more than 6 decimals/);
    expect(formatPpm(1_250_000n)).toBe('1.25');
  });
});

describe('the seeds formulas in fixed point', () => {
  it('seed 000: Reward = (Base * Power) + (Bonus * Tasks) * Consistency, Consistency on the bonus only', () => {
    // Base 10 tokens/hour over a 2-hour epoch = 20; Power 0.75; Bonus 0.1 x 30 tasks x Consistency 1.25.
    const r = omniTensorReward({
      basePerHour: 10n * ONE_TOKEN,
      durationMs: 7_200_000n,
      powerPpm: 750_000n,
      bonusPerTask: ONE_TOKEN / 10n,
      tasks: 30n,
      consistencyPpm: 1_250_000n,
    });
    expect(r.base).toBe(20n * ONE_TOKEN);
    expect(formatAmount(r.baseTerm)).toBe('15');
    expect(formatAmount(r.taskTerm)).toBe('3.75');
    expect(formatAmount(r.amount)).toBe('18.75');
  });

  it('Consistency runs from 1.0 (never up) to 1.5 (up all epoch), capped there', () => {
    expect(consistencyPpm(0n, 1000n)).toBe(1_000_000n);
    expect(consistencyPpm(500n, 1000n)).toBe(1_250_000n);
    expect(consistencyPpm(1000n, 1000n)).toBe(1_500_000n);
    expect(consistencyPpm(5000n, 1000n)).toBe(1_500_000n);
  });

  it('seed 001: R = alpha * S * eta, rounded down to the smallest unit', () => {
    // alpha 0.01 % an hour over 1 hour, stake 1000 tokens, eta 1.5: 0.15 tokens.
    const r = tensorChainReward({
      alphaPpmPerHour: 100n,
      durationMs: 3_600_000n,
      stake: 1000n * ONE_TOKEN,
      etaPpm: 1_500_000n,
    });
    expect(formatAmount(r)).toBe('0.15');
    expect(tensorChainReward({ alphaPpmPerHour: 1n, durationMs: 1n, stake: 1n, etaPpm: 1n })).toBe(0n);
    expect(median([5n, 1n, 3n])).toBe(3n);
    expect(median([4n, 1n, 3n, 10n])).toBe(3n);
  });
});

describe('amounts from a JSON body', () => {
  it('reads strings exactly, to the last of 18 decimals', () => {
    expect(parseJsonAmount('1.000000000000000001')).toBe(ONE_TOKEN + 1n);
  });

  it('refuses JSON numbers, naming the field: a double cannot hold every amount', () => {
    // What JSON.parse makes of 1.0000000000000000001: the digits are gone before the router sees them.
    const parsed = (JSON.parse('{"amount": 1.0000000000000000001}') as { amount: number }).amount;
    expect(() => parseJsonAmount(parsed)).toThrow(InvalidAmountError);
    expect(() => parseJsonAmount(1.5, 'budget')).toThrow(expect.objectContaining({ param: 'budget' }));
    expect(() => parseJsonAmount(null)).toThrow(expect.objectContaining({ param: 'amount' }));
  });
});

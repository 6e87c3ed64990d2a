import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../protocol/index.js';
import { formatValidationLevel, isDeterministic, parseValidationLevel } from './index.js';

describe('validation levels', () => {
  it('parses every level and formats it back', () => {
    for (const text of [
      'none',
      'checksum',
      'likelihood',
      'embedding',
      'auto',
      'redundant:2',
      'redundant:5',
    ]) {
      expect(formatValidationLevel(parseValidationLevel(text))).toBe(text);
    }
    expect(parseValidationLevel(' Redundant ')).toEqual({ kind: 'redundant', k: 3 });
  });

  it('rejects unknown levels and bad k, naming the field', () => {
    const err = (() => {
      try {
        parseValidationLevel('paranoid', 'x_validation');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect(err).toMatchObject({ param: 'x_validation', code: 'invalid_parameter' });
    expect(() => parseValidationLevel('redundant:1')).toThrow(/k from 2/);
    expect(() => parseValidationLevel('redundant:10')).toThrow(InvalidParameterError);
  });

  it('calls greedy and seeded requests deterministic', () => {
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0.8, seed: 3 })).toBe(true);
    expect(isDeterministic({ temperature: 0.8 })).toBe(false);
  });
});

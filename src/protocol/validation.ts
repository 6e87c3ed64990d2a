import { InvalidParameterError } from './errors.js';

/**
 * How a result is checked, as the API's `validation` field names it; `auto` resolves to one of the others
 * per task (src/verify/policy.ts). A wire shape: requests, sessions, keys and stored tasks carry it.
 */
export type ValidationLevel =
  | { kind: 'none' }
  | { kind: 'checksum' }
  | { kind: 'redundant'; k: number }
  | { kind: 'likelihood' }
  | { kind: 'embedding' }
  | { kind: 'auto' };

/** Above this, redundancy costs more than re-running elsewhere and gains nothing a vote of 9 does not. */
export const MAX_REDUNDANCY = 9;

/** Parses a `validation` field (`none`, `checksum`, `redundant:k`, `likelihood`, `embedding`, `auto`). */
export function parseValidationLevel(text: string, param = 'validation'): ValidationLevel {
  const value = text.trim().toLowerCase();
  switch (value) {
    case 'none':
    case 'checksum':
    case 'likelihood':
    case 'embedding':
    case 'auto':
      return { kind: value };
  }
  const match = /^redundant(?::(\d+))?$/.exec(value);
  if (match) {
    const k = match[1] === undefined ? 3 : Number(match[1]);
    if (k >= 2 && k <= MAX_REDUNDANCY) return { kind: 'redundant', k };
    throw new InvalidParameterError(param, `redundant:k needs k from 2 to ${MAX_REDUNDANCY}; got ${k}.`);
  }
  throw new InvalidParameterError(
    param,
    `Unknown validation level '${text}'. Use none, checksum, redundant:k, likelihood, embedding or auto.`,
  );
}

/** The level as the API spells it (the inverse of parseValidationLevel). */
export function formatValidationLevel(level: ValidationLevel): string {
  return level.kind === 'redundant' ? `redundant:${level.k}` : level.kind;
}

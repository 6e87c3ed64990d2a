import { InvalidParameterError } from '../protocol/index.js';
import type { DecodingParams, ValidationLevel } from './types.js';

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

/** Whether two honest nodes on the same build must produce the same bytes: greedy, or sampled with a seed. */
export function isDeterministic(params: Pick<DecodingParams, 'temperature' | 'seed'>): boolean {
  return params.temperature === 0 || params.seed !== undefined;
}

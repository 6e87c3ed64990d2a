import type { DecodingParams } from './types.js';

// The level is a wire shape (the API's `validation` field): defined in src/protocol, re-exported here.
export { formatValidationLevel, MAX_REDUNDANCY, parseValidationLevel } from '../protocol/index.js';

/** Whether two honest nodes on the same build must produce the same bytes: greedy, or sampled with a seed. */
export function isDeterministic(params: Pick<DecodingParams, 'temperature' | 'seed'>): boolean {
  return params.temperature === 0 || params.seed !== undefined;
}

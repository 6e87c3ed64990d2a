import { eligibleValidators, partiesOf } from './independence.js';
import { formatValidationLevel } from './levels.js';
import { checkFor, type TaskKind } from './policy.js';
import { EMPTY_RECORD } from './reputation.js';
import type { DecodingParams, ValidationLevel, Worker } from './types.js';

/** The connected nodes that hold a task's model, by role (a node in both roles is in both lists). */
export type NetworkView = { workers: readonly Worker[]; validators: readonly Worker[] };

/**
 * What the connected nodes lack to make the check an explicit level asks for, in words a user can act on,
 * or null when they can make it. A check that cannot be made would hold the task (and its payment) with no
 * end, so the router refuses such a request up front. `auto` and `none` never lack anything: `auto` checks
 * with what there is.
 */
export function missingForCheck(
  level: ValidationLevel,
  kind: TaskKind,
  params: Pick<DecodingParams, 'temperature' | 'seed'> | undefined,
  nodes: NetworkView,
): string | null {
  if (level.kind === 'auto' || level.kind === 'none') return null;
  // Explicit levels do not depend on reputation or chance.
  const check = checkFor(level, kind, params, EMPTY_RECORD, () => 0);
  if (check === null) return null;
  const name = formatValidationLevel(level);
  const parties = partiesOf(nodes.workers).length;
  const workers = (k: number) =>
    parties >= k
      ? null
      : `validation: ${name} needs ${k} independent workers (different nodes and payout wallets); ${parties} ${parties === 1 ? 'is' : 'are'} connected`;
  const validator = () => {
    if (nodes.validators.length === 0) return `validation: ${name} needs a validator node; none is connected`;
    const independent = nodes.workers.some((w) => eligibleValidators(nodes.validators, [w]).length > 0);
    return independent
      ? null
      : `validation: ${name} needs a validator independent of the worker (another node and payout wallet); none is connected`;
  };
  switch (check) {
    case 'likelihood':
      return validator();
    case 'checksum':
      return workers(2);
    case 'redundant':
      return workers(level.kind === 'redundant' ? level.k : 2);
    case 'embedding':
      // Text answers are embedded by a validator; embedding requests are compared with another worker's.
      return (kind === 'embedding' ? null : validator()) ?? workers(2);
  }
}

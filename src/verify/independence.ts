import type { Worker } from './types.js';

/**
 * Independence: a check only counts when the checker could not simply agree with itself. A node never
 * checks its own result, and nodes paid to the same wallet are one party, whatever their node ids.
 */

function sameParty(a: Worker, b: Worker): boolean {
  return (
    a.nodeId.toLowerCase() === b.nodeId.toLowerCase() || a.wallet.toLowerCase() === b.wallet.toLowerCase()
  );
}

/** Whether `validator` may check work done by `worker`. */
export function isIndependent(validator: Worker, worker: Worker): boolean {
  return !sameParty(validator, worker);
}

/** The candidates that may check a task, given everyone who already worked on it (in their order). */
export function eligibleValidators<T extends Worker>(
  candidates: readonly T[],
  workers: readonly Worker[],
): T[] {
  return candidates.filter((c) => workers.every((w) => isIndependent(c, w)));
}

/** Groups workers into independent parties: one group per payout wallet. */
export function partiesOf<T extends Worker>(workers: readonly T[]): T[][] {
  const byWallet = new Map<string, T[]>();
  for (const w of workers) {
    const key = w.wallet.toLowerCase();
    const group = byWallet.get(key);
    if (group) group.push(w);
    else byWallet.set(key, [w]);
  }
  return [...byWallet.values()];
}

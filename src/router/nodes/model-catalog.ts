import type { ModelAnnouncement } from '../../protocol/index.js';
import type { ModelStore } from '../../store/index.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../tasks/scheduler.js';

/** How long a file only nodes announced stays in the catalog after the last node serving it left. */
export const ANNOUNCED_MODEL_TTL_MS = 10 * 60_000;

/** How often the catalog is swept for announced files nobody serves. */
export const CATALOG_SWEEP_MS = 60_000;

/**
 * Notes the models a node announced. Names are bound only by the operator (`model add`): a file the operator
 * did not register is kept under its sha256, and clients reach it by that alone, so a node cannot take over a
 * name (and the requests and price that go with it) by announcing another file under it.
 */
export function announceModels(
  models: ModelStore,
  announced: readonly ModelAnnouncement[],
  nodeId: string,
  log: Logger,
  now = Date.now(),
): void {
  for (const model of announced) {
    if (models.announce({ ...model, addedAt: now }).registered) continue;
    const named = models.resolve(model.name);
    if (named?.registered && named.sha256 !== model.sha256)
      log('warn', 'node announced another file under a registered name; it is served by its sha256 only', {
        node: nodeId,
        name: model.name,
        announced: model.sha256,
        registered: named.sha256,
      });
  }
}

/** Drops announced files no connected node (worker or validator) has served for `ttlMs`; returns them. */
export function expireAnnouncedModels(
  models: ModelStore,
  scheduler: Pick<Scheduler, 'nodesPerModel'>,
  now = Date.now(),
  ttlMs = ANNOUNCED_MODEL_TTL_MS,
): string[] {
  const served = new Set([
    ...scheduler.nodesPerModel('worker').keys(),
    ...scheduler.nodesPerModel('validator').keys(),
  ]);
  return models.expireAnnounced(served, now, ttlMs);
}

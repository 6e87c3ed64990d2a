import type { IdleReason, IdleReasonView } from '../../protocol/index.js';
import type { SchedulerActivity } from '../tasks/scheduler.js';

/** Reasons kept per node (newest last); a repeat of the latest only moves its time. */
export const IDLE_RING = 16;
/** Nodes whose reasons are kept at most (those not heard of longest are dropped first). */
const MAX_NODES = 20_000;
/** Verified reputation below this (0..1) is called low: the scheduler weighs it into its choice. */
const LOW_REPUTATION = 0.25;

const ACTIONS: Record<IdleReason, string> = {
  model_not_held:
    'Serve the model that work is waiting for: restart the node with --model NAME (nodes fetch registered models from the router).',
  low_reputation:
    "Check the node's connection, speed and logs; it earns trust back by delivering work and passing checks.",
  stake_below_minimum: "Bond at least the network's minimum stake for this node (`otensor-cli stake`).",
  busy: 'Every slot was taken when work came: nothing to fix; more --slots (memory permitting) takes more at once.',
  offline: 'Start the node again (`otensor-cli node start`) and check that it reaches the router.',
};

export type IdleSweepInput = {
  activity: SchedulerActivity;
  /** Connected nodes kept from work for want of stake. */
  parked: readonly string[];
  /** Verified reputation (0..1) of a node for a model; the scheduler prefers reputable nodes. */
  reputation: (nodeId: string, modelSha256: string) => number;
  /** Model names by sha256, for readable details. */
  modelName: (sha256: string) => string;
  now: number;
};

/**
 * The scheduler's recent reasons for passing nodes over ("why is my node idle"), in a small ring per node.
 * Worked out once a second from what the scheduler did (Scheduler.activity), never on the dispatch path.
 */
export class IdleReasons {
  readonly #rings = new Map<string, IdleReasonView[]>();
  #online = new Set<string>();

  /** A node's recent reasons, newest first. */
  of(nodeId: string): IdleReasonView[] {
    return [...(this.#rings.get(nodeId.toLowerCase()) ?? [])].reverse();
  }

  record(nodeId: string, reason: IdleReason, detail: string, at: number): void {
    const id = nodeId.toLowerCase();
    let ring = this.#rings.get(id);
    if (!ring) {
      ring = [];
      if (this.#rings.size >= MAX_NODES) {
        const [oldest] = this.#rings.keys();
        if (oldest !== undefined) this.#rings.delete(oldest);
      }
    } else this.#rings.delete(id);
    // Most recently touched nodes last in the map, so the oldest is dropped first.
    this.#rings.set(id, ring);
    const last = ring[ring.length - 1];
    if (last && last.reason === reason && last.detail === detail) {
      last.at = at;
      return;
    }
    ring.push({ at, reason, detail, action: ACTIONS[reason] });
    if (ring.length > IDLE_RING) ring.shift();
  }

  /** One sweep: who was passed over for the work the scheduler had since the last one, and why. */
  sweep(input: IdleSweepInput): void {
    const { activity, now } = input;
    const online = new Set<string>();
    for (const node of activity.nodes) online.add(node.id);
    for (const id of input.parked) online.add(id);
    for (const id of this.#online)
      if (!online.has(id)) this.record(id, 'offline', `disconnected from the router`, now);
    this.#online = online;
    if (activity.pools.size === 0) return;
    const wanted = [...activity.pools.keys()];
    for (const id of input.parked)
      this.record(id, 'stake_below_minimum', 'bonded stake is below the minimum, so it gets no work', now);
    for (const node of activity.nodes) {
      const held = new Set(node.pools);
      const free = node.running < node.slots && node.backoffUntil === 0;
      for (const pool of wanted) {
        const [role = 'worker', sha = ''] = pool.split('/');
        const waiting = activity.pools.get(pool);
        if (!held.has(pool)) {
          if (free && !node.pools.some((p) => p.endsWith(`/${sha}`)))
            this.record(
              node.id,
              'model_not_held',
              `${role} work for ${input.modelName(sha)} went to other nodes: this node does not hold it`,
              now,
            );
          continue;
        }
        if (node.backoffUntil > 0) {
          const until = new Date(node.backoffUntil).toISOString();
          this.record(
            node.id,
            'low_reputation',
            `missed ${node.misses} lease(s) in a row: kept from work until ${until}`,
            now,
          );
        } else if (!free && (waiting?.queued ?? 0) > 0) {
          this.record(node.id, 'busy', `all ${node.slots} slot(s) in use while tasks waited`, now);
        } else if (free && input.reputation(node.id, sha) < LOW_REPUTATION && waiting?.dispatched) {
          const score = input.reputation(node.id, sha);
          // Only a node with a record counts as low; a new node (no verdicts) has reputation 0 as well.
          if (score > 0)
            this.record(
              node.id,
              'low_reputation',
              `verified reputation ${score.toFixed(2)} for ${input.modelName(sha)}: reputable nodes go first`,
              now,
            );
        }
      }
    }
  }

  /** Nodes with reasons kept (for the memory bound). */
  get size(): number {
    return this.#rings.size;
  }
}

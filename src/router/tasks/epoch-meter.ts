import { type EpochReport, formatAmount, type Ledger, type NodeEpochInput } from '../../ledger/index.js';
import { NotFoundError } from '../../protocol/index.js';
import type { ResultRecord } from '../../store/index.js';
import type { Logger } from '../log.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import type { NodeInfo } from './scheduler.js';
import type { TaskHandle } from './task-manager.js';

/** What the router measured of one node in the open epoch. */
type Measure = {
  /** When its current connection began (null: not connected). */
  connectedAt: number | null;
  /** Connected time already counted in this epoch, from connections that ended. */
  uptimeMs: number;
  tasks: number;
  /** Output tokens generated and the milliseconds it took, for its speed. */
  tokens: number;
  busyMs: number;
};

/**
 * Measures each node over the open epoch, for the reward formulas: the tasks it completed whose results were
 * accepted (passed their check, or drawn for none; checks it ran do not count, they are paid per check), its
 * uptime (connected time, which the gateway keeps with heartbeats), its speed (output tokens per second of the
 * accepted work it generated, timed by the router from lease to result) and its benchmark: that measured speed,
 * weighted by the share of the epoch it was connected. The tokens/s a hello claims count for nothing: a node
 * that claimed 10^9 tokens/s and did no work took the Base x Power term from a working node (issue 9).
 */
export class EpochMeter {
  readonly #now: () => number;
  readonly #nodes = new Map<string, Measure>();
  #since: number;

  constructor(since: number, now: () => number = Date.now) {
    this.#since = since;
    this.#now = now;
  }

  #node(id: string): Measure {
    const key = id.toLowerCase();
    let m = this.#nodes.get(key);
    if (!m) {
      m = { connectedAt: null, uptimeMs: 0, tasks: 0, tokens: 0, busyMs: 0 };
      this.#nodes.set(key, m);
    }
    return m;
  }

  /** A node can take work from now on (what its hello claims of its speed is not read). */
  connected(info: Pick<NodeInfo, 'id'>): void {
    const m = this.#node(info.id);
    if (m.connectedAt === null) m.connectedAt = this.#now();
  }

  /** A node left (or may no longer take work). */
  disconnected(nodeId: string): void {
    const m = this.#nodes.get(nodeId.toLowerCase());
    if (!m || m.connectedAt === null) return;
    m.uptimeMs += Math.max(0, this.#now() - Math.max(m.connectedAt, this.#since));
    m.connectedAt = null;
  }

  /** An accepted result (task-manager observer). */
  accepted(result: ResultRecord, handle: TaskHandle | undefined): void {
    const m = this.#node(result.nodeId);
    const check = handle?.record.idempotencyKey?.startsWith(CHECK_KEY_PREFIX) ?? false;
    if (!check) m.tasks++;
    // Never more tokens than the task allowed, whatever the node reports.
    const generated = Math.min(result.output.completionTokens, maxTokensOf(handle));
    if (generated > 0 && handle && handle.startedAt > 0 && handle.resultAt >= handle.startedAt) {
      m.tokens += generated;
      m.busyMs += Math.max(1, handle.resultAt - handle.startedAt);
    }
  }

  /** After a restart: the tasks each node completed earlier in the epoch (read from the store). */
  preload(tasks: Map<string, number>): void {
    for (const [node, count] of tasks) this.#node(node).tasks += count;
  }

  /** Every node measured this epoch, as the ledger's formulas take them. */
  inputs(accountOf: (nodeId: string) => string, at = this.#now()): NodeEpochInput[] {
    const inputs: NodeEpochInput[] = [];
    for (const [node, m] of this.#nodes) {
      const open = m.connectedAt === null ? 0 : Math.max(0, at - Math.max(m.connectedAt, this.#since));
      const uptimeMs = m.uptimeMs + open;
      if (uptimeMs === 0 && m.tasks === 0) continue;
      // Power counts for the part of the epoch the node was there: one that connects for a minute of an hour
      // brings a sixtieth of its measured speed, not all of it.
      const share = at > this.#since ? Math.min(1, uptimeMs / (at - this.#since)) : 0;
      const speed = m.busyMs > 0 ? (m.tokens / m.busyMs) * 1000 : 0;
      inputs.push({
        node,
        account: accountOf(node),
        benchmark: speed * share,
        tasks: m.tasks,
        uptimeMs,
        speed,
      });
    }
    return inputs;
  }

  /** A new epoch opened at `at`: counting starts again (connected nodes stay connected). */
  reset(at: number): void {
    this.#since = at;
    for (const [node, m] of this.#nodes) {
      if (m.connectedAt === null) {
        this.#nodes.delete(node);
        continue;
      }
      Object.assign(m, { uptimeMs: 0, tasks: 0, tokens: 0, busyMs: 0 });
    }
  }
}

/** The most output tokens the task allowed (none known: no bound beyond the node's count). */
function maxTokensOf(handle: TaskHandle | undefined): number {
  const input = handle?.record.input;
  return input && (input.kind === 'chat' || input.kind === 'completion')
    ? input.params.maxTokens
    : Number.POSITIVE_INFINITY;
}

export type EpochCloserComponents = {
  ledger: Ledger;
  meter: EpochMeter;
  /** A node's payout account. */
  accountOf: (nodeId: string) => string;
  /** A node's stake on chain this epoch (NodeStaking, when the router is linked). */
  chainStake?: ((nodeId: string) => bigint) | undefined;
  log: Logger;
};

/** Closes reward epochs on the timer and by command, with what the meter measured. */
export class EpochCloser {
  readonly #c: EpochCloserComponents;

  constructor(components: EpochCloserComponents) {
    this.#c = components;
  }

  /**
   * Closes `epoch` (default: the open one) and pays its rewards. Closing a closed epoch returns its stored
   * report and pays nothing, so a repeated command is harmless.
   */
  close(epoch?: number): EpochReport {
    const { ledger, meter } = this.#c;
    const current = ledger.epochs.current().epoch;
    const target = epoch ?? current;
    if (target < current) {
      const stored = ledger.epochs.report(target);
      if (stored) return stored;
      throw new NotFoundError('epoch', `No closed epoch ${target}.`);
    }
    const now = Date.now();
    const nodes = meter.inputs(this.#c.accountOf, now).map((n) => {
      const chainStake = this.#c.chainStake?.(n.node) ?? 0n;
      return chainStake > 0n ? { ...n, chainStake } : n;
    });
    const report = ledger.epochs.close({ epoch: target, nodes, now });
    meter.reset(report.closedAt);
    this.#c.log('info', 'epoch closed', {
      epoch: report.epoch,
      nodes: report.rewards.length,
      paid: formatAmount(report.paid),
      scaled: report.scaled,
    });
    return report;
  }

  /** The router's ledger timer: closes a due epoch, expires session budgets, releases unbonded stakes. */
  tick(): void {
    const { ledger } = this.#c;
    try {
      if (ledger.epochs.due()) this.close();
      ledger.escrows.expire();
      ledger.staking.release();
    } catch (error) {
      this.#c.log('error', 'ledger timer failed', { error: String(error) });
    }
  }
}

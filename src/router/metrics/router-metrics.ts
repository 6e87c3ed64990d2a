import type { Registry } from 'prom-client';
import type { Ledger } from '../../ledger/index.js';
import type { NetworkOverviewView } from '../../protocol/index.js';
import {
  type Db,
  MetricSeriesStore,
  type ModelStore,
  NodeDirectoryStore,
  type NodeMetricPoint,
  type SeriesTiers,
  type VerdictStore,
} from '../../store/index.js';
import type { Logger } from '../log.js';
import type { NodeGate } from '../tasks/node-gate.js';
import type { Scheduler } from '../tasks/scheduler.js';
import type { Verification } from '../tasks/verification.js';
import { IdleReasons } from './idle-reasons.js';
import { NetworkFigures } from './network-figures.js';
import { createPrometheusRegistry } from './prometheus.js';

export type RouterMetricsComponents = {
  db: Db;
  scheduler: Scheduler;
  gate: NodeGate;
  verification: Verification;
  verdicts: VerdictStore;
  models: ModelStore;
  ledger: Ledger;
  /** A node's payout wallet (where its earnings go). */
  walletOf: (nodeId: string) => string;
  log: Logger;
  tiers?: SeriesTiers | undefined;
};

const IDLE_SWEEP_MS = 1000;
const COMPACT_MS = 60_000;
/** Node rows written per transaction before yielding to the event loop. */
const WRITE_SLICE = 1000;

/**
 * The router's metrics (issue 11): running figures, the Prometheus registry, time series in the store and the
 * scheduler's reasons for passing nodes over. Built and started by the composition root (server.ts).
 */
export class RouterMetrics {
  readonly c: RouterMetricsComponents;
  readonly figures = new NetworkFigures();
  readonly idle = new IdleReasons();
  readonly series: MetricSeriesStore;
  readonly directory: NodeDirectoryStore;
  readonly registry: Registry;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #modelNames = new Map<string, string>();

  constructor(components: RouterMetricsComponents) {
    this.c = components;
    this.series = new MetricSeriesStore(components.db, components.tiers);
    this.directory = new NodeDirectoryStore(components.db);
    this.registry = createPrometheusRegistry({
      figures: this.figures,
      queueDepth: () => components.scheduler.queuedCount,
      nodesByType: () => this.nodesByType(),
      ledger: components.ledger,
    });
  }

  start(): void {
    const every = (ms: number, run: () => void, what: string) => {
      const timer = setInterval(() => {
        try {
          run();
        } catch (error) {
          this.c.log('error', `metrics ${what} failed`, { error: String(error) });
        }
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(IDLE_SWEEP_MS, () => this.sweepIdle(), 'idle sweep');
    every(this.series.tiers.sampleMs, () => this.record(Date.now()), 'recording');
    every(COMPACT_MS, () => this.#compact(Date.now()), 'compaction');
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  /** Turns the per-task counting on or off (the scheduler bench measures dispatch with and without). */
  setEnabled(enabled: boolean): void {
    this.figures.enabled = enabled;
  }

  modelName(sha256: string): string {
    let name = this.#modelNames.get(sha256);
    if (name === undefined) {
      name = this.c.models.get(sha256)?.name ?? sha256.slice(0, 12);
      this.#modelNames.set(sha256, name);
    }
    return name;
  }

  nodesByType(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const figure of this.figures.nodes.values())
      counts.set(figure.type, (counts.get(figure.type) ?? 0) + 1);
    return counts;
  }

  overview(): NetworkOverviewView {
    const byType = Object.fromEntries(this.nodesByType());
    const passes = this.figures.passesTotal;
    const checked = passes + this.figures.failsTotal;
    return {
      at: Date.now(),
      nodesOnline: { total: this.figures.nodes.size, byType },
      totalFlops: this.figures.totalFlops(),
      tasksPerMinute: this.figures.tasksPerMinute(),
      tokensPerSecond: this.figures.tokensPerSecond(),
      queueDepth: this.c.scheduler.queuedCount,
      verificationPassRate: checked > 0 ? passes / checked : null,
      models: [...this.c.scheduler.servableModels()].map((sha) => this.modelName(sha)).sort(),
    };
  }

  sweepIdle(): void {
    if (!this.figures.enabled) return;
    this.idle.sweep({
      activity: this.c.scheduler.activity(),
      parked: this.c.gate.parked(),
      reputation: (nodeId, sha) => this.c.verification.reputation(nodeId, sha).score,
      modelName: (sha) => this.modelName(sha),
      now: Date.now(),
    });
  }

  #compacting = false;
  #stopped = false;

  /** Compaction in parts, yielding between them (see MetricSeriesStore.compactionParts). */
  #compact(now: number): void {
    if (this.#compacting) return;
    this.#compacting = true;
    const parts = this.series.compactionParts(now);
    const next = (i: number) => {
      if (i >= parts.length || this.#stopped) {
        this.#compacting = false;
        return;
      }
      try {
        (parts[i] as () => void)();
      } catch (error) {
        this.c.log('error', 'metrics compaction failed', { error: String(error) });
      }
      setImmediate(next, i + 1);
    };
    next(0);
  }

  /** One sample: each connected node's latest figures and the network's, into the series. */
  record(now: number): void {
    if (!this.figures.enabled) return;
    const points: (NodeMetricPoint & { nodeId: string })[] = [];
    for (const [nodeId, figure] of this.figures.nodes) {
      const s = figure.sample;
      if (!s) continue;
      points.push({ nodeId, at: now, ...s });
    }
    // In slices, yielding between them: 10,000 nodes' rows in one transaction would hold the loop ~100 ms.
    const write = (from: number) => {
      // The router may have closed (and its store with it) between slices.
      if (this.#stopped) return;
      this.series.addNodePoints(points.slice(from, from + WRITE_SLICE));
      if (from + WRITE_SLICE < points.length) setImmediate(write, from + WRITE_SLICE);
    };
    write(0);
    const overview = this.overview();
    this.series.addNetworkPoint({
      at: now,
      nodesOnline: overview.nodesOnline.total,
      tasksPerMinute: overview.tasksPerMinute,
      tokensPerSecond: overview.tokensPerSecond,
      queueDepth: overview.queueDepth,
      flops: overview.totalFlops,
      passRate: this.figures.passRate(),
    });
  }
}

import type { Db } from './database.js';

/**
 * How long each tier keeps its rows and how wide its buckets are. Raw samples are kept for `rawKeepMs`; then
 * whole buckets of `mediumBucketMs` are averaged into tier 1, kept `mediumKeepMs`; then whole buckets of
 * `coarseBucketMs` into tier 2, kept `coarseKeepMs`. Rows per series stay under `seriesRowBound` whatever the
 * uptime (the unit test shows it).
 */
export type SeriesTiers = {
  sampleMs: number;
  rawKeepMs: number;
  mediumBucketMs: number;
  mediumKeepMs: number;
  coarseBucketMs: number;
  coarseKeepMs: number;
};

export const DEFAULT_TIERS: SeriesTiers = {
  sampleMs: 10_000,
  rawKeepMs: 15 * 60_000,
  mediumBucketMs: 5 * 60_000,
  mediumKeepMs: 24 * 3_600_000,
  coarseBucketMs: 3_600_000,
  coarseKeepMs: 30 * 24 * 3_600_000,
};

/** The most rows one series (a node, or the network) can hold under these tiers, compacting every minute. */
export function seriesRowBound(t: SeriesTiers, compactEveryMs = 60_000): number {
  const raw = Math.ceil((t.rawKeepMs + t.mediumBucketMs + compactEveryMs) / t.sampleMs) + 1;
  const medium = Math.ceil((t.mediumKeepMs + t.coarseBucketMs + compactEveryMs) / t.mediumBucketMs) + 1;
  const coarse = Math.ceil((t.coarseKeepMs + compactEveryMs) / t.coarseBucketMs) + 1;
  return raw + medium + coarse;
}

export type NodeMetricPoint = {
  at: number;
  tokensPerSecond: number;
  flops: number;
  gpuUtilization: number | null;
  cpuUtilization: number | null;
  memoryUsedBytes: number | null;
  powerWatts: number | null;
  temperatureC: number | null;
  tasksDone: number;
  tasksFailed: number;
};

export type NetworkMetricPoint = {
  at: number;
  nodesOnline: number;
  tasksPerMinute: number;
  tokensPerSecond: number;
  queueDepth: number;
  flops: number;
  passRate: number | null;
};

const NODE_AVERAGED = [
  'tokens_per_second',
  'flops',
  'gpu_utilization',
  'cpu_utilization',
  'memory_used_bytes',
  'power_watts',
  'temperature_c',
];
const NETWORK_AVERAGED = [
  'nodes_online',
  'tasks_per_minute',
  'tokens_per_second',
  'queue_depth',
  'flops',
  'pass_rate',
];

/** A mean weighted by `samples` that skips nulls (a figure the node could not read stays null, not 0). */
const weighted = (column: string) =>
  `SUM(${column} * samples) / NULLIF(SUM(CASE WHEN ${column} IS NULL THEN 0 ELSE samples END), 0)`;

type NodeRow = {
  at: number;
  tokens_per_second: number;
  flops: number;
  gpu_utilization: number | null;
  cpu_utilization: number | null;
  memory_used_bytes: number | null;
  power_watts: number | null;
  temperature_c: number | null;
  tasks_done: number;
  tasks_failed: number;
};
type NetworkRow = {
  at: number;
  nodes_online: number;
  tasks_per_minute: number;
  tokens_per_second: number;
  queue_depth: number;
  flops: number;
  pass_rate: number | null;
};

/** Per-node and network time series with downsampling; the metrics recorder is its only writer. */
export class MetricSeriesStore {
  readonly tiers: SeriesTiers;
  readonly #db: Db;
  readonly #insertNode;
  readonly #insertNetwork;
  readonly #compactNetwork: (now: number) => void;
  readonly #compactNodes: (now: number, low: string, high: string) => void;
  readonly #nodePoints;
  readonly #networkPoints;
  readonly #uptime;
  readonly #uptimeOf;

  constructor(db: Db, tiers: SeriesTiers = DEFAULT_TIERS) {
    this.#db = db;
    this.tiers = tiers;
    this.#insertNode = db.prepare(`
      INSERT OR REPLACE INTO node_metric_points (node_id, tier, at, samples, tokens_per_second, flops,
        gpu_utilization, cpu_utilization, memory_used_bytes, power_watts, temperature_c, tasks_done, tasks_failed)
      VALUES (@nodeId, 0, @at, 1, @tokensPerSecond, @flops, @gpuUtilization, @cpuUtilization, @memoryUsedBytes,
        @powerWatts, @temperatureC, @tasksDone, @tasksFailed)`);
    this.#insertNetwork = db.prepare(`
      INSERT OR REPLACE INTO network_metric_points (tier, at, samples, nodes_online, tasks_per_minute,
        tokens_per_second, queue_depth, flops, pass_rate)
      VALUES (0, @at, 1, @nodesOnline, @tasksPerMinute, @tokensPerSecond, @queueDepth, @flops, @passRate)`);
    const steps = [
      { from: 0, to: 1, keepMs: tiers.rawKeepMs, bucketMs: tiers.mediumBucketMs },
      { from: 1, to: 2, keepMs: tiers.mediumKeepMs, bucketMs: tiers.coarseBucketMs },
    ].map((step) => {
      const nodeAverages = NODE_AVERAGED.map(weighted).join(', ');
      const networkAverages = NETWORK_AVERAGED.map(weighted).join(', ');
      const bucket = `(at / ${step.bucketMs}) * ${step.bucketMs}`;
      return {
        ...step,
        // Only whole buckets before the cutoff move up, so no bucket is averaged twice.
        node: db.prepare(`
          INSERT OR REPLACE INTO node_metric_points
          SELECT node_id, ${step.to}, ${bucket}, SUM(samples), ${nodeAverages}, MAX(tasks_done), MAX(tasks_failed)
          FROM node_metric_points
          WHERE node_id >= @low AND node_id < @high AND tier = ${step.from} AND at < @cutoff
          GROUP BY node_id, ${bucket}`),
        network: db.prepare(`
          INSERT OR REPLACE INTO network_metric_points
          SELECT ${step.to}, ${bucket}, SUM(samples), ${networkAverages}
          FROM network_metric_points WHERE tier = ${step.from} AND at < @cutoff GROUP BY ${bucket}`),
        dropNode: db.prepare(
          `DELETE FROM node_metric_points WHERE node_id >= @low AND node_id < @high AND tier = ${step.from} AND at < @cutoff`,
        ),
        dropNetwork: db.prepare(`DELETE FROM network_metric_points WHERE tier = ${step.from} AND at < ?`),
      };
    });
    const expireNode = db.prepare(
      'DELETE FROM node_metric_points WHERE node_id >= @low AND node_id < @high AND tier = 2 AND at < @cutoff',
    );
    const expireNetwork = db.prepare('DELETE FROM network_metric_points WHERE tier = 2 AND at < ?');
    const cutoffs = (now: number) =>
      steps.map((step) => Math.floor((now - step.keepMs) / step.bucketMs) * step.bucketMs);
    this.#compactNetwork = db.transaction((now: number) => {
      for (const [i, step] of steps.entries()) {
        const cutoff = cutoffs(now)[i] as number;
        step.network.run({ cutoff });
        step.dropNetwork.run(cutoff);
      }
      expireNetwork.run(now - tiers.coarseKeepMs);
    });
    this.#compactNodes = db.transaction((now: number, low: string, high: string) => {
      for (const [i, step] of steps.entries()) {
        const cutoff = cutoffs(now)[i] as number;
        step.node.run({ cutoff, low, high });
        step.dropNode.run({ cutoff, low, high });
      }
      expireNode.run({ cutoff: now - tiers.coarseKeepMs, low, high });
    });
    this.#nodePoints = db.prepare<[number, number, string, number, number], NodeRow>(`
      SELECT CAST(at / ? AS INTEGER) * ? AS at, ${NODE_AVERAGED.map((c) => `${weighted(c)} AS ${c}`).join(', ')},
        MAX(tasks_done) AS tasks_done, MAX(tasks_failed) AS tasks_failed
      FROM node_metric_points WHERE node_id = ? AND at >= ? GROUP BY 1 ORDER BY 1 LIMIT ?`);
    this.#networkPoints = db.prepare<[number, number, number, number], NetworkRow>(`
      SELECT CAST(at / ? AS INTEGER) * ? AS at, ${NETWORK_AVERAGED.map((c) => `${weighted(c)} AS ${c}`).join(', ')}
      FROM network_metric_points WHERE at >= ? GROUP BY 1 ORDER BY 1 LIMIT ?`);
    this.#uptime = db.prepare<[number], { node_id: string; samples: number }>(
      'SELECT node_id, SUM(samples) AS samples FROM node_metric_points WHERE at >= ? GROUP BY node_id',
    );
    this.#uptimeOf = db.prepare<[string], { samples: number | null }>(
      'SELECT SUM(samples) AS samples FROM node_metric_points WHERE node_id = ?',
    );
  }

  /** Records one raw sample per node (one transaction for all these). */
  addNodePoints(points: (NodeMetricPoint & { nodeId: string })[]): void {
    if (points.length === 0) return;
    this.#db.transaction(() => {
      for (const point of points) this.#insertNode.run({ ...point, nodeId: point.nodeId.toLowerCase() });
    })();
  }

  addNetworkPoint(point: NetworkMetricPoint): void {
    this.#insertNetwork.run(point);
  }

  /** Averages old raw rows into buckets and drops what is past every tier's keep time, all at once. */
  compact(now: number): void {
    for (const part of this.compactionParts(now)) part();
  }

  /**
   * The same work in parts (the network's series, then nodes by the first two hex digits of their id), each
   * its own transaction, so the router can yield between them: with 10,000 nodes a 5-minute bucket is 300,000
   * rows, which in one transaction would hold the event loop for seconds.
   */
  compactionParts(now: number): (() => void)[] {
    const parts = [() => this.#compactNetwork(now)];
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    // Ids are lowercase 0x addresses; anything else sorts below '0x00' or from '0y' on.
    parts.push(() => this.#compactNodes(now, '', '0x00'));
    for (let i = 0; i < 256; i++)
      parts.push(() => this.#compactNodes(now, `0x${hex(i)}`, i === 255 ? '0y' : `0x${hex(i + 1)}`));
    parts.push(() => this.#compactNodes(now, '0y', '\uffff'));
    return parts;
  }

  /** A node's points from `since` on, averaged over `stepMs` buckets (at most `limit`). */
  nodePoints(nodeId: string, since: number, stepMs: number, limit = 10_000): NodeMetricPoint[] {
    return this.#nodePoints.all(stepMs, stepMs, nodeId.toLowerCase(), since, limit).map((r) => ({
      at: r.at,
      tokensPerSecond: r.tokens_per_second,
      flops: r.flops,
      gpuUtilization: r.gpu_utilization,
      cpuUtilization: r.cpu_utilization,
      memoryUsedBytes: r.memory_used_bytes,
      powerWatts: r.power_watts,
      temperatureC: r.temperature_c,
      tasksDone: r.tasks_done,
      tasksFailed: r.tasks_failed,
    }));
  }

  networkPoints(since: number, stepMs: number, limit = 10_000): NetworkMetricPoint[] {
    return this.#networkPoints.all(stepMs, stepMs, since, limit).map((r) => ({
      at: r.at,
      nodesOnline: r.nodes_online,
      tasksPerMinute: r.tasks_per_minute,
      tokensPerSecond: r.tokens_per_second,
      queueDepth: r.queue_depth,
      flops: r.flops,
      passRate: r.pass_rate,
    }));
  }

  /** Seconds online per node since `since` (each raw sample stands for one sample period). */
  uptimeSince(since: number): Map<string, number> {
    const seconds = this.tiers.sampleMs / 1000;
    return new Map(this.#uptime.all(since).map((r) => [r.node_id, r.samples * seconds]));
  }

  uptimeOf(nodeId: string): number {
    return (this.#uptimeOf.get(nodeId.toLowerCase())?.samples ?? 0) * (this.tiers.sampleMs / 1000);
  }

  /** Rows held per series kind (for tests and the bound). */
  rowCounts(): { node: number; network: number } {
    const count = (table: string) =>
      (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { node: count('node_metric_points'), network: count('network_metric_points') };
  }
}

import { formatAmount } from '../../ledger/index.js';
import type {
  LeaderboardBy,
  LeaderboardEntryView,
  LeaderboardPeriod,
  NodeDetailView,
  NodePointView,
  NodeSort,
  NodeSummaryView,
} from '../../protocol/index.js';
import type { NodeMetricPoint } from '../../store/index.js';
import type { RouterMetrics } from './router-metrics.js';

type Summary = NodeSummaryView & { earningsUnits: bigint; wallet: string };

/** How long a computed node list is reused: a page of 1,000 nodes costs one pass, not one per request. */
const LIST_TTL_MS = 2000;
/** How long a wallet's earnings (a sum over its ledger history) are reused. */
const EARNINGS_TTL_MS = 30_000;

export const PERIOD_MS: Record<LeaderboardPeriod, number> = { day: 86_400_000, week: 7 * 86_400_000, all: 0 };

export function pointView(p: NodeMetricPoint): NodePointView {
  return { ...p, flopsPerWatt: p.powerWatts && p.powerWatts > 0 ? p.flops / p.powerWatts : null };
}

/** Node summaries, details and leaderboards, read from the store, the ledger and the running figures. */
export class NodeViews {
  readonly #m: RouterMetrics;
  #cache: { at: number; list: Summary[] } | null = null;
  readonly #earned = new Map<string, { at: number; amount: bigint }>();

  constructor(metrics: RouterMetrics) {
    this.#m = metrics;
  }

  /** Every node the router has seen, summarized (cached for a moment). */
  summaries(): Summary[] {
    const now = Date.now();
    if (this.#cache && now - this.#cache.at < LIST_TTL_MS) return this.#cache.list;
    const m = this.#m;
    const verified = m.directory.verifiedSince(0);
    const verdictModels = m.directory.verdictModels();
    const uptime = m.series.uptimeSince(0);
    const list = m.directory.list().map((entry): Summary => {
      const figure = m.figures.nodes.get(entry.id);
      const sample = figure?.sample ?? null;
      const wallet = m.c.walletOf(entry.id);
      const earned = this.#earnings(wallet, now);
      let reputation = 0;
      for (const sha of verdictModels.get(entry.id) ?? [])
        reputation = Math.max(reputation, m.c.verification.reputation(entry.id, sha).score);
      return {
        id: entry.id,
        type: figure?.type ?? entry.type,
        online: figure !== undefined,
        models: figure?.models ?? [],
        flops: sample?.flops ?? 0,
        gpuUtilization: sample?.gpuUtilization ?? null,
        tasksDone: entry.tasksDone,
        tasksFailed: entry.tasksFailed,
        verifiedTasks: verified.get(entry.id) ?? 0,
        reputation,
        stake: formatAmount(m.c.ledger.staking.get(entry.id).bonded),
        earnings: formatAmount(earned),
        earningsUnits: earned,
        uptimeSeconds: Math.round(uptime.get(entry.id) ?? 0),
        wallet,
      };
    });
    this.#cache = { at: now, list };
    return list;
  }

  page(sort: NodeSort, limit: number, offset: number): { data: NodeSummaryView[]; total: number } {
    const sorted = [...this.summaries()].sort(byKey(sort));
    return { data: sorted.slice(offset, offset + limit).map(publicSummary), total: sorted.length };
  }

  /** A node's detail, or undefined when the router has never seen it. */
  detail(id: string): (NodeDetailView & { wallet: string }) | undefined {
    const summary = this.summaries().find((s) => s.id === id) ?? this.#fresh(id);
    if (!summary) return undefined;
    const m = this.#m;
    const figure = m.figures.nodes.get(id);
    const latest =
      figure?.sample != null ? pointView({ at: figure.sampleAt, ...figure.sample }) : this.#lastPoint(id);
    return {
      ...publicSummary(summary),
      latest,
      idleReasons: m.idle.of(id),
      verdicts: m.c.verdicts.byNode(id, 50).map((v) => ({
        at: v.at,
        taskId: v.taskId,
        outcome: v.outcome,
        level: v.level,
        ...(v.reason ? { reason: v.reason } : {}),
      })),
      earningsPerEpoch: m.c.ledger.epochs
        .rewardsOf(summary.wallet, 20)
        .filter((r) => r.node.toLowerCase() === id)
        .map((r) => ({ epoch: r.epoch, amount: formatAmount(r.amount) })),
      wallet: summary.wallet,
    };
  }

  leaderboard(by: LeaderboardBy, period: LeaderboardPeriod, limit: number): LeaderboardEntryView[] {
    const since = period === 'all' ? 0 : Date.now() - PERIOD_MS[period];
    let ranked: { nodeId: string; value: string | number; key: number | bigint }[];
    if (by === 'earnings') {
      // Earnings are the ledger's all-time figure whatever the period (see docs/metrics.md).
      ranked = this.summaries()
        .filter((s) => s.earningsUnits > 0n)
        .map((s) => ({ nodeId: s.id, value: s.earnings, key: s.earningsUnits }));
    } else {
      const counts =
        by === 'verified' ? this.#m.directory.verifiedSince(since) : this.#m.series.uptimeSince(since);
      ranked = [...counts].map(([nodeId, n]) => ({ nodeId, value: Math.round(n), key: n }));
    }
    ranked.sort((a, b) => (b.key > a.key ? 1 : b.key < a.key ? -1 : a.nodeId.localeCompare(b.nodeId)));
    return ranked.slice(0, limit).map((r, i) => ({ rank: i + 1, nodeId: r.nodeId, value: r.value }));
  }

  #earnings(wallet: string, now: number): bigint {
    const known = this.#earned.get(wallet);
    if (known && now - known.at < EARNINGS_TTL_MS) return known.amount;
    const amount = this.#m.c.ledger.earned(wallet);
    this.#earned.set(wallet, { at: now, amount });
    return amount;
  }

  /** A node seen after the cached list was made. */
  #fresh(id: string): Summary | undefined {
    this.#cache = null;
    return this.summaries().find((s) => s.id === id);
  }

  #lastPoint(id: string): NodePointView | null {
    const points = this.#m.series.nodePoints(id, Date.now() - 3_600_000, this.#m.series.tiers.sampleMs);
    const last = points[points.length - 1];
    return last ? pointView(last) : null;
  }
}

function publicSummary(s: Summary): NodeSummaryView {
  const { earningsUnits: _units, wallet: _wallet, ...view } = s;
  return view;
}

function byKey(sort: NodeSort): (a: Summary, b: Summary) => number {
  const key = (s: Summary): number | bigint =>
    sort === 'verified'
      ? s.verifiedTasks
      : sort === 'uptime'
        ? s.uptimeSeconds
        : sort === 'earnings'
          ? s.earningsUnits
          : s.flops;
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return y > x ? 1 : y < x ? -1 : a.id.localeCompare(b.id);
  };
}

import type {
  LeaderboardBy,
  LeaderboardEntryView,
  LeaderboardPeriod,
  ListView,
  NetworkOverviewView,
  NetworkPointView,
  NodeDetailView,
  NodeListView,
  NodePointView,
  NodeSort,
  NodeStatusView,
  PerformanceMetrics,
} from '../protocol/index.js';

/** How the metrics calls reach the router: OmniClient's GET with its key, errors and base URL. */
export type MetricsGet = <T>(route: string, signal?: AbortSignal) => Promise<T>;

/** `since` (ms since epoch) and `step` (seconds) of a series request. */
export type SeriesRange = { since?: number; step?: number };

const query = (values: Record<string, string | number | undefined>) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) params.set(name, String(value));
  return params.size > 0 ? `?${params}` : '';
};
const id = (nodeId: string) => encodeURIComponent(nodeId);

/** The metrics API (issue 11): network overview and series, node pages, leaderboards. */
export class MetricsApi {
  readonly #get: MetricsGet;

  constructor(get: MetricsGet) {
    this.#get = get;
  }

  overview(signal?: AbortSignal): Promise<NetworkOverviewView> {
    return this.#get('/api/network/overview', signal);
  }

  network(range: SeriesRange = {}, signal?: AbortSignal): Promise<ListView<NetworkPointView>> {
    return this.#get(`/api/network/metrics${query(range)}`, signal);
  }

  nodes(
    page: { limit?: number; offset?: number; sort?: NodeSort } = {},
    signal?: AbortSignal,
  ): Promise<NodeListView> {
    return this.#get(`/api/nodes${query(page)}`, signal);
  }

  node(nodeId: string, signal?: AbortSignal): Promise<NodeDetailView> {
    return this.#get(`/api/nodes/${id(nodeId)}`, signal);
  }

  nodeSeries(
    nodeId: string,
    range: SeriesRange = {},
    signal?: AbortSignal,
  ): Promise<ListView<NodePointView>> {
    return this.#get(`/api/nodes/${id(nodeId)}/metrics${query(range)}`, signal);
  }

  leaderboard(
    options: { by?: LeaderboardBy; period?: LeaderboardPeriod; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<ListView<LeaderboardEntryView>> {
    return this.#get(`/api/leaderboard${query(options)}`, signal);
  }

  /** The router's Prometheus text (`GET /metrics`). */
  prometheus(signal?: AbortSignal): Promise<string> {
    return this.#get<string>('/metrics', signal);
  }

  /**
   * Seed 000's figures of a node: GPU utilization (%), task completion rate (% of its tasks done), FLOPS, FLOPS
   * per watt (null where power is unknown) and reward accrual (its earnings, whole tokens).
   */
  async performance(nodeId: string, signal?: AbortSignal): Promise<PerformanceMetrics> {
    const node = await this.node(nodeId, signal);
    const ended = node.tasksDone + node.tasksFailed;
    return {
      gpu_utilization: node.latest?.gpuUtilization ?? node.gpuUtilization,
      task_completion_rate: ended > 0 ? (100 * node.tasksDone) / ended : null,
      flops: node.latest?.flops ?? node.flops,
      flops_per_watt: node.latest?.flopsPerWatt ?? null,
      reward_accrual: node.earnings,
    };
  }
}

/** A node's own `GET /status` (its --status-port; 8080 by default), e.g. http://127.0.0.1:8080. */
export async function nodeStatus(baseUrl: string, signal?: AbortSignal): Promise<NodeStatusView> {
  const url = `${baseUrl.replace(/\/+$/, '')}/status`;
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as NodeStatusView;
}

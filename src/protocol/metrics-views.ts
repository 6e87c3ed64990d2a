/**
 * What the router's metrics routes answer (issue 11), as TypeScript types shared by the routes, the SDK and the
 * web app. Times are ms since epoch; `step` query parameters are seconds. Amounts are whole tokens as decimal
 * strings. The names and shapes follow the contract in METRICS-CONTRACT.md exactly.
 */

/** `GET /api/network/overview`, and each `overview` event of `GET /api/network/live`. */
export type NetworkOverviewView = {
  at: number;
  nodesOnline: { total: number; byType: Record<string, number> };
  totalFlops: number;
  tasksPerMinute: number;
  tokensPerSecond: number;
  queueDepth: number;
  verificationPassRate: number | null;
  models: string[];
};

/** One point of `GET /api/network/metrics?since=&step=`. */
export type NetworkPointView = {
  at: number;
  nodesOnline: number;
  tasksPerMinute: number;
  tokensPerSecond: number;
  queueDepth: number;
  flops: number;
  passRate: number | null;
};

/** One entry of `GET /api/nodes?limit=&offset=&sort=`. */
export type NodeSummaryView = {
  id: string;
  type: string;
  online: boolean;
  models: string[];
  flops: number;
  gpuUtilization: number | null;
  tasksDone: number;
  tasksFailed: number;
  verifiedTasks: number;
  reputation: number;
  stake: string;
  earnings: string;
  uptimeSeconds: number;
};

/** Why the scheduler passed a node over. */
export type IdleReason = 'model_not_held' | 'low_reputation' | 'stake_below_minimum' | 'busy' | 'offline';

/** One of the scheduler's recent reasons for passing a node over, with what to do about it. */
export type IdleReasonView = { at: number; reason: IdleReason; detail: string; action: string };

/** One point of `GET /api/nodes/{id}/metrics?since=&step=` (and `latest` of the node's detail). */
export type NodePointView = {
  at: number;
  tokensPerSecond: number;
  flops: number;
  gpuUtilization: number | null;
  cpuUtilization: number | null;
  memoryUsedBytes: number | null;
  powerWatts: number | null;
  temperatureC: number | null;
  flopsPerWatt: number | null;
  tasksDone: number;
  tasksFailed: number;
};

/** One verdict on a node's work, as the node page lists it. */
export type NodeVerdictView = { at: number; taskId: string; outcome: string; level: string; reason?: string };

/** `GET /api/nodes/{id}`. */
export type NodeDetailView = NodeSummaryView & {
  latest: NodePointView | null;
  idleReasons: IdleReasonView[];
  verdicts: NodeVerdictView[];
  earningsPerEpoch: { epoch: number; amount: string }[];
};

/** `GET /api/nodes?...`: a page of nodes and the total count. */
export type NodeListView = { object: 'list'; data: NodeSummaryView[]; total: number };

/** Sort keys of `GET /api/nodes`. */
export const NODE_SORTS = ['verified', 'uptime', 'earnings', 'flops'] as const;
export type NodeSort = (typeof NODE_SORTS)[number];

/** One entry of `GET /api/leaderboard?by=&period=`. */
export type LeaderboardEntryView = { rank: number; nodeId: string; value: string | number };
export const LEADERBOARD_BYS = ['verified', 'uptime', 'earnings'] as const;
export type LeaderboardBy = (typeof LEADERBOARD_BYS)[number];
export const LEADERBOARD_PERIODS = ['day', 'week', 'all'] as const;
export type LeaderboardPeriod = (typeof LEADERBOARD_PERIODS)[number];

/** `getPerformanceMetrics(nodeId)` of the SDK: seed 000's names for a node owner's figures. */
export type PerformanceMetrics = {
  gpu_utilization: number | null;
  task_completion_rate: number | null;
  flops: number;
  flops_per_watt: number | null;
  reward_accrual: string;
};

/** `GET /status` on a node's status port (`node start --status-port`, default 8080). */
export type NodeStatusView = {
  nodeId: string;
  name: string | null;
  router: string;
  connected: boolean;
  startedAt: number;
  uptimeSeconds: number;
  running: number;
  models: {
    name: string;
    sha256: string;
    parameters: number;
    benchmarkTokensPerSecond: number;
    flopsPerToken: number;
  }[];
  benchmarkFlops: number;
  metrics: {
    tokensPerSecond: number;
    flops: number;
    gpuUtilization: number | null;
    cpuUtilization: number | null;
    memoryUsedBytes: number | null;
    powerWatts: number | null;
    temperatureC: number | null;
    flopsPerWatt: number | null;
    tasksDone: number;
    tasksFailed: number;
  };
};

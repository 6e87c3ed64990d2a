import type { Server } from 'node:http';
import type { ModelAnnouncement, NodeStatusView } from '../../protocol/index.js';
import { HardwareSampler } from './hardware-sampler.js';
import { flopsPerToken, NodeMetrics } from './node-metrics.js';
import { startStatusServer } from './status-server.js';

export { cpuBusyPercent, HardwareSampler, parseNvidiaSmi } from './hardware-sampler.js';
export { flopsPerToken, NodeMetrics } from './node-metrics.js';
export { DEFAULT_STATUS_PORT, startStatusServer } from './status-server.js';

/** How often the node reads its sensors and recomputes its rates. */
const REFRESH_MS = 2000;

export type NodeMetricsWiring = {
  nodeId: string;
  name: string | null;
  routerUrl: string;
  announcements: ModelAnnouncement[];
  statusPort: number;
  running: () => number;
  connected: () => boolean;
  log: (line: string) => void;
};

/** The node's metrics, their refresh timer and its status server (composition root: src/node/main.ts). */
export function startNodeMetrics(w: NodeMetricsWiring): { metrics: NodeMetrics; stop(): Promise<void> } {
  const startedAt = Date.now();
  const metrics = new NodeMetrics({ models: w.announcements, sampler: new HardwareSampler() });
  let refreshing = false;
  const refresh = () => {
    if (refreshing) return;
    refreshing = true;
    metrics
      .refresh()
      .catch((error: unknown) => w.log(`could not read the node's metrics: ${String(error)}`))
      .finally(() => {
        refreshing = false;
      });
  };
  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  timer.unref();
  const status = (): NodeStatusView => ({
    nodeId: w.nodeId,
    name: w.name,
    router: w.routerUrl,
    connected: w.connected(),
    startedAt,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    running: w.running(),
    models: w.announcements.map((m) => ({
      name: m.name,
      sha256: m.sha256,
      parameters: m.parameterCount,
      benchmarkTokensPerSecond: m.tokensPerSecond,
      flopsPerToken: flopsPerToken(m.parameterCount),
    })),
    benchmarkFlops: metrics.benchmarkFlops,
    metrics: { ...metrics.sample(), flopsPerWatt: metrics.flopsPerWatt() },
  });
  const server: Promise<Server | null> = startStatusServer({ port: w.statusPort, status, log: w.log });
  return {
    metrics,
    async stop() {
      clearInterval(timer);
      const s = await server;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

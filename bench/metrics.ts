/**
 * Metrics benchmark (issue 11): with 1,000 simulated nodes connected (bench/sim, FAKE engine, real router and
 * WebSockets, heartbeats carrying node figures) and working, times a Prometheus scrape of `/metrics`, the
 * overview (`/api/network/overview`), a page of `/api/nodes` and the series (`/api/network/metrics`) over HTTP
 * on loopback. Targets: scrape <= 50 ms; the overview's data well under the 1 s the web page is allowed.
 */
import type { TaskInput } from '../src/protocol/index.js';
import { percentile, round, SIM_MODEL_SHA256, startSim } from './sim/harness.js';

export type MetricsBenchOptions = { nodes?: number; tasks?: number; requests?: number };

export async function metricsBench(options: MetricsBenchOptions = {}) {
  const nodes = options.nodes ?? 1000;
  const tasks = options.tasks ?? 5000;
  const requests = options.requests ?? 30;
  process.stderr.write(`metrics: connecting ${nodes} simulated nodes (fake engine)...\n`);
  const sim = await startSim({ nodes, processes: 2, slots: 4, heartbeatMs: 1000 });
  const { tasks: manager, models, metrics } = sim.router.services;
  const model = models.get(SIM_MODEL_SHA256);
  if (!model) throw new Error('simulated model not registered');
  const input: TaskInput = {
    kind: 'completion',
    prompt: 'hello',
    params: { maxTokens: 4, temperature: 0, topP: 1, stop: [] },
  };
  process.stderr.write(`metrics: ${tasks} tasks so the counters and histograms hold data...\n`);
  await Promise.all(
    Array.from({ length: tasks }, () =>
      manager
        .submit({
          keyId: 'bench',
          sessionId: null,
          idempotencyKey: null,
          model,
          input,
          validation: { kind: 'none' },
        })
        .result.catch(() => undefined),
    ),
  );
  // Every node has heartbeated its figures (1 s heartbeats), and the series hold a few samples.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    let sampled = 0;
    for (const figure of metrics.figures.nodes.values()) if (figure.sample) sampled++;
    if (sampled >= nodes) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 0; i < 3; i++) metrics.record(Date.now() - (3 - i) * 10_000);

  const time = async (path: string) => {
    const samples: number[] = [];
    let bytes = 0;
    // One untimed request first: the client's connection set-up and the route's first compile are not a scrape.
    await (await fetch(`${sim.router.url}${path}`)).text();
    for (let i = 0; i < requests; i++) {
      const start = performance.now();
      const response = await fetch(`${sim.router.url}${path}`);
      const body = await response.text();
      samples.push(performance.now() - start);
      if (!response.ok) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
      bytes = body.length;
    }
    samples.sort((a, b) => a - b);
    return { p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)), bytes };
  };
  const figures = {
    engine: 'fake engine (simulated nodes; real router, real WebSockets, heartbeats with node figures)',
    nodes,
    sampledNodes: [...metrics.figures.nodes.values()].filter((f) => f.sample).length,
    tasks,
    requestsEach: requests,
    scrape: await time('/metrics'),
    overview: await time('/api/network/overview'),
    nodesPage: await time('/api/nodes?limit=50&sort=flops'),
    networkSeries: await time('/api/network/metrics'),
    seriesRows: metrics.series.rowCounts(),
    targets: { scrapeMs: 50, overviewFirstDataMs: 1000 },
  };
  await sim.stop();
  return figures;
}

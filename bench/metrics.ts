/**
 * Metrics benchmark (issue 11): with 1,000 simulated nodes connected (bench/sim, FAKE engine, real router and
 * WebSockets, heartbeats carrying node figures) and working, times a Prometheus scrape of `/metrics`, the
 * overview (`/api/network/overview`), a page of `/api/nodes` and the series (`/api/network/metrics`) over HTTP
 * on loopback; then the dashboard's overview page in headless Chromium (bench/overview-page.ts), 10 loads while
 * the nodes work (tasks at a steady rate) and 10 with the network idle. Targets: scrape <= 50 ms; the overview's
 * first data in the browser <= 1 s.
 */
import { existsSync } from 'node:fs';
import type { TaskInput } from '../src/protocol/index.js';
import { CHROMIUM } from '../test/e2e/browser.js';
import { timeOverviewPage } from './overview-page.js';
import { percentile, round, SIM_MODEL_SHA256, startSim } from './sim/harness.js';

/** `workRate`: tasks per second submitted while the page is timed "working" (each node one task per 2 s). */
export type MetricsBenchOptions = { nodes?: number; tasks?: number; requests?: number; workRate?: number };

/** The page's figures, or why they could not be taken (no Chromium here), without failing the other figures. */
async function pageFigures(url: string) {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (set OTENSOR_CHROMIUM)` };
  return timeOverviewPage(url);
}

export async function metricsBench(options: MetricsBenchOptions = {}) {
  const nodes = options.nodes ?? 1000;
  const tasks = options.tasks ?? 5000;
  const requests = options.requests ?? 30;
  const workRate = options.workRate ?? 500;
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
  const submit = () =>
    manager
      .submit({
        keyId: 'bench',
        sessionId: null,
        idempotencyKey: null,
        model,
        input,
        validation: { kind: 'none' },
      })
      .result.catch(() => undefined);
  process.stderr.write(`metrics: ${tasks} tasks so the counters and histograms hold data...\n`);
  await Promise.all(Array.from({ length: tasks }, submit));
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
  // The page while the nodes work: tasks submitted at a steady rate (every 10 ms a slice), all answered.
  process.stderr.write(`metrics: overview page in Chromium, working (${workRate} tasks/s)...\n`);
  const inFlight = new Set<Promise<unknown>>();
  let submitted = 0;
  const workStart = performance.now();
  const pacer = setInterval(() => {
    const due = Math.floor(((performance.now() - workStart) / 1000) * workRate) - submitted;
    for (let i = 0; i < due; i++, submitted++) {
      const done = submit().finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
  }, 10);
  let working: Awaited<ReturnType<typeof pageFigures>>;
  try {
    working = await pageFigures(`${sim.router.url}/`);
  } finally {
    clearInterval(pacer);
  }
  // The router's own count over its last minute, as the page's "Tasks / min" shows it (the 5,000 above included).
  const routerTasksPerMinute = metrics.figures.tasksPerMinute();
  const workSeconds = (performance.now() - workStart) / 1000;
  await Promise.all(inFlight);
  process.stderr.write('metrics: overview page in Chromium, idle...\n');
  const idle = await pageFigures(`${sim.router.url}/`);
  const page = {
    browser: 'headless Chromium (test/e2e/browser.ts), same machine, loopback',
    working: {
      tasksPerSecond: round(submitted / workSeconds, 0),
      tasks: submitted,
      routerTasksPerMinute,
      ...working,
    },
    idle,
  };
  await sim.stop();
  return { ...figures, overviewPage: page };
}

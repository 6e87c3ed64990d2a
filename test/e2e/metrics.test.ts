import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import type {
  NetworkOverviewView,
  NodeDetailView,
  NodeListView,
  NodeStatusView,
} from '../../src/protocol/index.js';
import { parsePrometheusText, sampleValue } from '../../src/router/metrics/prometheus-text.js';
import { OmniClient } from '../../src/sdk/index.js';
import {
  cliOutput,
  prepareRouterData,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

/** Polls `probe` until it returns a value (not undefined); the deadline only bounds the wait. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const REQUESTS = 3;
let ws: Workspace;
let url: string;
let apiKey: string;
let statusPort: number;
let workerId: string;
let idleId: string;

beforeAll(async () => {
  ws = await workspace('metrics');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws, { args: ['--metrics-sample', '500ms'] }));
  statusPort = await freePort();
  const worker = await startNodeProcess(ws, url, 'worker', ['--status-port', String(statusPort)]);
  // A second node holding another model only: work for `tiny` passes it over.
  const other = join(ws.dir, 'other.gguf');
  await writeTinyModel(other, { seed: 2 });
  const idle = ws.track(
    runCli(['node', 'start', '--router', url, '--model', other, '--data', join(ws.dir, 'idle')]),
  );
  [, workerId = ''] = await worker.line(/node: (0x[0-9a-fA-F]{40})/);
  [, idleId = ''] = await idle.line(/node: (0x[0-9a-fA-F]{40})/);
  await waitForNodes(url, 2);
  const client = new OmniClient({ baseUrl: url, apiKey });
  for (let i = 0; i < REQUESTS; i++)
    await client.chat({ model: 'tiny', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 8 });
}, 120_000);

afterAll(async () => {
  await ws?.cleanup();
});

const json = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${url}${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
};

describe('metrics on a live network', () => {
  it('counts the tasks run in /metrics (Prometheus text) and the overview', async () => {
    const families = await until('the done counter', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const parsed = parsePrometheusText(text);
      return sampleValue(parsed, 'omnitensor_tasks_total', { outcome: 'done' }) === REQUESTS
        ? parsed
        : undefined;
    });
    expect(sampleValue(families, 'omnitensor_task_dispatch_latency_seconds_count')).toBe(REQUESTS);
    expect(sampleValue(families, 'omnitensor_nodes_online', { type: 'cpu' })).toBe(2);
    expect(sampleValue(families, 'omnitensor_output_tokens_total')).toBeGreaterThan(0);
    const overview = await json<NetworkOverviewView>('/api/network/overview');
    expect(overview.nodesOnline.total).toBe(2);
    expect(overview.tasksPerMinute).toBe(REQUESTS);
    expect(overview.models).toContain('tiny');
    // The live feed: server-sent events named overview, each a NetworkOverviewView.
    const abort = new AbortController();
    const live = await fetch(`${url}/api/network/live`, { signal: abort.signal });
    expect(live.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (live.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    expect(text).toMatch(/^event: overview\ndata: /);
    const event = JSON.parse(text.split('data: ')[1]?.split('\n')[0] ?? '') as NetworkOverviewView;
    expect(event.nodesOnline.total).toBe(2);
  });

  it('lists the worker with measured FLOPS, its series with points, and GPU-less figures as null', async () => {
    const worker = await until('the worker with FLOPS', async () => {
      const list = await json<NodeListView>('/api/nodes?sort=flops&limit=10');
      return list.data.find(
        (n) => n.id === workerId.toLowerCase() && n.flops > 0 && n.tasksDone === REQUESTS,
      );
    });
    expect(worker.online).toBe(true);
    expect(worker.gpuUtilization).toBeNull();
    const points = await until('node points', async () => {
      const series = await json<{ data: { flops: number; cpuUtilization: number | null }[] }>(
        `/api/nodes/${workerId}/metrics?since=${Date.now() - 60_000}&step=1`,
      );
      return series.data.length > 0 ? series.data : undefined;
    });
    expect(points.some((p) => p.flops > 0)).toBe(true);
    const network = await json<{ data: unknown[] }>('/api/network/metrics?step=1');
    expect(network.data.length).toBeGreaterThan(0);
    const performance = await new OmniClient({ baseUrl: url }).getPerformanceMetrics(workerId);
    expect(performance.flops).toBeGreaterThan(0);
    expect(performance.task_completion_rate).toBe(100);
  });

  it('tells why the node without the model got no work: model_not_held, with what to do', async () => {
    const reasons = await until('an idle reason', async () => {
      const detail = await json<NodeDetailView>(`/api/nodes/${idleId}`);
      return detail.idleReasons.length > 0 ? detail.idleReasons : undefined;
    });
    expect(reasons[0]?.reason).toBe('model_not_held');
    expect(reasons[0]?.detail).toMatch(/tiny/);
    expect(reasons[0]?.action).toMatch(/--model/);
  });

  it("answers GET /status on the worker's status port", async () => {
    const status = await until('the status with tasks done', async () => {
      const s = (await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as NodeStatusView;
      return s.metrics.tasksDone === REQUESTS ? s : undefined;
    });
    expect(status.nodeId.toLowerCase()).toBe(workerId.toLowerCase());
    expect(status.connected).toBe(true);
    expect(status.models[0]?.flopsPerToken).toBeGreaterThan(0);
  });

  it('prints the network and the node in the terminal (network status, node status)', async () => {
    const network = await cliOutput(['network', 'status', '--router', url]);
    expect(network).toMatch(/nodes online\s+2 \(cpu 2\)/);
    expect(network).toContain(workerId.toLowerCase());
    const node = await cliOutput(['node', 'status', '--port', String(statusPort)]);
    expect(node).toContain(workerId);
    expect(node).toMatch(new RegExp(`tasks\\s+${REQUESTS} done, 0 failed`));
  });

  it('answers 400 naming the bad parameter', async () => {
    for (const [path, param] of [
      ['/api/network/metrics?since=yesterday', 'since'],
      ['/api/network/metrics?step=0', 'step'],
      ['/api/nodes?sort=fastest', 'sort'],
      [`/api/nodes/${workerId}/metrics?since=0&step=1`, 'step'],
    ] as const) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(400);
      const body = (await response.json()) as { error: { param: string } };
      expect(body.error.param, path).toBe(param);
    }
    expect((await fetch(`${url}/api/nodes/0x${'0'.repeat(40)}`)).status).toBe(404);
  });
});

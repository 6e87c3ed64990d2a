import type { NetworkOverviewView, NodeListView, NodeStatusView } from '../protocol/index.js';
import { nodeStatus, OmniClient } from '../sdk/index.js';
import { readLogin } from './config.js';

export type WatchOptions = { watch?: boolean; interval?: number };

/** 1234567 -> "1.23 M"; figures span many orders of magnitude (FLOPS). */
export function si(value: number, unit = ''): string {
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 2)} ${prefixes[i]}${unit}`.trim();
}

const percent = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)}%`);
const orDash = (v: number | null, f: (n: number) => string) => (v === null ? '-' : f(v));

/** Left-aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The network's overview and its busiest nodes, as `network status` prints them. */
export function networkText(router: string, o: NetworkOverviewView, nodes: NodeListView): string {
  const byType = Object.entries(o.nodesOnline.byType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const lines = [
    `router          ${router}   (${new Date(o.at).toISOString()})`,
    `nodes online    ${o.nodesOnline.total}${byType ? ` (${byType})` : ''}`,
    `compute         ${si(o.totalFlops, 'FLOPS')}`,
    `tasks/minute    ${o.tasksPerMinute}`,
    `tokens/s        ${o.tokensPerSecond.toFixed(1)}`,
    `queue           ${o.queueDepth}`,
    `verified pass   ${o.verificationPassRate === null ? '-' : `${(o.verificationPassRate * 100).toFixed(1)}%`}`,
    `models          ${o.models.join(', ') || '-'}`,
    '',
    table(
      ['NODE', 'TYPE', 'ONLINE', 'FLOPS', 'GPU', 'DONE', 'FAILED', 'VERIFIED', 'EARNED', 'UPTIME'],
      nodes.data.map((n) => [
        n.id,
        n.type,
        n.online ? 'yes' : 'no',
        si(n.flops),
        percent(n.gpuUtilization),
        String(n.tasksDone),
        String(n.tasksFailed),
        String(n.verifiedTasks),
        n.earnings,
        `${Math.round(n.uptimeSeconds / 60)}m`,
      ]),
    ),
  ];
  if (nodes.total > nodes.data.length) lines.push(`(${nodes.data.length} of ${nodes.total} nodes, by FLOPS)`);
  return lines.join('\n');
}

/** A node's own status, as `node status` prints it. */
export function nodeText(url: string, s: NodeStatusView): string {
  const m = s.metrics;
  return [
    `node            ${s.nodeId}${s.name ? ` (${s.name})` : ''}   ${url}`,
    `router          ${s.router} (${s.connected ? 'connected' : 'NOT connected'})`,
    `uptime          ${Math.round(s.uptimeSeconds / 60)}m, ${s.running} task(s) running`,
    `flops           ${si(m.flops, 'FLOPS')} (benchmark ${si(s.benchmarkFlops, 'FLOPS')})`,
    `tokens/s        ${m.tokensPerSecond.toFixed(1)}`,
    `tasks           ${m.tasksDone} done, ${m.tasksFailed} failed`,
    `gpu             ${percent(m.gpuUtilization)}   temperature ${orDash(m.temperatureC, (t) => `${t.toFixed(0)} C`)}`,
    `cpu             ${percent(m.cpuUtilization)}   memory used ${orDash(m.memoryUsedBytes, (b) => si(b, 'B'))}`,
    `power           ${orDash(m.powerWatts, (w) => `${w.toFixed(1)} W`)}   ${orDash(m.flopsPerWatt, (f) => `${si(f, 'FLOPS/W')}`)}`,
    '',
    table(
      ['MODEL', 'PARAMETERS', 'BENCHMARK TOKENS/S', 'FLOPS/TOKEN'],
      s.models.map((model) => [
        model.name,
        si(model.parameters),
        model.benchmarkTokensPerSecond.toFixed(0),
        si(model.flopsPerToken),
      ]),
    ),
  ].join('\n');
}

/** Prints once, or (--watch) redraws every interval until Ctrl-C. */
async function show(render: () => Promise<string>, options: WatchOptions): Promise<void> {
  if (!options.watch) {
    process.stdout.write(`${await render()}\n`);
    return;
  }
  const intervalMs = options.interval ?? 2000;
  for (;;) {
    let text: string;
    try {
      text = await render();
    } catch (error) {
      text = `error: ${error instanceof Error ? error.message : String(error)} (retrying)`;
    }
    // Clear the screen and home the cursor: a live table in place.
    process.stdout.write(`\x1b[2J\x1b[H${text}\n\n(every ${intervalMs / 1000}s; Ctrl-C to stop)\n`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `network status [--watch]`: public figures, so no API key is needed. */
export async function networkStatusCommand(options: WatchOptions & { router?: string }): Promise<void> {
  const router = options.router ?? readLogin()?.router;
  if (!router)
    throw new Error('No router: pass --router URL, or log in once with `otensor-cli login --router URL`.');
  const client = new OmniClient({ baseUrl: router });
  await show(async () => {
    const [overview, nodes] = await Promise.all([
      client.metrics.overview(),
      client.metrics.nodes({ sort: 'flops', limit: 20 }),
    ]);
    return networkText(router, overview, nodes);
  }, options);
}

/** `node status [--watch]`: the node's own GET /status on its status port. */
export async function nodeStatusCommand(
  options: WatchOptions & { port: number; url?: string },
): Promise<void> {
  const url = options.url ?? `http://127.0.0.1:${options.port}`;
  await show(async () => nodeText(url, await nodeStatus(url)), options);
}

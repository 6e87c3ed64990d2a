/**
 * Connections benchmark: 10,000 simulated nodes (bench/sim, FAKE engine, real WebSockets and signed hellos)
 * in a few child processes, connected to one router in this process, heartbeating every 2 s. Reports the
 * router's memory per node (RSS and heap over the baseline before any node connected) and whether heartbeats
 * keep up: the delay from a router ping's send time to its arrival at a node, and the router's event-loop delay.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile, round, startSim } from './sim/harness.js';

export type ConnectionsOptions = { nodes?: number; processes?: number; steadySeconds?: number };

export async function connectionsBench(options: ConnectionsOptions = {}) {
  const nodes = options.nodes ?? 10_000;
  const processes = options.processes ?? 4;
  const steadySeconds = options.steadySeconds ?? 12;
  globalThis.gc?.();
  const before = process.memoryUsage();
  process.stderr.write(
    `connections: connecting ${nodes} simulated nodes (fake engine) from ${processes} processes...\n`,
  );
  const t0 = performance.now();
  const sim = await startSim({
    nodes,
    processes,
    slots: 1,
    heartbeatMs: 2000,
    connectConcurrency: 100,
    onProgress: (n) => process.stderr.write(`  ${n} nodes registered\n`),
  });
  const connectSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(
    `connections: ${nodes} connected in ${connectSeconds.toFixed(1)} s; steady ${steadySeconds} s...\n`,
  );
  await sim.stats(); // drop samples taken while connecting
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await new Promise((r) => setTimeout(r, steadySeconds * 1000));
  loop.disable();
  const stats = await sim.stats();
  globalThis.gc?.();
  const after = process.memoryUsage();
  const delays = stats.flatMap((s) => s.pingDelays).sort((a, b) => a - b);
  const connected = sim.router.services.gateway.connectedCount;
  await sim.stop();
  const perNodeKb = (bytes: number) => round(bytes / nodes / 1024, 1);
  return {
    engine: 'fake engine (simulated nodes; real router, real WebSockets, signed hellos)',
    nodes,
    connected,
    clientProcesses: processes,
    heartbeatMs: 2000,
    connectSeconds: round(connectSeconds, 1),
    memoryPerNodeKb: {
      rss: perNodeKb(after.rss - before.rss),
      heapUsed: perNodeKb(after.heapUsed - before.heapUsed),
      external: perNodeKb(after.external + after.arrayBuffers - before.external - before.arrayBuffers),
    },
    gcExposed: typeof globalThis.gc === 'function',
    target: { memoryPerNodeKb: 50 },
    pings: {
      received: delays.length,
      expected: Math.floor((steadySeconds * 1000) / 2000) * nodes,
      delayMs: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays.at(-1) ?? null },
    },
    routerEventLoopDelayMs: {
      p50: round(loop.percentile(50) / 1e6),
      p99: round(loop.percentile(99) / 1e6),
      max: round(loop.max / 1e6),
    },
  };
}

/**
 * Simulation harness: one real router in this process, simulated nodes (bench/sim/swarm.ts, FAKE engine) in
 * child processes over real WebSockets, so this process's CPU and memory are the router's own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey } from '../../src/cli/local-commands.js';
import { type RunningRouter, startRouter } from '../../src/router/index.js';
import type { SwarmConfig, SwarmStats } from './swarm.js';

export const SIM_MODEL_SHA256 = 'f'.repeat(64);

/** The simulated model as an operator registers it (`model add`): its name is `sim`; the router holds no file. */
export const SIM_MODEL = {
  sha256: SIM_MODEL_SHA256,
  name: 'sim',
  architecture: 'fake',
  quantization: 'none',
  parameterCount: 0,
  contextLength: 4096,
  sizeBytes: 0,
  path: null,
  addedAt: 0,
};

export type Sim = {
  router: RunningRouter;
  apiKey: string;
  swarms: ChildProcess[];
  stats(): Promise<SwarmStats[]>;
  broadcast(cmd: string): void;
  stop(): Promise<void>;
};

export type SimOptions = {
  nodes: number;
  processes: number;
  slots: number;
  heartbeatMs?: number;
  queueLimit?: number;
  connectConcurrency?: number;
  /** Simulated nodes batch results under one signature (default true). */
  batchResults?: boolean;
  /** Called while nodes connect, e.g. to print progress. */
  onProgress?: (connected: number) => void;
};

export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export async function startSim(options: SimOptions): Promise<Sim> {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-sim-'));
  process.env.OTENSOR_LOG = process.env.OTENSOR_LOG ?? 'warn';
  const apiKey = createKey(join(dir, 'router'));
  const router = await startRouter({
    port: 0,
    dataDir: join(dir, 'router'),
    heartbeatMs: options.heartbeatMs ?? 2000,
    queueLimit: options.queueLimit ?? 1_000_000,
    // The load generator is one client with one key at thousands of requests/s: no HTTP rate limits here.
    rateLimit: 0,
    rateLimitIp: 0,
  });
  // Names are the operator's: register the simulated file as `sim`, as `model add` would (the router holds no
  // file for it, so nodes are not asked to prove they hold it).
  router.services.models.add({ ...SIM_MODEL, addedAt: Date.now() });
  const swarms: ChildProcess[] = [];
  const perProcess = Math.ceil(options.nodes / options.processes);
  const ready: Promise<void>[] = [];
  for (let p = 0; p < options.processes; p++) {
    const first = p * perProcess;
    const count = Math.min(perProcess, options.nodes - first);
    if (count <= 0) break;
    const config: SwarmConfig = {
      url: router.url,
      first,
      count,
      slots: options.slots,
      modelSha256: SIM_MODEL_SHA256,
      connectConcurrency: options.connectConcurrency ?? 50,
      batchResults: options.batchResults ?? true,
    };
    const child = fork(join(import.meta.dirname, 'swarm.ts'), [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    swarms.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.on('message', (message: { type: string; error?: string; rejects?: string[] }) => {
          if (message.type === 'ready') resolve();
          if (message.type === 'failed')
            reject(new Error(`swarm failed: ${message.error} ${message.rejects}`));
        });
        child.on('exit', (code) => reject(new Error(`swarm exited with ${code}`)));
      }),
    );
  }
  const progress = setInterval(() => options.onProgress?.(router.services.scheduler.nodeCount), 2000);
  try {
    await Promise.all(ready);
  } finally {
    clearInterval(progress);
  }
  while (router.services.scheduler.nodeCount < options.nodes) await new Promise((r) => setTimeout(r, 20));
  const sim: Sim = {
    router,
    apiKey,
    swarms,
    broadcast(cmd) {
      for (const child of swarms) child.send({ cmd });
    },
    stats: () =>
      Promise.all(
        swarms.map(
          (child) =>
            new Promise<SwarmStats>((resolve) => {
              const on = (message: { type: string; stats: SwarmStats }) => {
                if (message.type !== 'stats') return;
                child.off('message', on);
                resolve(message.stats);
              };
              child.on('message', on);
              child.send({ cmd: 'stats' });
            }),
        ),
      ),
    async stop() {
      for (const child of swarms) {
        child.removeAllListeners('exit');
        child.send({ cmd: 'stop' });
      }
      await Promise.all(
        swarms.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.on('exit', r)))),
      );
      await router.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sim;
}

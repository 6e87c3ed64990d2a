/** A router in this process plus real node processes (the CLI, real engine) on loopback, for benchmarks. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createKey, registerModel } from '../src/cli/local-commands.js';
import { type RunningRouter, startRouter } from '../src/router/index.js';
import { OmniClient } from '../src/sdk/index.js';

const cli = resolve(import.meta.dirname, '../bin/otensor-cli.js');

export type BenchNetwork = {
  router: RunningRouter;
  apiKey: string;
  client: OmniClient;
  stop(): Promise<void>;
};

/** Registers `modelPath` as `tiny` in a fresh `routerData`, starts the router and `nodes` node processes. */
export async function startBenchNetwork(options: {
  routerData: string;
  nodeData: (index: number) => string;
  modelPath: string;
  nodes: number;
  threads: number;
  /** The nodes' `--role` (default: the CLI's, worker); `up` starts them as `both`. */
  role?: 'worker' | 'validator' | 'both';
}): Promise<BenchNetwork> {
  process.env.OTENSOR_LOG = 'warn';
  await registerModel(options.routerData, options.modelPath, 'tiny');
  const apiKey = createKey(options.routerData);
  const router = await startRouter({ port: 0, dataDir: options.routerData });
  const nodes: ChildProcess[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const args = ['node', 'start', '--router', router.url, '--model', options.modelPath];
    args.push('--data', options.nodeData(i), '--threads', String(options.threads), '--slots', '1');
    if (options.role) args.push('--role', options.role);
    nodes.push(
      spawn(process.execPath, [cli, ...args], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, OTENSOR_LOG: 'warn' },
      }),
    );
  }
  const client = new OmniClient({ baseUrl: router.url, apiKey });
  const deadline = Date.now() + 60_000;
  while ((await client.health()).nodes < options.nodes) {
    if (Date.now() > deadline) throw new Error(`${options.nodes} nodes did not connect within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    router,
    apiKey,
    client,
    async stop() {
      for (const node of nodes) node.kill('SIGINT');
      await Promise.all(
        nodes.map((node) => (node.exitCode === null ? new Promise((r) => node.once('exit', r)) : null)),
      );
      await router.stop();
    },
  };
}

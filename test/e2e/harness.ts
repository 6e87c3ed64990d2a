import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyModel } from '../../src/models/index.js';

const cli = resolve(import.meta.dirname, '../../bin/otensor-cli.js');

/** A CLI process with its output collected; `line(re)` waits for a stdout/stderr line matching re. */
export type CliProcess = {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
};

export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return runNode([cli, ...args], env);
}

/** Starts a cheating node (bench/sim/cheater-node.ts): a real node that rewrites its answers. */
export function runCheater(config: Record<string, unknown>): CliProcess {
  const script = resolve(import.meta.dirname, '../../bench/sim/cheater-node.ts');
  return runNode(['--import', 'tsx', script, JSON.stringify(config)]);
}

function runNode(argv: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OTENSOR_LOG: 'info', ...env },
  });
  let output = '';
  let stdout = '';
  child.stdout?.on('data', (data: Buffer) => {
    stdout += data.toString();
  });
  const waiters = new Set<() => void>();
  const onData = (data: Buffer) => {
    output += data.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    line(pattern, timeoutMs = 60_000) {
      return new Promise((resolveLine, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolveLine(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output.slice(-3000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs a CLI command to completion and returns its stdout. */
export async function cliOutput(args: string[]): Promise<string> {
  const process = runCli(args);
  const code = await process.exited;
  if (code !== 0) throw new Error(`otensor-cli ${args.join(' ')} exited ${code}:\n${process.output()}`);
  return process.stdout();
}

/** A scratch folder with the tiny model, removed by `cleanup`. */
export async function workspace(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `otensor-${prefix}-`));
  const model = join(dir, 'tiny.gguf');
  await writeTinyModel(model, { seed: 1 });
  const processes: CliProcess[] = [];
  return {
    dir,
    model,
    track(p: CliProcess) {
      processes.push(p);
      return p;
    },
    async cleanup() {
      for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Workspace = Awaited<ReturnType<typeof workspace>>;

/** Starts `router start` on a free port; resolves with its URL once it listens. */
export async function startRouterProcess(ws: Workspace, options: { port?: number; args?: string[] } = {}) {
  const router = ws.track(
    runCli([
      'router',
      'start',
      '--port',
      String(options.port ?? 0),
      '--data',
      join(ws.dir, 'router'),
      ...(options.args ?? []),
    ]),
  );
  const [, url] = await router.line(/router: (https?:\/\/\S+)/);
  return { process: router, url: url as string };
}

export async function startNodeProcess(ws: Workspace, url: string, name: string, extra: string[] = []) {
  return ws.track(
    runCli(['node', 'start', '--router', url, '--model', ws.model, '--data', join(ws.dir, name), ...extra]),
  );
}

/** Waits until the router reports `count` connected nodes. */
export async function waitForNodes(
  url: string,
  count: number,
  timeoutMs = 60_000,
  fetcher: typeof fetch = fetch,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const health = (await (await fetcher(`${url}/health`)).json()) as { nodes: number };
      if (health.nodes >= count) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${count} nodes connected to ${url} within ${timeoutMs} ms`);
}

/** Registers the tiny model as `tiny` and creates a key, through the CLI, against the router's data folder. */
export async function prepareRouterData(ws: Workspace): Promise<{ apiKey: string }> {
  await cliOutput(['model', 'add', ws.model, '--name', 'tiny', '--data', join(ws.dir, 'router')]);
  const apiKey = (await cliOutput(['keys', 'create', '--data', join(ws.dir, 'router')])).trim();
  return { apiKey };
}

/**
 * Starting real processes (the CLI, cheating nodes) and waiting on what they print: shared by the e2e
 * harness (test/e2e/harness.ts) and the benches that run a network on loopback (bench/adversarial.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '../../bin/otensor-cli.js');
const cheaterScript = resolve(import.meta.dirname, 'cheater-node.ts');

/** A process with its output collected; `line(re)` waits for a stdout/stderr line matching re. */
export type CliProcess = {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
};

export type RunOptions = {
  /** Added to the environment (OTENSOR_LOG defaults to info). */
  env?: Record<string, string>;
  /** How long `line` waits by default (60 s). */
  lineTimeoutMs?: number;
};

/** Starts the CLI (bin/otensor-cli.js) with `args`. */
export function runCli(args: string[], options: RunOptions = {}): CliProcess {
  return runNode([cli, ...args], options);
}

/** Starts a cheating node (bench/sim/cheater-node.ts): a real node that rewrites its answers. */
export function runCheater(config: Record<string, unknown>, options: RunOptions = {}): CliProcess {
  return runNode(['--import', 'tsx', cheaterScript, JSON.stringify(config)], options);
}

/** Kept output is bounded: a long bench run must not hold every log line it ever saw. */
const MAX_OUTPUT = 4_000_000;

/** Starts `node argv...` with its output collected. */
export function runNode(argv: string[], options: RunOptions = {}): CliProcess {
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OTENSOR_LOG: 'info', ...options.env },
  });
  let output = '';
  let stdout = '';
  child.stdout?.on('data', (data: Buffer) => {
    stdout += data.toString();
    if (stdout.length > MAX_OUTPUT) stdout = stdout.slice(-MAX_OUTPUT / 2);
  });
  const waiters = new Set<() => void>();
  const onData = (data: Buffer) => {
    output += data.toString();
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT / 2);
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
    line(pattern, timeoutMs = options.lineTimeoutMs ?? 60_000) {
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

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export async function stopProcess(proc: CliProcess, graceMs = 10_000): Promise<void> {
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

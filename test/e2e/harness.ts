import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type CliProcess, runCli as runCliWith } from '../../bench/sim/processes.js';
import { writeTinyModel } from '../../src/models/index.js';

// Starting processes is shared with the benches (bench/sim/processes.ts).
export { type CliProcess, runCheater, waitForNodes } from '../../bench/sim/processes.js';

export function runCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return runCliWith(args, { env });
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
      // OTENSOR_TEST_LOGS=DIR keeps every process's output, to read after a failure that is hard to repeat.
      const logs = process.env.OTENSOR_TEST_LOGS;
      if (logs) {
        mkdirSync(logs, { recursive: true });
        for (const [i, p] of processes.entries())
          writeFileSync(join(logs, `${basename(dir)}-${i}.log`), p.output());
      }
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

/** Registers the tiny model as `tiny` and creates a key, through the CLI, against the router's data folder. */
export async function prepareRouterData(ws: Workspace): Promise<{ apiKey: string }> {
  await cliOutput(['model', 'add', ws.model, '--name', 'tiny', '--data', join(ws.dir, 'router')]);
  const apiKey = (await cliOutput(['keys', 'create', '--data', join(ws.dir, 'router')])).trim();
  return { apiKey };
}

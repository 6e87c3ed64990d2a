/**
 * Overhead of the network: the same prompts through router + node (separate processes, real sockets) versus
 * node-llama-cpp called directly in this process, same model, same threads, same seeds, in one run.
 * Rounds alternate a block of direct requests and a block of routed ones, so machine noise hits both alike;
 * the headline ratio is the median of the per-round ratios (a burst of load from other work spoils one round,
 * not the figure), and the pooled ratio over all rounds is kept beside it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createKey, registerModel } from '../src/cli/local-commands.js';
import { createLlamaEngine } from '../src/engine/index.js';
import { writeTinyModel } from '../src/models/index.js';
import { OmniClient } from '../src/sdk/index.js';
import { mark } from '../src/timing/marks.js';
import { overheadSteps } from './overhead-steps.js';

const PROMPTS = Array.from(
  { length: 12 },
  (_, i) => `Benchmark prompt number ${i}: tell me a long story about compute.`,
);

export type OverheadOptions = { maxTokens?: number; rounds?: number; threads?: number };

/** `lastMs`: time of the last text; `totalMs - lastMs` is what the answer's end costs (result, usage, close). */
type Sample = {
  ttftMs: number;
  lastMs: number;
  totalMs: number;
  tokens: number;
  verdict?: string;
  /** Text chunks (SSE events with text) the client got: each one a message through node, router and client. */
  chunks?: number;
};

/** CPU time (user + system, all threads) a process has used, in ms, from /proc (Linux; 0 elsewhere). */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** System (kernel) CPU time this process has used, in ms: sockets, wake-ups, SQLite's file writes. */
const ownSystemMs = () => process.cpuUsage().system / 1000;

const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export async function overheadBench(options: OverheadOptions = {}) {
  const maxTokens = options.maxTokens ?? 256;
  // OVERHEAD_ROUNDS=<n>: more rounds for a steadier median on a busy machine (30 take ~2 minutes with a
  // compared build).
  const rounds = options.rounds ?? (Number(process.env.OVERHEAD_ROUNDS) || 9);
  const threads = options.threads ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });

  const engine = await createLlamaEngine({ gpu: false });
  const model = await engine.loadModel(modelPath, { threads, slots: 1 });
  const direct = async (prompt: string, seed: number): Promise<Sample> => {
    mark('d.start');
    const start = performance.now();
    let ttft = -1;
    let last = -1;
    const result = await model.chat(
      [{ role: 'user', content: prompt }],
      { maxTokens, temperature: 0.8, topP: 1, seed, stop: [] },
      () => {
        last = performance.now() - start;
        if (ttft < 0) {
          ttft = last;
          mark('d.first');
        }
      },
    );
    mark('d.end');
    return {
      ttftMs: ttft,
      lastMs: last,
      totalMs: performance.now() - start,
      tokens: result.completionTokens,
    };
  };

  process.env.OTENSOR_LOG = 'warn';
  /** A router (in this process) and one node process, both from `checkout` (this one, or another). */
  const startRouted = async (name: string, checkout: string) => {
    const cli = join(checkout, 'bin/otensor-cli.js');
    const { startRouter } = (await import(
      join(checkout, 'src/router/index.ts')
    )) as typeof import('../src/router/index.js');
    const routerData = join(dir, `router-${name}`);
    await registerModel(routerData, modelPath, 'tiny');
    const apiKey = createKey(routerData);
    const router = await startRouter({ port: 0, dataDir: routerData });
    const node = spawn(
      process.execPath,
      [
        ...(process.env.OVERHEAD_PROFILE_DIR
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.OVERHEAD_PROFILE_DIR}`, '--cpu-prof-interval=200']
          : []),
        cli,
        'node',
        'start',
        '--router',
        router.url,
        '--model',
        modelPath,
        '--data',
        join(dir, `node-${name}`),
        '--threads',
        String(threads),
        '--slots',
        '1',
        // The direct engine is CPU-only (gpu: false); so is the node, on a machine with a GPU too.
        '--no-gpu',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OTENSOR_LOG: 'warn' } },
    );
    const client = new OmniClient({ baseUrl: router.url, apiKey });
    while ((await client.health()).nodes < 1) await new Promise((r) => setTimeout(r, 100));
    // The client is node:http with keep-alive: fetch (undici) alone adds ~0.75 ms a request here, which is
    // the client's cost, not the network's.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const routerUrl = new URL(router.url);
    // Step marks (OTENSOR_TIMING_DIR) are this checkout's: the other's router and node make none.
    const clientMark = name === 'a' ? mark : () => {};
    const routed = (prompt: string, seed: number) =>
      new Promise<Sample>((resolveSample, reject) => {
        clientMark('c.start');
        const start = performance.now();
        let ttft = -1;
        let last = -1;
        let body = '';
        const request = http.request(
          {
            host: routerUrl.hostname,
            port: routerUrl.port,
            path: '/v1/chat/completions',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          },
          (response) => {
            response.setEncoding('utf8');
            response.on('data', (text: string) => {
              // The first event is the role-only chunk; time to first token is the first content chunk.
              if (/"content":"[^"]/.test(text)) {
                last = performance.now() - start;
                if (ttft < 0) {
                  ttft = last;
                  clientMark('c.first');
                }
              }
              body += text;
            });
            response.on('end', () => {
              clientMark('c.end');
              const usage = /"completion_tokens":(\d+)/.exec(body);
              resolveSample({
                ttftMs: ttft,
                lastMs: last,
                totalMs: performance.now() - start,
                tokens: Number(usage?.[1] ?? 0),
                verdict: String(response.headers['x-omnitensor-verdict'] ?? 'none given'),
                chunks: body.match(/"content":"[^"]/g)?.length ?? 0,
              });
            });
          },
        );
        request.on('error', reject);
        request.end(
          JSON.stringify({
            model: 'tiny',
            messages: [{ role: 'user', content: prompt }],
            max_tokens: maxTokens,
            temperature: 0.8,
            seed,
            stream: true,
            stream_options: { include_usage: true },
          }),
        );
      });
    const stop = async () => {
      node.kill('SIGINT');
      await new Promise((r) => node.once('exit', r));
      await router.stop();
    };
    return { routed, stop, cpuMs: () => processCpuMs(node.pid) };
  };
  const paths = [await startRouted('a', resolve(import.meta.dirname, '..'))];
  // OVERHEAD_COMPARE=<another checkout>: a second router and node running that checkout's code, measured in
  // the same rounds (a before/after of a change in one run; registerModel and createKey stay this checkout's).
  const compareCheckout = process.env.OVERHEAD_COMPARE;
  if (compareCheckout) paths.push(await startRouted('b', compareCheckout));
  const [mainPath] = paths as [(typeof paths)[number]];

  // Warm both paths (first-use allocations, JIT) before measuring.
  await direct('warm up', 1);
  for (const path of paths) await path.routed('warm up', 1);
  // OVERHEAD_PROFILE_DIR: CPU profiles of the node process (whole run) and of this process (router and
  // client) during each routed block only, so start-up and the direct blocks stay out of them.
  const profileDir = process.env.OVERHEAD_PROFILE_DIR;
  const profiler = profileDir ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  }
  const loadBefore = loadavg();
  const directSamples: Sample[] = [];
  const routedSamples: Sample[] = [];
  const compareSamples: Sample[] = [];
  // CPU time spent by each side, summed over the rounds: the bench process in direct blocks (the engine), the
  // bench process in routed blocks (router and client), and each node process (its engine and its messages).
  const cpu = { direct: 0, routerAndClient: [0, 0], routerAndClientSystem: [0, 0], nodes: [0, 0] };
  for (let round = 0; round < rounds; round++) {
    // Blocks of the same prompts alternate between the paths: drift hits both alike, and each path runs
    // warm as it would serving steady traffic (switching every request leaves the node process cold).
    let own = ownCpuMs();
    for (const [i, prompt] of PROMPTS.entries()) directSamples.push(await direct(prompt, i));
    cpu.direct += ownCpuMs() - own;
    // With a second build, its block comes right before or after this checkout's, in turn.
    const order = round % 2 === 0 ? paths : [...paths].reverse();
    for (const path of order) {
      if (profiler) await profiler.post('Profiler.start');
      own = ownCpuMs();
      const system = ownSystemMs();
      const nodeBefore = path.cpuMs();
      const samples = path === mainPath ? routedSamples : compareSamples;
      for (const [i, prompt] of PROMPTS.entries()) samples.push(await path.routed(prompt, i));
      const key = path === mainPath ? 0 : 1;
      (cpu.routerAndClient[key] as number) += ownCpuMs() - own;
      (cpu.routerAndClientSystem[key] as number) += ownSystemMs() - system;
      (cpu.nodes[key] as number) += path.cpuMs() - nodeBefore;
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        const file = `router-${path === mainPath ? 'main' : 'compare'}-${round}.cpuprofile`;
        writeFileSync(join(profileDir as string, file), JSON.stringify(profile));
      }
    }
    process.stderr.write(`  overhead round ${round + 1}/${rounds} done\n`);
  }

  const loadAfter = loadavg();
  profiler?.disconnect();
  for (const path of paths) await path.stop();
  await model.dispose();
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
  // The node wrote its marks when it exited (above); one warm-up request per path came first.
  const timingDir = process.env.OTENSOR_TIMING_DIR;
  const steps = timingDir ? { steps: overheadSteps(timingDir, 1) } : {};

  const rate = (samples: Sample[]) =>
    (samples.reduce((s, x) => s + x.tokens, 0) / samples.reduce((s, x) => s + x.totalMs, 0)) * 1000;
  const slice = (samples: Sample[], r: number) => samples.slice(r * PROMPTS.length, (r + 1) * PROMPTS.length);
  const ratioPerRound = Array.from(
    { length: rounds },
    (_, r) => rate(slice(routedSamples, r)) / rate(slice(directSamples, r)),
  );
  const addedTtft = routedSamples.map((s, i) => s.ttftMs - (directSamples[i] as Sample).ttftMs);
  // Where the added time goes, per request (medians of routed minus direct): before the first text, while
  // the text streams, and after the last text (the result, its commit, usage and the end of the stream).
  const added = (phase: (s: Sample) => number) =>
    percentile(
      routedSamples.map((s, i) => phase(s) - phase(directSamples[i] as Sample)),
      50,
    );
  // The second node build, against the same direct rounds: per-round ratios, their median, added time.
  const comparison = (cli: string) => {
    const perRound = Array.from(
      { length: rounds },
      (_, r) => rate(slice(compareSamples, r)) / rate(slice(directSamples, r)),
    );
    const addedBy = (phase: (s: Sample) => number) =>
      Number(
        percentile(
          compareSamples.map((s, i) => phase(s) - phase(directSamples[i] as Sample)),
          50,
        ).toFixed(3),
      );
    return {
      cli,
      ratio: percentile(perRound, 50),
      ratioPooled: rate(compareSamples) / rate(directSamples),
      ratioPerRound: perRound.map((x) => Number(x.toFixed(3))),
      addedTtftP50Ms: addedBy((s) => s.ttftMs),
      chunksP50: percentile(
        compareSamples.map((s) => s.chunks ?? 0),
        50,
      ),
      addedMsP50: {
        beforeFirstText: addedBy((s) => s.ttftMs),
        whileStreaming: addedBy((s) => s.lastMs - s.ttftMs),
        afterLastText: addedBy((s) => s.totalMs - s.lastMs),
        total: addedBy((s) => s.totalMs),
      },
      // This checkout's node minus the other's, per request (same prompt, seed and tokens), median: below 0
      // means this checkout's node answers sooner.
      mainMinusCompareMsP50: Number(
        percentile(
          routedSamples.map((s, i) => s.totalMs - (compareSamples[i] as Sample).totalMs),
          50,
        ).toFixed(3),
      ),
      // Routed (this checkout) over compare, per round: above 1 means this checkout's node is faster.
      mainOverComparePerRound: Array.from({ length: rounds }, (_, r) =>
        Number((rate(slice(routedSamples, r)) / rate(slice(compareSamples, r))).toFixed(3)),
      ),
    };
  };
  const tokensMatch = routedSamples.every((s, i) => s.tokens === directSamples[i]?.tokens);
  const round3 = (x: number) => Number(x.toFixed(3));
  return {
    name: 'overhead',
    model: 'tiny (seed 1, Q8_0)',
    threads,
    maxTokens,
    rounds,
    requests: routedSamples.length,
    directTokensPerSecond: rate(directSamples),
    routedTokensPerSecond: rate(routedSamples),
    // Median of the per-round ratios; `ratioPooled` is all routed tokens/s over all direct tokens/s.
    ratio: percentile(ratioPerRound, 50),
    ratioPooled: rate(routedSamples) / rate(directSamples),
    // The spread across rounds shows how much of the difference is machine noise.
    ratioPerRound: ratioPerRound.map(round3),
    ratioTarget: 0.97,
    directTtftP50Ms: percentile(
      directSamples.map((s) => s.ttftMs),
      50,
    ),
    routedTtftP50Ms: percentile(
      routedSamples.map((s) => s.ttftMs),
      50,
    ),
    addedTtftP50Ms: percentile(addedTtft, 50),
    addedTtftP99Ms: percentile(addedTtft, 99),
    addedTtftTargetP50Ms: 3,
    chunksP50: percentile(
      routedSamples.map((s) => s.chunks ?? 0),
      50,
    ),
    addedMsP50: {
      beforeFirstText: round3(added((s) => s.ttftMs)),
      whileStreaming: round3(added((s) => s.lastMs - s.ttftMs)),
      afterLastText: round3(added((s) => s.totalMs - s.lastMs)),
      total: round3(added((s) => s.totalMs)),
    },
    directMsP50: round3(
      percentile(
        directSamples.map((s) => s.totalMs),
        50,
      ),
    ),
    // The bench leaves validation at the default (`auto`): with one node nobody independent can check, so
    // the answers go out unchecked, as the verdict header says; this is the path measured.
    routedVerdicts: [...new Set(routedSamples.map((s) => s.verdict))],
    sameTokenCounts: tokensMatch,
    // CPU ms per request (10 ms ticks for the node process, summed over all rounds): what the network adds in
    // CPU, which the machine's load disturbs less than wall time.
    cpuMsPerRequest: {
      direct: round3(cpu.direct / directSamples.length),
      node: round3((cpu.nodes[0] ?? 0) / routedSamples.length),
      routerAndClient: round3((cpu.routerAndClient[0] ?? 0) / routedSamples.length),
      // Of which in the kernel (system time).
      routerAndClientSystem: round3((cpu.routerAndClientSystem[0] ?? 0) / routedSamples.length),
      ...(compareSamples.length > 0
        ? {
            compareNode: round3((cpu.nodes[1] ?? 0) / compareSamples.length),
            compareRouterAndClient: round3((cpu.routerAndClient[1] ?? 0) / compareSamples.length),
            compareRouterAndClientSystem: round3((cpu.routerAndClientSystem[1] ?? 0) / compareSamples.length),
          }
        : {}),
    },
    ...(compareSamples.length > 0 ? { compare: comparison(compareCheckout ?? '') } : {}),
    loadAverage1m: { before: round3(loadBefore[0] ?? 0), after: round3(loadAfter[0] ?? 0) },
    ...steps,
  };
}

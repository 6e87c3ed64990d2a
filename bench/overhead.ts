/**
 * Overhead of the network: the same prompts through router + node (separate processes, real sockets) versus
 * node-llama-cpp called directly in this process, same model, same threads, same seeds, in one run.
 * Rounds alternate direct and routed so machine noise hits both alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createKey, registerModel } from '../src/cli/local-commands.js';
import { createLlamaEngine } from '../src/engine/index.js';
import { writeTinyModel } from '../src/models/index.js';
import { startRouter } from '../src/router/index.js';
import { OmniClient } from '../src/sdk/index.js';

const PROMPTS = Array.from(
  { length: 12 },
  (_, i) => `Benchmark prompt number ${i}: tell me a long story about compute.`,
);

export type OverheadOptions = { maxTokens?: number; rounds?: number; threads?: number };

type Sample = { ttftMs: number; totalMs: number; tokens: number };

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export async function overheadBench(options: OverheadOptions = {}) {
  const maxTokens = options.maxTokens ?? 256;
  const rounds = options.rounds ?? 5;
  const threads = options.threads ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'otensor-bench-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });

  const engine = await createLlamaEngine({ gpu: false });
  const model = await engine.loadModel(modelPath, { threads, slots: 1 });
  const direct = async (prompt: string, seed: number): Promise<Sample> => {
    const start = performance.now();
    let ttft = -1;
    const result = await model.chat(
      [{ role: 'user', content: prompt }],
      { maxTokens, temperature: 0.8, topP: 1, seed, stop: [] },
      () => {
        if (ttft < 0) ttft = performance.now() - start;
      },
    );
    return { ttftMs: ttft, totalMs: performance.now() - start, tokens: result.completionTokens };
  };

  process.env.OTENSOR_LOG = 'warn';
  const routerData = join(dir, 'router');
  await registerModel(routerData, modelPath, 'tiny');
  const apiKey = createKey(routerData);
  const router = await startRouter({ port: 0, dataDir: routerData });
  const cli = resolve(import.meta.dirname, '../bin/otensor-cli.js');
  const node = spawn(
    process.execPath,
    [
      cli,
      'node',
      'start',
      '--router',
      router.url,
      '--model',
      modelPath,
      '--data',
      join(dir, 'node'),
      '--threads',
      String(threads),
      '--slots',
      '1',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OTENSOR_LOG: 'warn' } },
  );
  const client = new OmniClient({ baseUrl: router.url, apiKey });
  while ((await client.health()).nodes < 1) await new Promise((r) => setTimeout(r, 100));
  // The client is node:http with keep-alive: fetch (undici) alone adds ~0.75 ms a request here, which is
  // the client's cost, not the network's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const routerUrl = new URL(router.url);
  const routed = (prompt: string, seed: number) =>
    new Promise<Sample>((resolveSample, reject) => {
      const start = performance.now();
      let ttft = -1;
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
            if (ttft < 0 && /"content":"[^"]/.test(text)) ttft = performance.now() - start;
            body += text;
          });
          response.on('end', () => {
            const usage = /"completion_tokens":(\d+)/.exec(body);
            resolveSample({
              ttftMs: ttft,
              totalMs: performance.now() - start,
              tokens: Number(usage?.[1] ?? 0),
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

  // Warm both paths (first-use allocations, JIT) before measuring.
  await direct('warm up', 1);
  await routed('warm up', 1);
  const directSamples: Sample[] = [];
  const routedSamples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    // Blocks of the same prompts alternate between the paths: drift hits both alike, and each path runs
    // warm as it would serving steady traffic (switching every request leaves the node process cold).
    for (const [i, prompt] of PROMPTS.entries()) directSamples.push(await direct(prompt, i));
    for (const [i, prompt] of PROMPTS.entries()) routedSamples.push(await routed(prompt, i));
    process.stderr.write(`  overhead round ${round + 1}/${rounds} done\n`);
  }

  node.kill('SIGINT');
  await new Promise((r) => node.once('exit', r));
  await router.stop();
  await model.dispose();
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });

  const rate = (samples: Sample[]) =>
    (samples.reduce((s, x) => s + x.tokens, 0) / samples.reduce((s, x) => s + x.totalMs, 0)) * 1000;
  const addedTtft = routedSamples.map((s, i) => s.ttftMs - (directSamples[i] as Sample).ttftMs);
  const tokensMatch = routedSamples.every((s, i) => s.tokens === directSamples[i]?.tokens);
  return {
    name: 'overhead',
    model: 'tiny (seed 1, Q8_0)',
    threads,
    maxTokens,
    requests: routedSamples.length,
    directTokensPerSecond: rate(directSamples),
    routedTokensPerSecond: rate(routedSamples),
    ratio: rate(routedSamples) / rate(directSamples),
    // The spread across rounds shows how much of the difference is machine noise.
    ratioPerRound: Array.from({ length: rounds }, (_, r) => {
      const slice = (samples: Sample[]) => samples.slice(r * PROMPTS.length, (r + 1) * PROMPTS.length);
      return Number((rate(slice(routedSamples)) / rate(slice(directSamples))).toFixed(3));
    }),
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
    sameTokenCounts: tokensMatch,
  };
}

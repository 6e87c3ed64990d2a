/**
 * Verified streaming (docs/verification.md, docs/benchmarks.md): a streamed 200-token chat on the tiny
 * model, on a fresh network of 3 nodes (as `up` starts), under `none`, `checksum`, `redundant:3`,
 * `likelihood` (with the validators' cost: score calls and tokens of the chunk checks against the
 * whole-answer check's) and the default level (`auto`, which checks every result of a new node by checksum), side by side and
 * interleaved in one run: time to first content, total time, content chunks per 32 tokens. Then the same
 * requests without streaming, `none` against `checksum`: a check that overlaps generation should take about
 * the time of one generation, not two in a row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../src/models/index.js';
import { startBenchNetwork } from './local-network.js';

type Sample = { ttftMs: number; totalMs: number; chunks: number; tokens: number; streamed: string };

const LEVELS = ['none', 'checksum', 'redundant:3', 'likelihood', 'auto'] as const;

export async function verifiedStreamBench(options: { rounds?: number; maxTokens?: number } = {}) {
  const rounds = options.rounds ?? 12;
  const maxTokens = options.maxTokens ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'otensor-verified-stream-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });
  const network = await startBenchNetwork({
    routerData: join(dir, 'router'),
    nodeData: (i) => join(dir, `node-${i}`),
    modelPath,
    nodes: 3,
    threads: 1,
    // As `up` starts them: every node works and validates (likelihood needs a validator).
    role: 'both',
  });
  const url = network.router.url;
  const post = (body: Record<string, unknown>) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${network.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', max_tokens: maxTokens, temperature: 0.8, ...body }),
    });

  const streamed = async (prompt: string, seed: number, validation: string): Promise<Sample> => {
    const start = performance.now();
    const response = await post({
      messages: [{ role: 'user', content: prompt }],
      seed,
      stream: true,
      stream_options: { include_usage: true },
      ...(validation === 'auto' ? {} : { validation }),
    });
    let ttft = -1;
    let chunks = 0;
    let body = '';
    const decoder = new TextDecoder();
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(bytes, { stream: true });
      // One network read may carry several events: count content events, not reads.
      const contents = text.match(/"content":"[^"]/g)?.length ?? 0;
      if (contents > 0 && ttft < 0) ttft = performance.now() - start;
      chunks += contents;
      body += text;
    }
    const tokens = Number(/"completion_tokens":(\d+)/.exec(body)?.[1] ?? 0);
    const how = /"streamed":"([a-z-]+)"/.exec(body)?.[1] ?? 'not said';
    return { ttftMs: ttft, totalMs: performance.now() - start, chunks, tokens, streamed: how };
  };

  const whole = async (prompt: string, seed: number, validation: string): Promise<number> => {
    const start = performance.now();
    const response = await post({ messages: [{ role: 'user', content: prompt }], seed, validation });
    await response.json();
    return performance.now() - start;
  };

  try {
    // Warm-up: each node loads and runs once.
    for (let i = 0; i < 3; i++) await whole(`warm ${i}`, i, 'none');
    const samples = new Map<string, Sample[]>(LEVELS.map((l) => [l, []]));
    const cost = network.router.services.verification.cost;
    const likelihoodCost = {
      chunkCalls: [] as number[],
      chunkTokens: [] as number[],
      finalTokens: [] as number[],
    };
    const plain = { none: [] as number[], checksum: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      // Interleaved, each level in turn, so load on the shared machine falls on all alike.
      for (const level of LEVELS) {
        const before = { ...cost };
        samples.get(level)?.push(await streamed(`stream ${round} ${level}`, 100 + round, level));
        if (level !== 'likelihood') continue;
        likelihoodCost.chunkCalls.push(cost.streamChecks - before.streamChecks);
        likelihoodCost.chunkTokens.push(cost.streamTokens - before.streamTokens);
        likelihoodCost.finalTokens.push(cost.checkTokens - before.checkTokens);
      }
      for (const level of ['none', 'checksum'] as const)
        plain[level].push(await whole(`whole ${round} ${level}`, 200 + round, level));
    }
    const figures: Record<string, unknown> = {};
    const none = samples.get('none') as Sample[];
    for (const level of LEVELS) {
      const s = samples.get(level) as Sample[];
      const ttft = median(s.map((x) => x.ttftMs));
      const total = median(s.map((x) => x.totalMs));
      figures[level] = {
        ttftP50Ms: round1(ttft),
        ttftRange: [round1(Math.min(...s.map((x) => x.ttftMs))), round1(Math.max(...s.map((x) => x.ttftMs)))],
        totalP50Ms: round1(total),
        chunksPer32Tokens: round2(median(s.map((x) => (x.chunks * 32) / Math.max(x.tokens, 1)))),
        tokensP50: median(s.map((x) => x.tokens)),
        streamed: [...new Set(s.map((x) => x.streamed))],
        ttftVsNone: round2(ttft / median(none.map((x) => x.ttftMs))),
        totalVsNone: round2(total / median(none.map((x) => x.totalMs))),
      };
    }
    // The whole-answer check is made as before (by one validator, two for a node without a clean record);
    // the chunk checks come on top of it.
    figures.likelihoodValidatorCost = {
      chunkScoreCallsP50: median(likelihoodCost.chunkCalls),
      chunkTokensP50: median(likelihoodCost.chunkTokens),
      wholeAnswerCheckTokensP50: median(likelihoodCost.finalTokens),
      chunkVsWholeAnswer: round2(
        likelihoodCost.chunkTokens.reduce((a, b) => a + b, 0) /
          Math.max(
            1,
            likelihoodCost.finalTokens.reduce((a, b) => a + b, 0),
          ),
      ),
    };
    figures.nonStreaming = {
      noneP50Ms: round1(median(plain.none)),
      checksumP50Ms: round1(median(plain.checksum)),
      // A check run after the worker's result costs about two generations in a row (ratio ~2); overlapped, ~1.
      checksumVsNone: round2(median(plain.checksum) / median(plain.none)),
    };
    figures.rounds = rounds;
    figures.maxTokens = maxTokens;
    return figures;
  } finally {
    await network.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

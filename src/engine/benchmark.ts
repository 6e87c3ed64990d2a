import type { LoadedModel } from './types.js';

export type BenchmarkOptions = {
  /** Tokens to generate in the measured run. Default 32. */
  maxTokens?: number;
  /** Stop early after this long (slow models on CPU); the rate uses what was produced. Default 2000. */
  timeBudgetMs?: number;
  prompt?: string;
};

export type BenchmarkResult = { tokensPerSecond: number; tokens: number; elapsedMs: number };

/**
 * A short greedy generation to estimate decode speed, run by nodes at start.
 * A 1-token warm-up first, so one-off costs (buffers, first prompt) are not counted.
 */
export async function benchmarkModel(
  model: LoadedModel,
  opts: BenchmarkOptions = {},
): Promise<BenchmarkResult> {
  const prompt = opts.prompt ?? 'The quick brown fox jumps over the lazy dog. Once upon a time';
  const base = { temperature: 0, topP: 1, stop: [] as string[] };
  await model.complete(prompt, { ...base, maxTokens: 1 }, () => {});

  const signal = AbortSignal.timeout(opts.timeBudgetMs ?? 2000);
  let pieces = 0;
  const start = performance.now();
  let tokens: number;
  try {
    const res = await model.complete(prompt, { ...base, maxTokens: opts.maxTokens ?? 32, signal }, () => {
      pieces++;
    });
    tokens = res.completionTokens;
  } catch (err) {
    if (!signal.aborted) throw err;
    tokens = pieces; // one text piece per token is a close enough count for a rate
  }
  const elapsedMs = performance.now() - start;
  return { tokensPerSecond: elapsedMs > 0 ? (tokens * 1000) / elapsedMs : 0, tokens, elapsedMs };
}

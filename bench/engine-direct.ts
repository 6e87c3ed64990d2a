import { createLlamaEngine } from '../src/engine/index.js';

/**
 * In-process baseline: generate each prompt sequentially straight through the
 * engine, with no router or node in between, to compare against the network path.
 */

export type DirectOptions = { modelPath: string; prompts: string[]; maxTokens: number; threads: number };

export type DirectResult = {
  requests: number;
  totalTokens: number;
  wallMs: number;
  tokensPerSecond: number;
  /** Per request, milliseconds from the call to the first streamed text piece. */
  timeToFirstTokenMs: number[];
  /** Per request, milliseconds for the whole generation. */
  requestMs: number[];
};

export async function runDirect(opts: DirectOptions): Promise<DirectResult> {
  const engine = await createLlamaEngine({ gpu: false, logLevel: 'error' });
  try {
    const model = await engine.loadModel(opts.modelPath, { threads: opts.threads, slots: 1 });
    const params = { maxTokens: opts.maxTokens, temperature: 0, topP: 1, stop: [] as string[] };
    // Warm-up so the first measured request does not pay one-off allocation costs.
    await model.complete('warm up', { ...params, maxTokens: 1 }, () => {});

    const timeToFirstTokenMs: number[] = [];
    const requestMs: number[] = [];
    let totalTokens = 0;
    const start = performance.now();
    for (const prompt of opts.prompts) {
      const t0 = performance.now();
      let first: number | undefined;
      const res = await model.complete(prompt, params, () => {
        first ??= performance.now() - t0;
      });
      requestMs.push(performance.now() - t0);
      timeToFirstTokenMs.push(first ?? Number.NaN);
      totalTokens += res.completionTokens;
    }
    const wallMs = performance.now() - start;
    await model.dispose();
    return {
      requests: opts.prompts.length,
      totalTokens,
      wallMs,
      tokensPerSecond: wallMs > 0 ? (totalTokens * 1000) / wallMs : 0,
      timeToFirstTokenMs,
      requestMs,
    };
  } finally {
    await engine.dispose();
  }
}

import type { Engine, LoadedModel, LoadModelOptions } from '../engine/index.js';

/** Thread counts worth trying: powers of two up to the core count, and the core count itself. */
export function threadCandidates(cores: number): number[] {
  const out: number[] = [];
  for (let t = 1; t < cores; t *= 2) out.push(t);
  out.push(Math.max(1, cores));
  return out;
}

type Measure = { tokensPerSecond: number; elapsedMs: number; slower: boolean };

/**
 * Decode speed after the first token (so prompt processing and one-off buffer setup are not counted). When
 * `beatMs` is given, generation is cut once it has run that long: the setting is then slower than the best.
 */
async function measure(model: LoadedModel, tokens: number, beatMs: number | undefined): Promise<Measure> {
  const abort = new AbortController();
  // A first token that takes seconds means this setting is hopeless (or the model is huge); give up on it.
  const firstTimer = setTimeout(
    () => abort.abort(new Error('too slow')),
    beatMs === undefined ? 10_000 : 2000,
  );
  let first = 0;
  let last = 0;
  let pieces = 0;
  let cutTimer: NodeJS.Timeout | undefined;
  try {
    await model.complete(
      'The quick brown fox jumps over the lazy dog. Once upon a time',
      { maxTokens: tokens, temperature: 0, topP: 1, stop: [], signal: abort.signal },
      () => {
        last = performance.now();
        if (pieces++ > 0) return;
        first = last;
        clearTimeout(firstTimer);
        if (beatMs !== undefined) cutTimer = setTimeout(() => abort.abort(new Error('slower')), beatMs);
      },
    );
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    return { tokensPerSecond: 0, elapsedMs: Number.POSITIVE_INFINITY, slower: true };
  } finally {
    clearTimeout(firstTimer);
    clearTimeout(cutTimer);
  }
  const elapsedMs = Math.max(last - first, 0.001);
  return { tokensPerSecond: pieces > 1 ? ((pieces - 1) * 1000) / elapsedMs : 0, elapsedMs, slower: false };
}

export type ThreadChoice = { threads: number; model: LoadedModel; tried: string[] };

/**
 * Picks the thread count by measuring, since on CPU speed depends on it more than on anything else (on a
 * 2-core box the tiny model ran 60x slower with 2 threads than with 1). Tries 1, 2, 4, ... cores, stopping
 * at the first count that is not faster; a slower try is cut short so start-up stays quick. The fastest
 * model stays loaded and is returned, so the caller need not load it again.
 */
export async function chooseThreads(
  engine: Engine,
  file: string,
  cores: number,
  options: Omit<LoadModelOptions, 'threads'>,
): Promise<ThreadChoice> {
  let best: { threads: number; model: LoadedModel; result: Measure } | undefined;
  const tried: string[] = [];
  for (const threads of threadCandidates(cores)) {
    const model = await engine.loadModel(file, { ...options, threads });
    let result: Measure;
    try {
      // Twice the best run's time is ample for an equal or faster setting to finish its tokens.
      const beat = best && !best.result.slower ? Math.max(25, best.result.elapsedMs * 2) : undefined;
      result = await measure(model, 24, beat);
    } catch (error) {
      await model.dispose();
      if (best) break;
      throw error;
    }
    tried.push(`${threads}: ${result.slower ? 'slower' : result.tokensPerSecond.toFixed(0)}`);
    if (best && (result.slower || result.tokensPerSecond <= best.result.tokensPerSecond)) {
      await model.dispose();
      break;
    }
    await best?.model.dispose();
    best = { threads, model, result };
  }
  if (!best) throw new Error('no thread count could run the model');
  return { threads: best.threads, model: best.model, tried };
}

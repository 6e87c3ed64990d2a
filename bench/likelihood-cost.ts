/**
 * The cost of a `likelihood` check next to regenerating: for the same prompts and the same output tokens,
 * wall time of engine `score` (one teacher-forced pass) over wall time of engine `complete`/`chat`
 * (generating them), both at threads 1, alternating which runs first. Measured on the tiny model, where
 * per-token overhead dominates, and on random 27M- and 155M-parameter models, where the arithmetic does.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine, GenerateParams, LoadedModel, ScoreInput } from '../src/engine/index.js';
import { MEDIUM_MODEL_DIMS, writeMediumModel } from './medium-model.js';

export type CostFigures = {
  model: string;
  requests: number;
  outputTokens: number;
  generateMs: number;
  scoreMs: number;
  /** scoreMs / generateMs: the figure the issue asks for. */
  timeRatio: number;
  /** The same per request (generation and check of one output), median: less sensitive to load spikes. */
  medianRequestRatio: number;
  /** Tokens the check evaluated over tokens generation evaluated (prompt + output each). */
  evaluatedTokenRatio: number;
  resegmentationsPerRequest: number;
};

async function measureOne(
  model: LoadedModel,
  name: string,
  prompts: ScoreInput[],
  maxTokens: number,
  rounds = 3,
) {
  const params: GenerateParams = { maxTokens, temperature: 0, topP: 1, stop: [] };
  const generate = (input: ScoreInput) =>
    'messages' in input
      ? model.chat(input.messages, params, () => {})
      : model.complete(input.prompt, params, () => {});
  const outputs = [];
  for (const input of prompts) outputs.push(await generate(input));
  // Warm the scoring path once so it does not pay first-call costs either.
  await model.score(prompts[0] as ScoreInput, outputs[0]?.text ?? '', { stop: [] });
  let generateMs = 0;
  let scoreMs = 0;
  let evaluated = 0;
  let resegmentations = 0;
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, input] of prompts.entries()) {
      const text = outputs[i]?.text ?? '';
      const timeGenerate = async () => {
        const t0 = performance.now();
        await generate(input);
        return performance.now() - t0;
      };
      const timeScore = async () => {
        const t0 = performance.now();
        const s = await model.score(input, text, { stop: [] });
        evaluated += s.evaluatedTokens;
        resegmentations += s.resegmentations;
        return performance.now() - t0;
      };
      // Alternate which side runs first, so drifting machine load favours neither.
      const first = (round + i) % 2 === 0;
      const g = first ? await timeGenerate() : 0;
      const s = await timeScore();
      const g2 = first ? g : await timeGenerate();
      generateMs += g2;
      scoreMs += s;
      ratios.push(s / g2);
    }
  }
  const generated = outputs.reduce((a, r) => a + r.promptTokens + r.completionTokens, 0) * rounds;
  ratios.sort((a, b) => a - b);
  return {
    model: name,
    requests: prompts.length * rounds,
    outputTokens: outputs.reduce((a, r) => a + r.completionTokens, 0) * rounds,
    generateMs: Math.round(generateMs),
    scoreMs: Math.round(scoreMs),
    timeRatio: Number((scoreMs / generateMs).toFixed(3)),
    medianRequestRatio: Number((ratios[Math.floor(ratios.length / 2)] ?? 0).toFixed(3)),
    evaluatedTokenRatio: Number((evaluated / generated).toFixed(3)),
    resegmentationsPerRequest: Number((resegmentations / (prompts.length * rounds)).toFixed(2)),
  } satisfies CostFigures;
}

/** Measures the ratio on the tiny model (already loaded) and on a medium random model written to `dir`. */
export async function measureCost(
  engine: Engine,
  tiny: LoadedModel,
  prompts: ScoreInput[],
  dir: string,
): Promise<CostFigures[]> {
  const out = [await measureOne(tiny, 'tiny (f32, 64 wide, 2 layers)', prompts.slice(0, 16), 64)];
  const sizes = [
    {
      file: 'medium.gguf',
      dims: MEDIUM_MODEL_DIMS,
      name: 'medium (q8_0, 512 wide, 8 layers, 27M params)',
      n: 8,
      rounds: 3,
    },
    {
      file: 'large.gguf',
      dims: { nEmbd: 1024, nLayer: 12, nHead: 16, nFf: 2816 },
      name: 'large (q8_0, 1024 wide, 12 layers, 155M params)',
      n: 4,
      rounds: 2,
    },
  ];
  for (const size of sizes) {
    const path = join(dir, size.file);
    await writeMediumModel(path, size.dims);
    const model = await engine.loadModel(path, { threads: 1, contextSize: 512 });
    try {
      out.push(await measureOne(model, size.name, prompts.slice(0, size.n), 64, size.rounds));
    } finally {
      await model.dispose();
    }
    rmSync(path, { force: true });
  }
  return out;
}

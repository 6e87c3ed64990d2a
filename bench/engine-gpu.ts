/**
 * The engine on whatever GPU node-llama-cpp finds, beside the CPU, same model and prompts, in one run.
 * `node --import tsx bench/engine-gpu.ts [cpuThreads] [tiny|medium|large]`; prints JSON. Used on the lent GPU
 * machine. `medium` (27M) and `large` (155M) are random Q8_0 models (bench/medium-model.ts) whose timing is that
 * of their size: on them the arithmetic, not per-token overhead, decides the speed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaEngine } from '../src/engine/index.js';
import { writeTinyModel } from '../src/models/index.js';
import { writeMediumModel } from './medium-model.js';

const cpuThreads = Number(process.argv[2] ?? 1);
const size = process.argv[3] ?? 'tiny';
const dir = mkdtempSync(join(tmpdir(), 'otensor-gpu-'));
const modelPath = join(dir, `${size}.gguf`);
const sizes = {
  tiny: { name: 'tiny (seed 1, Q8_0)', write: () => writeTinyModel(modelPath, { seed: 1 }) },
  medium: {
    name: 'medium (random Q8_0, 512 wide, 8 layers, 27M params)',
    write: () => writeMediumModel(modelPath),
  },
  large: {
    name: 'large (random Q8_0, 1024 wide, 12 layers, 155M params)',
    write: () => writeMediumModel(modelPath, { nEmbd: 1024, nLayer: 12, nHead: 16, nFf: 2816 }),
  },
} as const;
const chosen = sizes[size as keyof typeof sizes];
if (!chosen) throw new Error(`Unknown model size '${size}': use tiny, medium or large.`);
await chosen.write();

async function measure(gpu: 'auto' | false, threads: number) {
  const engine = await createLlamaEngine({ gpu });
  const gpus = await engine.describeGpus();
  const model = await engine.loadModel(modelPath, { threads, slots: 1, gpu: gpu !== false });
  const params = { maxTokens: 256, temperature: 0.8, topP: 1, stop: [] as string[] };
  await model.chat([{ role: 'user', content: 'warm up' }], { ...params, seed: 0 }, () => {});
  let tokens = 0;
  const start = performance.now();
  for (let i = 0; i < 20; i++) {
    const result = await model.chat(
      [{ role: 'user', content: `prompt ${i}` }],
      { ...params, seed: i },
      () => {},
    );
    tokens += result.completionTokens;
  }
  const ms = performance.now() - start;
  await model.dispose();
  await engine.dispose();
  return {
    backend: gpus.type,
    gpus: gpus.names,
    vramBytes: gpus.vramBytes,
    threads,
    tokens,
    ms: Math.round(ms),
    tokensPerSecond: Math.round((tokens / ms) * 1000),
  };
}

const gpu = await measure('auto', 1);
const cpu = await measure(false, cpuThreads);
console.log(JSON.stringify({ model: chosen.name, requests: 20, maxTokens: 256, gpu, cpu }, null, 2));

/**
 * The engine on whatever GPU node-llama-cpp finds, beside the CPU, same model and prompts, in one run.
 * `node --import tsx bench/engine-gpu.ts [cpuThreads]`; prints JSON. Used on the lent GPU machine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaEngine } from '../src/engine/index.js';
import { writeTinyModel } from '../src/models/index.js';

const cpuThreads = Number(process.argv[2] ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'otensor-gpu-'));
const modelPath = join(dir, 'tiny.gguf');
await writeTinyModel(modelPath, { seed: 1 });

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
console.log(
  JSON.stringify({ model: 'tiny (seed 1, Q8_0)', requests: 20, maxTokens: 256, gpu, cpu }, null, 2),
);

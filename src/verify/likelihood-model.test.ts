import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlamaEngine, type Engine, type LoadedModel } from '../engine/index.js';
import { writeTinyModel } from '../models/tiny-model.js';
import { judgeLikelihood } from './likelihood.js';

/** Model-dependent: the judge on real scores of honest sampled outputs (tiny model, F32, seed 1). */

let dir = '';
let engine: Engine;
let model: LoadedModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-judge-'));
  await writeTinyModel(join(dir, 'a.gguf'), { seed: 1, type: 'f32' });
  engine = await createLlamaEngine({ gpu: false });
  model = await engine.loadModel(join(dir, 'a.gguf'), { threads: 1, contextSize: 256 });
});
afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('likelihood on honest sampled outputs', () => {
  // Found by the adversarial bench: a sampled ' as' was re-split into ' a' + 's' (the model's top choice),
  // which put the next token outside the top 40 and failed an honest answer on every retry.
  it('keeps the split a sampled output was generated with, so an honest sample passes', async () => {
    const messages = [{ role: 'user' as const, content: 'tim wate woul p c them' }];
    const params = { maxTokens: 18, temperature: 1, topP: 1, seed: 764704, stop: [] };
    const generated = await model.chat(messages, params, () => {});
    const scores = await model.score({ messages }, generated.text, { stop: [], greedy: false });
    const judgment = judgeLikelihood({
      scores,
      params,
      claim: { finishReason: generated.finishReason, completionTokens: generated.completionTokens },
    });
    expect(judgment.reason).not.toMatch(/outside/);
    expect(judgment.outcome).toBe('pass');
  });
});

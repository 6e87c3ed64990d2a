import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../models/tiny-model.js';
import { ContextLengthError } from '../protocol/errors.js';
import {
  benchmarkModel,
  ContextLengthExceededError,
  createLlamaEngine,
  type Engine,
  type GenerateParams,
  type LoadedModel,
} from './index.js';

let dir = '';
let engine: Engine;
let model: LoadedModel;
let path = '';

const params = (p: Partial<GenerateParams> = {}): GenerateParams => ({
  maxTokens: 24,
  temperature: 0,
  topP: 1,
  stop: [],
  ...p,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-engine-'));
  path = join(dir, 'tiny.gguf');
  await writeTinyModel(path, { seed: 1 });
  engine = await createLlamaEngine({ gpu: false });
  model = await engine.loadModel(path, { threads: 1, slots: 2, contextSize: 256 });
});
afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('llama engine', () => {
  it('reports its shape and a cpu device', async () => {
    expect(model.contextLength).toBe(256);
    expect(model.slots).toBe(2);
    expect(model.path).toBe(path);
    expect(model.countTokens(' the model')).toBe(2);
    expect(await engine.describeGpus()).toEqual({ type: 'cpu', names: [], vramBytes: 0 });
  });

  it('streams pieces that concatenate to the text and honours maxTokens', async () => {
    const pieces: string[] = [];
    const res = await model.complete('hello world', params({ maxTokens: 32 }), (t) => pieces.push(t));
    expect(res.finishReason).toBe('length');
    expect(res.completionTokens).toBe(32);
    expect(res.promptTokens).toBe(model.countTokens('hello world') + 1); // + BOS
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(res.text);
    expect(res.text.length).toBeGreaterThan(0);
  });

  it('is deterministic: greedy, and sampling with the same seed', async () => {
    const run = async (p: Partial<GenerateParams>) => (await model.complete('the', params(p), () => {})).text;
    expect(await run({})).toBe(await run({}));
    const a = await run({ temperature: 1, topP: 0.95, seed: 11 });
    expect(await run({ temperature: 1, topP: 0.95, seed: 11 })).toBe(a);
    const others = await Promise.all([12, 13, 14].map((seed) => run({ temperature: 1, topP: 0.95, seed })));
    expect(others.some((t) => t !== a)).toBe(true);
  });

  it('cuts at a stop string and never emits it', async () => {
    const full = (await model.complete('hello', params({ maxTokens: 40 }), () => {})).text;
    const stop = full.slice(6, 9);
    expect(stop.length).toBe(3);
    const pieces: string[] = [];
    const res = await model.complete('hello', params({ maxTokens: 40, stop: [stop] }), (t) => pieces.push(t));
    expect(res.finishReason).toBe('stop');
    expect(res.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(pieces.join('')).toBe(res.text);
    expect(res.completionTokens).toBeLessThan(40);
  });

  it('rejects prompts that do not fit before generating', async () => {
    const long = ' the model'.repeat(200);
    await expect(model.complete(long, params(), () => {})).rejects.toBeInstanceOf(ContextLengthExceededError);
    const err = await model.complete('hello', params({ maxTokens: 255 }), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextLengthError);
    expect(err).toMatchObject({ contextLength: 256, promptTokens: model.countTokens('hello') + 1 });
    // Exactly filling the context is allowed.
    const fit = await model.complete(
      'hello',
      params({ maxTokens: 256 - (model.countTokens('hello') + 1) }),
      () => {},
    );
    expect(fit.finishReason).toBe('length');
  });

  it('formats chat with a template and generates', async () => {
    const res = await model.chat(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello.' },
      ],
      params({ maxTokens: 16 }),
      () => {},
    );
    expect(res.completionTokens).toBe(16);
    expect(res.promptTokens).toBeGreaterThan(model.countTokens('Be brief. Say hello.'));
  });

  it('aborts with the signal reason', async () => {
    const ac = new AbortController();
    const p = model.complete('hello', params({ maxTokens: 200, signal: ac.signal }), () =>
      ac.abort(new Error('gone')),
    );
    await expect(p).rejects.toThrow('gone');
    // The slot is released: a following request still works.
    expect((await model.complete('hi', params({ maxTokens: 4 }), () => {})).completionTokens).toBe(4);
  });

  it('runs concurrent requests on two slots and queues the third', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((seed) =>
        model.complete('the model', params({ maxTokens: 20, temperature: 0.8, seed }), () => {}),
      ),
    );
    for (const r of results) expect(r.completionTokens).toBe(20);
    const alone = await model.complete(
      'the model',
      params({ maxTokens: 20, temperature: 0.8, seed: 1 }),
      () => {},
    );
    expect(alone.text.length).toBeGreaterThan(0);
  });

  it('embeds texts into vectors of the model width', async () => {
    const res = await model.embed(['hello world', 'the model']);
    expect(res.vectors).toHaveLength(2);
    expect(res.vectors[0]).toHaveLength(64);
    expect(res.vectors[0]?.every(Number.isFinite)).toBe(true);
    expect(res.promptTokens).toBeGreaterThan(2);
  });

  it('benchmarks quickly', async () => {
    const t0 = performance.now();
    const b = await benchmarkModel(model);
    expect(b.tokensPerSecond).toBeGreaterThan(50);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

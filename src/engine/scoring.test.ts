import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../models/tiny-model.js';
import {
  createLlamaEngine,
  type Engine,
  type GenerateParams,
  type LoadedModel,
  SAMPLING_TOP_K,
} from './index.js';

/** Model-dependent: teacher-forced scoring on the real tiny model (F32, seed 1) and another seed's. */

let dir = '';
let engine: Engine;
let model: LoadedModel;
let other: LoadedModel;

const params = (p: Partial<GenerateParams> = {}): GenerateParams => ({
  maxTokens: 32,
  temperature: 0,
  topP: 1,
  stop: [],
  ...p,
});
const PROMPTS = [
  'hello world',
  'the model',
  'data network',
  'compute the',
  'write some text',
  'find the water',
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-score-'));
  await writeTinyModel(join(dir, 'a.gguf'), { seed: 1, type: 'f32' });
  await writeTinyModel(join(dir, 'b.gguf'), { seed: 2, type: 'f32' });
  engine = await createLlamaEngine({ gpu: false });
  model = await engine.loadModel(join(dir, 'a.gguf'), { threads: 1, contextSize: 256 });
  other = await engine.loadModel(join(dir, 'b.gguf'), { threads: 1, contextSize: 256 });
});
afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('score', () => {
  it('scores an honest greedy output as the top token at every position, in one pass', async () => {
    for (const prompt of PROMPTS) {
      const res = await model.complete(prompt, params(), () => {});
      const scores = await model.score({ prompt }, res.text, { stop: [] });
      expect(scores.tokens).toHaveLength(res.completionTokens);
      expect(scores.tokens.every((t) => t.rank === 0 && t.logit === t.topLogits[0])).toBe(true);
      expect(scores.tokens.map((t) => t.text).join('')).toBe(res.text);
      expect(scores.promptTokens).toBe(res.promptTokens);
      // The output (the prompt generation left in the context is kept), plus at most a few chunks re-fed
      // where the tokenizer split the text differently.
      expect(scores.evaluatedTokens).toBeGreaterThanOrEqual(res.completionTokens);
      const first = scores.tokens[0];
      expect(first?.topLogits).toHaveLength(SAMPLING_TOP_K);
      expect(first && first.logSumExp >= (first.topLogits[0] ?? 0)).toBe(true);
    }
  });

  it("scores another seed's greedy output as mostly not the model's choice", async () => {
    let nonTop = 0;
    let total = 0;
    for (const prompt of PROMPTS) {
      const res = await other.complete(prompt, params(), () => {});
      const scores = await model.score({ prompt }, res.text, { stop: [] });
      total += scores.tokens.length;
      nonTop += scores.tokens.filter((t) => t.rank > 0).length;
    }
    expect(nonTop / total).toBeGreaterThan(0.9);
  });

  it('renders chat with the same template generation used', async () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Say hello.' },
    ];
    const res = await model.chat(messages, params(), () => {});
    const scores = await model.score({ messages }, res.text, { stop: [] });
    expect(scores.promptTokens).toBe(res.promptTokens);
    expect(scores.tokens.every((t) => t.rank === 0)).toBe(true);
  });

  it('keeps every token of an honest sampled output inside the sampler top list', async () => {
    for (const [i, prompt] of PROMPTS.entries()) {
      const p = params({ temperature: 1, topP: 0.95, seed: 7 + i });
      const res = await model.complete(prompt, p, () => {});
      const scores = await model.score({ prompt }, res.text, { stop: [] });
      expect(scores.tokens.every((t) => t.rank < SAMPLING_TOP_K)).toBe(true);
      expect(scores.tokens.map((t) => t.text).join('')).toBe(res.text);
    }
  });

  it('tells where the output ends: at a stop string, or not', async () => {
    const full = (await model.complete('hello', params({ maxTokens: 40 }), () => {})).text;
    const stop = full.slice(6, 9);
    const res = await model.complete('hello', params({ maxTokens: 40, stop: [stop] }), () => {});
    expect(res.finishReason).toBe('stop');
    const ended = await model.score({ prompt: 'hello' }, res.text, { stop: [stop] });
    expect(ended.end.stop).toBe('full');
    expect(ended.end.continuation.startsWith(stop)).toBe(true);
    expect(ended.end.stopLogit).not.toBeNull();
    // Cut shorter, the model would go on with more text, not the stop string.
    const cut = await model.score({ prompt: 'hello' }, res.text.slice(0, 3), { stop: [stop] });
    expect(cut.end.stop).toBe('none');
    expect(cut.end.eog).toBe(false);
  });

  it('leaves generation unchanged and rejects an oversized prompt', async () => {
    const before = (await model.complete('hello world', params(), () => {})).text;
    await model.score({ prompt: 'zzz' }, 'abc def', { stop: [] });
    expect((await model.complete('hello world', params(), () => {})).text).toBe(before);
    await expect(model.score({ prompt: ' the model'.repeat(200) }, 'x', { stop: [] })).rejects.toThrow(
      /context/,
    );
  });

  it('scores an empty output by its end alone', async () => {
    const scores = await model.score({ prompt: 'hello' }, '', { stop: [] });
    expect(scores.tokens).toHaveLength(0);
    expect(scores.end.topTokens.length).toBe(SAMPLING_TOP_K);
    expect(scores.evaluatedTokens).toBeGreaterThanOrEqual(1);
    expect(scores.evaluatedTokens).toBeLessThanOrEqual(scores.promptTokens);
  });

  it('resumes a stream: scores only the text after the tokens passed before, as one pass over all of it would', async () => {
    for (const prompt of PROMPTS.slice(0, 3)) {
      const { text } = await model.complete(prompt, params({ maxTokens: 48 }), () => {});
      await other.score({ prompt: 'zzz' }, 'abc', { stop: [] }); // nothing of the prompt left in `other`
      const whole = await model
        .score({ prompt: 'x' }, 'y', { stop: [] })
        .then(() => model.score({ prompt }, text, { stop: [] }));
      // A first chunk, then the rest from its tokens but the last two (as ChunkChecks resumes).
      const chunk = await model.score({ prompt }, text.slice(0, 20), { stop: [] });
      const kept = chunk.tokens.slice(0, -2);
      const chars = kept.map((t) => t.text).join('').length;
      const rest = await model.score({ prompt }, text, {
        stop: [],
        resume: { tokens: kept.map((t) => t.token), chars },
      });
      expect(rest.promptTokens).toBe(whole.promptTokens);
      expect([...kept, ...rest.tokens].map((t) => t.token)).toEqual(whole.tokens.map((t) => t.token));
      expect([...kept, ...rest.tokens].every((t) => t.rank === 0)).toBe(true);
      // Only the rest was evaluated: the context still held prompt and chunk (one token is fed again for
      // the first distribution; a switch of tokenization re-feeds at most a chunk of 8, as in any pass).
      expect(rest.evaluatedTokens).toBeLessThanOrEqual(rest.tokens.length + 2 + 8 * rest.resegmentations);
      expect(rest.evaluatedTokens).toBeLessThan(whole.evaluatedTokens);
      expect(rest.end.stop).toBe(whole.end.stop);
    }
  });

  it('refuses resumed tokens that do not spell the start of the output', async () => {
    const chunk = await model.score({ prompt: 'hello world' }, 'abc def', { stop: [] });
    const tokens = chunk.tokens.map((t) => t.token);
    await expect(
      model.score({ prompt: 'hello world' }, 'xyz def', { stop: [], resume: { tokens, chars: 7 } }),
    ).rejects.toThrow(/do not spell/);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from './tiny-model.js';

// Loads the tiny model in the real llama.cpp bindings (CPU prebuilt, never built or downloaded).
let dir = '';
let llama: Llama;
let model: LlamaModel;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-tiny-'));
  const path = join(dir, 'tiny.gguf');
  await writeTinyModel(path, { seed: 1 });
  llama = await getLlama({
    build: 'never',
    gpu: false,
    progressLogs: false,
    skipDownload: true,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => logs.push(`${level}: ${message}`),
  });
  model = await llama.loadModel({ modelPath: path });
});
afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('tiny model in node-llama-cpp', () => {
  it('loads without warnings', () => {
    expect(model.getWarnings()).toEqual([]);
    expect(logs.filter((l) => /^(warn|error)/.test(l))).toEqual([]);
    expect(model.fileInfo.metadata.general.architecture).toBe('llama');
  });

  it.each([
    'some test text here',
    'hello world\nThe model, said: "hi!"  ok.\n\n',
    'héllo 東京 🙂',
    ' leading space and trailing ',
    'Tabs\tand {braces} [1, 2, 3] 100%',
  ])('round-trips %j through the tokenizer', (text) => {
    expect(model.detokenize(model.tokenize(text))).toBe(text);
    expect(model.detokenize(model.tokenize(text, false, 'trimLeadingSpace'))).toBe(text);
  });

  it('uses whole-word pieces for common words', () => {
    expect(model.tokenize(' the model').length).toBe(2);
  });

  it('generates decodable text up to the token limit', async () => {
    const { LlamaCompletion } = await import('node-llama-cpp');
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      for (const seed of [1, 2, 3]) {
        const res = await completion.generateCompletionWithMeta('hello world', {
          maxTokens: 48,
          temperature: 1,
          seed,
        });
        expect(res.metadata.stopReason).toBe('maxTokens');
        expect(res.response).not.toContain('\uFFFD');
        expect(res.response.length).toBeGreaterThan(0);
      }
    } finally {
      await context.dispose();
    }
  });
});

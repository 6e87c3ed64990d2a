import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlamaEngine, type Engine, type LoadedModel } from '../engine/index.js';
import { sha256File, writeTinyModel } from '../models/index.js';
import { createResultKey, type NodeMessage, type TaskMessage } from '../protocol/index.js';
import { Runner } from './runner.js';
import { threadCandidates } from './threads.js';

let dir = '';
let engine: Engine;
let model: LoadedModel;
let sha = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-runner-'));
  const path = join(dir, 'tiny.gguf');
  await writeTinyModel(path, { seed: 2 });
  sha = await sha256File(path);
  engine = await createLlamaEngine({ gpu: false });
  model = await engine.loadModel(path, { threads: 1, slots: 1, contextSize: 2048 });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function makeRunner() {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const sent: NodeMessage[] = [];
  const runner = new Runner({
    account,
    signResult: createResultKey().sign,
    models: new Map([[sha, model]]),
    send: (m) => {
      sent.push(m);
      return true;
    },
    log: () => {},
  });
  return { runner, sent };
}

const task = (taskId: string, maxTokens: number): TaskMessage => ({
  type: 'task',
  taskId,
  attempt: 1,
  modelSha256: sha,
  input: {
    kind: 'completion',
    prompt: 'once upon a time',
    params: { maxTokens, temperature: 0, topP: 1, stop: [] },
  },
  deadline: Date.now() + 60_000,
});

describe('task runner', () => {
  it('runs one task per slot; the rest wait', async () => {
    const { runner, sent } = makeRunner();
    runner.run(task('a', 200));
    runner.run(task('b', 4));
    runner.run(task('b', 4)); // a resent task is not run twice
    expect(runner.running).toBe(1);
    await runner.drain(10_000);
    expect(sent.filter((m) => m.type === 'result').map((m) => 'taskId' in m && m.taskId)).toEqual(['a']);
    expect(sent.find((m) => m.type === 'release')).toEqual({
      type: 'release',
      tasks: [{ taskId: 'b', attempt: 1 }],
    });
  });

  it('on drain, aborts and hands back a running task that outlasts the grace period', async () => {
    const { runner, sent } = makeRunner();
    runner.run(task('long', 1900));
    await new Promise((r) => setTimeout(r, 30));
    const started = performance.now();
    await runner.drain(100);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sent.some((m) => m.type === 'result')).toBe(false);
    expect(sent.at(-1)).toEqual({ type: 'release', tasks: [{ taskId: 'long', attempt: 1 }] });
    expect(runner.running).toBe(0);
    // A drained runner takes no more work.
    runner.run(task('late', 4));
    expect(sent.at(-1)).toMatchObject({ type: 'task_error', taskId: 'late', final: false });
  });

  it('aborts everything when the link drops', async () => {
    const { runner, sent } = makeRunner();
    runner.run(task('x', 1900));
    runner.run(task('y', 4));
    await new Promise((r) => setTimeout(r, 30));
    runner.abortAll();
    await runner.drain(1000);
    expect(sent.filter((m) => m.type !== 'chunk')).toEqual([]);
  });
});

describe('thread candidates', () => {
  it('tries powers of two and the core count', () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(6)).toEqual([1, 2, 4, 6]);
    expect(threadCandidates(16)).toEqual([1, 2, 4, 8, 16]);
  });
});

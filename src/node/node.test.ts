import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File, writeTinyModel } from '../models/index.js';
import {
  type ChatMessage,
  helloClaimText,
  outputHash,
  resultClaimText,
  resultPublicKey,
  type TaskInput,
  verifyResultSignature,
  verifySigner,
} from '../protocol/index.js';
import { type RunningNode, startNode } from './main.js';
import { FakeRouter, isType } from './testing.js';

let dir = '';
let modelPath = '';
let sha = '';
let router: FakeRouter;
let node: RunningNode;
const logs: string[] = [];

const chat = (content: string, maxTokens: number): TaskInput => ({
  kind: 'chat',
  messages: [{ role: 'user', content }] satisfies ChatMessage[],
  params: { maxTokens, temperature: 0, topP: 1, stop: [] },
});

let taskCounter = 0;
/** Sends a task to the node and returns its id. */
function sendTask(input: TaskInput, modelSha256 = sha): string {
  const taskId = `task_${++taskCounter}`;
  router.send({ type: 'task', taskId, attempt: 1, modelSha256, input, deadline: Date.now() + 60_000 });
  return taskId;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-node-'));
  modelPath = join(dir, 'tiny.gguf');
  await writeTinyModel(modelPath, { seed: 1 });
  sha = await sha256File(modelPath);
  router = await FakeRouter.start();
  const started = performance.now();
  node = await startNode(
    { routerUrl: router.url, models: [modelPath], dataDir: join(dir, 'data'), gpu: false, slots: 1 },
    { log: (line) => logs.push(line) },
  );
  logs.push(`start-up took ${(performance.now() - started).toFixed(0)} ms`);
});

afterAll(async () => {
  await node?.stop();
  await router?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('compute node against a fake router', () => {
  it('answers the challenge with a hello signed by its own key, announcing the model by sha256', async () => {
    const hello = await router.waitFor(isType('hello'));
    const { signature, ...body } = hello;
    expect(hello.nodeId).toBe(node.nodeId);
    expect(await verifySigner(helloClaimText(body), signature, node.nodeId)).toBe(true);
    expect(
      await verifySigner(helloClaimText({ ...body, challenge: 'x'.repeat(20) }), signature, node.nodeId),
    ).toBe(false);
    expect(hello.models).toHaveLength(1);
    expect(hello.models[0]).toMatchObject({ sha256: sha, architecture: 'llama', slots: 1 });
    expect(hello.models[0]?.tokensPerSecond).toBeGreaterThan(0);
    expect(hello.hardware.nodeType).toBe('cpu');
    expect(hello.hardware.threads).toBeGreaterThanOrEqual(1);
    router.send({ type: 'welcome', nodeId: hello.nodeId, heartbeatMs: 200 });
    await node.connected;
    expect(logs.some((l) => l.startsWith('threads measured'))).toBe(true);
    expect(router.invalid).toEqual([]);
  });

  it('sends heartbeats that echo the last ping', async () => {
    router.send({ type: 'ping', sentAt: 12345 });
    const beat = await router.waitFor(
      (m): m is Extract<typeof m, { type: 'heartbeat' }> => m.type === 'heartbeat' && m.pingEcho === 12345,
    );
    expect(beat.running).toBe(0);
  });

  it('runs a chat task: batched chunks in order that add up to the text, then a signed result', async () => {
    const taskId = sendTask(chat('hello world', 64));
    const result = await router.waitFor(isType('result', taskId));
    const chunks = router.received.filter(isType('chunk', taskId));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    // Every chunk arrives before the result.
    expect(router.received.indexOf(chunks.at(-1) as never)).toBeLessThan(router.received.indexOf(result));
    expect(chunks.map((c) => c.text).join('')).toBe(result.output.text);
    expect(result.output.completionTokens).toBeGreaterThan(0);
    // Batched: far fewer messages than tokens for a fast model.
    expect(chunks.length).toBeLessThan(result.output.completionTokens);
    expect(result.modelSha256).toBe(sha);
    expect(result.outputSha256).toBe(outputHash(result.output));

    const hello = await router.waitFor(isType('hello'));
    const { signature, ...body } = hello;
    expect(await verifySigner(helloClaimText(body), signature, node.nodeId)).toBe(true);
    const key = resultPublicKey(hello.resultKey);
    expect(key).toBeDefined();
    const claim = resultClaimText({ ...result, nodeId: node.nodeId });
    expect(verifyResultSignature(claim, result.signature, key as never)).toBe(true);
    expect(
      verifyResultSignature(
        resultClaimText({ ...result, nodeId: node.nodeId, attempt: 2 }),
        result.signature,
        key as never,
      ),
    ).toBe(false);
    expect(logs.some((l) => l.includes(`task ${taskId} done`) && l.includes('tokens/s'))).toBe(true);
  });

  it('runs completion and embedding tasks', async () => {
    const completion = sendTask({
      kind: 'completion',
      prompt: 'once upon a time',
      params: { maxTokens: 8, temperature: 0, topP: 1, stop: [] },
    });
    const embedding = sendTask({ kind: 'embedding', input: ['the model', 'a dog'] });
    const done = await router.waitFor(isType('result', completion));
    expect(done.output.completionTokens).toBe(8);
    expect(done.output.finishReason).toBe('length');
    const vectors = await router.waitFor(isType('result', embedding));
    expect(vectors.output.embeddings).toHaveLength(2);
    expect(vectors.output.embeddings?.[0]?.length).toBeGreaterThan(0);
  });

  it('reports a prompt too long as a final error, and an unknown model as a non-final one', async () => {
    const long = sendTask(chat('the model '.repeat(3000), 16));
    const error = await router.waitFor(isType('task_error', long));
    expect(error).toMatchObject({ code: 'context_length_exceeded', final: true });
    expect(error.promptTokens).toBeGreaterThan(error.contextLength ?? 0);
    const unknown = sendTask(chat('hi', 4), 'f'.repeat(64));
    expect(await router.waitFor(isType('task_error', unknown))).toMatchObject({
      code: 'model_not_loaded',
      final: false,
    });
  });

  it('aborts a task on cancel and goes on with the next one', async () => {
    const long = sendTask(chat('tell me a long story', 1800));
    await router.waitFor(isType('chunk', long));
    router.send({ type: 'cancel', taskId: long, attempt: 1 });
    const next = sendTask(chat('hi', 4));
    const started = performance.now();
    await router.waitFor(isType('result', next));
    // The cancelled task neither finished nor failed; the next one did not wait for its 1800 tokens.
    expect(
      router.received.some((m) => (m.type === 'result' || m.type === 'task_error') && m.taskId === long),
    ).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('reconnects with a fresh hello when the link drops', async () => {
    const before = router.received.filter(isType('hello')).length;
    router.socket.terminate();
    const from = router.received.length;
    const hello = await router.waitFor(isType('hello'), undefined, from);
    expect(router.received.filter(isType('hello')).length).toBe(before + 1);
    router.send({ type: 'welcome', nodeId: hello.nodeId, heartbeatMs: 200 });
    const taskId = sendTask(chat('hi again', 4));
    await router.waitFor(isType('result', taskId));
  });

  it('on stop, hands back queued tasks, lets the running one finish and closes', async () => {
    const running = sendTask(chat('a long answer please', 200));
    await router.waitFor(isType('chunk', running));
    const queued = [sendTask(chat('one', 4)), sendTask(chat('two', 4))];
    const stopped = node.stop();
    await router.waitFor(isType('result', running));
    await stopped;
    expect(router.socket.readyState).toBeGreaterThanOrEqual(2); // closing or closed
    // Each queued task is handed back, none run: released if it had arrived before the stop, refused as
    // retryable (the router runs it elsewhere) if it arrived after, as happens on a loaded machine.
    const released = router.received.filter(isType('release')).flatMap((m) => m.tasks.map((t) => t.taskId));
    const refused = router.received
      .filter(isType('task_error'))
      .filter((m) => !m.final)
      .map((m) => m.taskId);
    for (const id of queued) {
      expect(router.received.some(isType('result', id))).toBe(false);
      expect([...released, ...refused]).toContain(id);
    }
  });
});

describe('node start-up', () => {
  it('fails fast on a bad setting, naming it', async () => {
    const dataDir = join(dir || tmpdir(), 'unused');
    await expect(
      startNode({ routerUrl: 'http://127.0.0.1:1', models: [join(tmpdir(), 'no-such-model.gguf')], dataDir }),
    ).rejects.toThrow(/Model file not found: .*no-such-model\.gguf.*--model/);
    await expect(startNode({ routerUrl: 'ftp://x', models: ['a'], dataDir })).rejects.toThrow(/'routerUrl'/);
    await expect(startNode({ routerUrl: 'http://x', models: [], dataDir })).rejects.toThrow(/'models'/);
    await expect(
      startNode({ routerUrl: 'http://x', models: ['a'], dataDir, wallet: '0x12' }),
    ).rejects.toThrow(/'wallet'/);
  });

  it('stops promptly through its abort signal while the router is unreachable', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const unreachable = await startNode(
      { routerUrl: 'http://127.0.0.1:1', models: [modelPath], dataDir: join(dir, 'other'), threads: 1 },
      { log: (l) => lines.push(l), signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    controller.abort();
    await unreachable.stop(); // the same stop the signal started
    expect(performance.now() - started).toBeLessThan(3000);
    expect(lines.some((l) => l.includes('reconnecting in'))).toBe(true);
    expect(lines.at(-1)).toBe('stopped');
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/models/index.js';
import type { TaskMessage } from '../../src/protocol/index.js';
import { handNode } from './hand-node.js';
import {
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

/**
 * Issue 9: a node holding a lease can neither end its task with a final error of its own (a second,
 * independent node must confirm it) nor hold it by sending one chunk and then nothing (a quiet lease is
 * taken back).
 */
let ws: Workspace;
let url: string;
let apiKey: string;
let modelSha: string;
let router: Awaited<ReturnType<typeof startRouterProcess>>;

beforeAll(async () => {
  ws = await workspace('lease-liars');
  ({ apiKey } = await prepareRouterData(ws));
  modelSha = await sha256File(ws.model);
  router = await startRouterProcess(ws);
  url = router.url;
});
afterAll(async () => ws?.cleanup());
// Each test's liar leaves when it ends, pass or fail, so the next test starts with the honest node alone.
const liars: Awaited<ReturnType<typeof handNode>>[] = [];
afterEach(async () => {
  for (const node of liars.splice(0)) {
    node.socket.close();
    await node.closed;
  }
});

const health = async () => (await (await fetch(`${url}/health`)).json()) as { nodes: number };
const waitForHealthNodes = async (count: number) => {
  while ((await health()).nodes !== count) await new Promise((r) => setTimeout(r, 20));
};
// Greedy with a fixed seed: every attempt of every request gives the same text.
const ask = () =>
  fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      model: 'tiny',
      prompt: 'hello',
      max_tokens: 3,
      temperature: 0,
      seed: 7,
      validation: 'none',
    }),
  });
const textOf = async (response: Response) =>
  ((await response.json()) as { choices: { text: string }[] }).choices[0]?.text;

/** A hand node that answers every task it is given with `answer` (until the test ends). */
async function liar(answer: (node: Awaited<ReturnType<typeof handNode>>, task: TaskMessage) => void) {
  const node = await handNode({ url, modelSha256: modelSha, modelFile: ws.model });
  node.socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string };
    if (message.type === 'task') answer(node, message as TaskMessage);
  });
  liars.push(node);
  return node;
}

const badInput = (node: Awaited<ReturnType<typeof handNode>>, task: TaskMessage) =>
  node.send({
    type: 'task_error',
    taskId: task.taskId,
    attempt: task.attempt,
    code: 'bad_input',
    message: 'I cannot take this input.',
    final: true,
  });

describe('a final error from one node is confirmed by a second, independent one', () => {
  it('with only the liar connected, the user gets a 400 that says it was not confirmed', async () => {
    await liar(badInput);
    await waitForHealthNodes(1);
    const response = await ask();
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toMatch(/^The node running this task could not take its input \(node 0x/);
    expect(error.message).toMatch(/Not confirmed: no other independent node is connected\.$/);
  });

  it('a liar answering every task with a final bad-input error: the user gets the honest node’s 200', async () => {
    // One slot, so the honest node runs one task at a time and the liar surely gets some of them.
    await waitForHealthNodes(0);
    startNodeProcess(ws, url, 'honest', ['--slots', '1']);
    await waitForNodes(url, 1);
    const honestResponse = await ask();
    expect(honestResponse.status).toBe(200);
    const expected = await textOf(honestResponse);
    const node = await liar(badInput);
    await waitForHealthNodes(2);
    const responses = await Promise.all([1, 2, 3, 4, 5, 6].map(() => ask()));
    expect(node.received.some((m) => m.type === 'task')).toBe(true);
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(await textOf(response)).toBe(expected);
    }
  });
});

describe('a lease whose stream goes quiet is taken back', () => {
  it('a liar that sends one chunk and then stalls: the user gets the honest answer well within the lease', async () => {
    await waitForHealthNodes(1);
    const honestResponse = await ask();
    expect(honestResponse.status).toBe(200);
    const expected = (await textOf(honestResponse)) ?? '';
    // The liar's one chunk is the true start of the answer, so only its stall is under test.
    const node = await liar((n, task) =>
      n.send({
        type: 'chunk',
        taskId: task.taskId,
        attempt: task.attempt,
        seq: 0,
        text: expected.slice(0, 1),
      }),
    );
    await waitForHealthNodes(2);
    const started = Date.now();
    const responses = await Promise.all([1, 2, 3, 4, 5, 6].map(() => ask()));
    const elapsedMs = Date.now() - started;
    expect(node.received.some((m) => m.type === 'task')).toBe(true);
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(await textOf(response)).toBe(expected);
    }
    expect(router.process.output()).toMatch(new RegExp(`lease expired .*node=${node.id}`));
    // Before the fix the liar held each task for its whole lease (30 s grace and more); now a stream quiet
    // for 5 s after its first piece loses it. The bound leaves room for a loaded machine.
    expect(elapsedMs).toBeLessThan(20_000);
  });
});

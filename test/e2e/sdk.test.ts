import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, OmniClient } from '../../src/sdk/index.js';
import {
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// The SDK against a real router and node: each group of methods reaches its route and reads its answer's shape.
let ws: Workspace;
let client: OmniClient;

beforeAll(async () => {
  ws = await workspace('sdk');
  const { apiKey } = await prepareRouterData(ws);
  const { url } = await startRouterProcess(ws);
  await startNodeProcess(ws, url, 'node-1');
  await waitForNodes(url, 1);
  client = new OmniClient({ baseUrl: url, apiKey });
});

afterAll(async () => {
  await ws?.cleanup();
});

const sampling = { model: 'tiny', max_tokens: 6, temperature: 0, validation: 'none' } as const;

async function collect(stream: AsyncGenerator<string, unknown>) {
  const pieces: string[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) return { text: pieces.join(''), pieces, returned: next.value };
    pieces.push(next.value);
  }
}

describe('OmniClient', () => {
  it('reads health, the served models and the catalog', async () => {
    expect(await client.health()).toEqual({ status: 'ok', nodes: 1 });
    const models = await client.models();
    expect(models.data.map((m) => [m.id, m.object])).toEqual([['tiny', 'model']]);
    const catalog = await client.catalog();
    expect(catalog.data).toEqual([
      expect.objectContaining({ name: 'tiny', nodes: 1, registered: true, downloadable: true }),
    ]);
  });

  it('answers text completions, streamed or not, and finds the task and node that answered', async () => {
    const answer = await client.completion({ ...sampling, prompt: 'Once upon a time' });
    expect(answer.object).toBe('text_completion');
    expect(answer.usage.completion_tokens).toBeGreaterThan(0);
    const text = answer.choices[0]?.text ?? '';
    expect(answer.taskId).toMatch(/^task_/);

    const streamed = await collect(client.completionStream({ ...sampling, prompt: 'Once upon a time' }));
    expect(streamed.text).toBe(text);
    // The usage, and the final chunk's receipt (how the answer was checked and its text released).
    expect(streamed.returned).toMatchObject({
      ...answer.usage,
      omnitensor: { validation: { streamed: expect.any(String) } },
    });

    const task = await client.task(answer.taskId as string);
    expect(task).toMatchObject({ id: answer.taskId, status: 'done', model: 'tiny', node: answer.nodeId });
    expect(task.output?.text).toBe(text);

    const node = await client.node(answer.nodeId as string);
    expect(node.id).toBe(answer.nodeId);
    expect(node.connected).toBe(true);
    expect(Array.isArray(node.verdicts)).toBe(true);
  });

  it('returns embeddings as floats or base64', async () => {
    const floats = await client.embeddings({ model: 'tiny', input: ['first', 'second'], validation: 'none' });
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    const vector = floats.data[0]?.embedding as number[];
    expect(vector.length).toBeGreaterThan(0);
    expect(floats.taskId).toMatch(/^task_/);
    const packed = await client.embeddings({
      model: 'tiny',
      input: 'first',
      encoding_format: 'base64',
      validation: 'none',
    });
    const bytes = Buffer.from(packed.data[0]?.embedding as string, 'base64');
    expect(bytes.length).toBe(vector.length * 4);
  });

  it('runs a session: create, prompt (streamed or not), read, close', async () => {
    const session = await client.createSession({ model: 'tiny', max_tokens: 6, temperature: 0 });
    expect(session).toMatchObject({ object: 'session', model: 'tiny', params: { maxTokens: 6 } });
    const answer = await client.prompt(session.id, { prompt: 'Hello' });
    expect(answer.object).toBe('chat.completion');
    const text = answer.choices[0]?.message.content ?? '';
    expect(answer.usage.completion_tokens).toBeGreaterThan(0);
    const streamed = await collect(
      client.promptStream(session.id, { messages: [{ role: 'user', content: 'Hello' }] }),
    );
    expect(streamed.text).toBe(text);
    expect(streamed.returned).toMatchObject({ completion_tokens: answer.usage.completion_tokens });
    expect((await client.session(session.id)).id).toBe(session.id);
    expect(await client.closeSession(session.id)).toMatchObject({ id: session.id, closed: true });
  });

  it('lists the files this key uploaded', async () => {
    const file = await client.uploadFile('{"custom_id":"a"}\n', 'one.jsonl');
    const list = await client.files();
    expect(list.object).toBe('list');
    expect(list.data.map((f) => f.id)).toContain(file.id);
    expect(await client.deleteFile(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
  });

  it('throws one ApiError with the status, code and the field at fault', async () => {
    const missing = await client.task('task_nope').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'task_not_found' });
    const bad = await client
      .completion({ ...sampling, prompt: 'x', max_tokens: 1_000_000 })
      .catch((error: unknown) => error);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_parameter', param: 'max_tokens' });
  });
});

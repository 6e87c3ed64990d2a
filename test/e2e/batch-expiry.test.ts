import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import { type Batch, OmniClient } from '../../src/sdk/index.js';
import {
  cliOutput,
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// A router whose batches may run 4 seconds, one node serving 'tiny', and a model 'orphan' no node serves.
let ws: Workspace;
let client: OmniClient;

beforeAll(async () => {
  ws = await workspace('batch-expiry');
  const { apiKey } = await prepareRouterData(ws);
  const orphan = join(ws.dir, 'orphan.gguf');
  await writeTinyModel(orphan, { seed: 7 });
  await cliOutput(['model', 'add', orphan, '--name', 'orphan', '--data', join(ws.dir, 'router')]);
  const { url } = await startRouterProcess(ws, { args: ['--batch-window', '4s'] });
  await startNodeProcess(ws, url, 'n1');
  await waitForNodes(url, 1);
  client = new OmniClient({ baseUrl: url, apiKey });
});

afterAll(async () => {
  await ws?.cleanup();
});

const lines = (model: string, count: number, maxTokens: number) =>
  Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      custom_id: `${model}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: `line ${i}` }], max_tokens: maxTokens, seed: 1 },
    }),
  );

async function run(requests: string[]): Promise<Batch> {
  const file = await client.uploadFile(`${requests.join('\n')}\n`, 'in.jsonl');
  const created = await client.createBatch({ input_file_id: file.id, endpoint: '/v1/chat/completions' });
  expect(created.expires_at - created.created_at).toBeLessThanOrEqual(5);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const batch = await client.batch(created.id);
    if (!['validating', 'in_progress', 'finalizing'].includes(batch.status)) return batch;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the batch neither finished nor expired');
}

const jsonl = async (id: string | null) =>
  id
    ? (await client.fileContent(id))
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { custom_id: string; error: { code: string } | null })
    : [];

describe('batch completion window', () => {
  it('ends a batch for a model no node serves as expired, every line a batch_expired error', async () => {
    const batch = await run(lines('orphan', 3, 8));
    expect(batch.status).toBe('expired');
    expect(batch.expired_at).not.toBeNull();
    expect(batch.request_counts).toEqual({ total: 3, completed: 0, failed: 3 });
    expect(batch.output_file_id).toBeNull();
    const errors = await jsonl(batch.error_file_id);
    expect(errors.map((e) => [e.custom_id, e.error?.code])).toEqual([
      ['orphan-0', 'batch_expired'],
      ['orphan-1', 'batch_expired'],
      ['orphan-2', 'batch_expired'],
    ]);
  });

  it('keeps the answers that came in before the window closed and expires the rest', async () => {
    const batch = await run(lines('tiny', 400, 400));
    expect(batch.status).toBe('expired');
    const { total, completed, failed } = batch.request_counts;
    expect(total).toBe(400);
    expect(completed).toBeGreaterThan(0);
    expect(completed + failed).toBe(400);
    const output = await jsonl(batch.output_file_id);
    const errors = await jsonl(batch.error_file_id);
    expect(output).toHaveLength(completed);
    expect(errors).toHaveLength(failed);
    expect(errors.every((e) => e.error?.code === 'batch_expired')).toBe(true);
    // Every line is answered exactly once, one way or the other.
    const ids = new Set([...output, ...errors].map((l) => l.custom_id));
    expect(ids.size).toBe(400);
    // Nothing more is written after expiry.
    await new Promise((r) => setTimeout(r, 500));
    expect((await client.batch(batch.id)).request_counts).toEqual(batch.request_counts);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type Batch, OmniClient } from '../../src/sdk/index.js';
import {
  type CliProcess,
  prepareRouterData,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// One network for the whole file (starting nodes is the slow part): router + 3 nodes. The tests run in
// order; the node-loss test kills a node and the last test kills and restarts the router.
let ws: Workspace;
let url: string;
let router: CliProcess;
let apiKey: string;
let client: OmniClient;
const nodes: CliProcess[] = [];

beforeAll(async () => {
  ws = await workspace('batch');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url, process: router } = await startRouterProcess(ws));
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await startNodeProcess(ws, url, name));
  await waitForNodes(url, 3);
  client = new OmniClient({ baseUrl: url, apiKey });
});

afterAll(async () => {
  await ws?.cleanup();
});

const chatLine = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'tiny', messages: [{ role: 'user', content: `request ${id}` }], max_tokens: 8, seed: 1 },
    ...extra,
  });

/** Lines of a batch; tests that interrupt a batch ask for longer answers so it is still running then. */
const linesOf = (prefix: string, count: number, maxTokens = 8) =>
  Array.from({ length: count }, (_, i) =>
    chatLine(`${prefix}-${i}`, {
      body: {
        model: 'tiny',
        messages: [{ role: 'user', content: `request ${prefix}-${i}` }],
        max_tokens: maxTokens,
        seed: 1,
      },
    }),
  );

type OutputLine = {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string; param: string | null } | null;
};
const parseJsonl = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as OutputLine);

async function startBatch(lines: string[], name: string): Promise<Batch> {
  const file = await client.uploadFile(`${lines.join('\n')}\n`, `${name}.jsonl`);
  return client.createBatch({ input_file_id: file.id, endpoint: '/v1/chat/completions' });
}

async function waitFor(
  id: string,
  until: (b: Batch) => boolean,
  options: { timeoutMs?: number; api?: () => OmniClient } = {},
): Promise<Batch> {
  // A bound, not a pace: on a loaded machine a batch takes longer, and the wait ends as soon as it is done.
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  while (Date.now() < deadline) {
    try {
      const batch = await (options.api?.() ?? client).batch(id);
      if (until(batch)) return batch;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`batch ${id} did not reach the awaited state`);
}
const finished = (b: Batch) => ['completed', 'cancelled', 'failed'].includes(b.status);

/** Output and error lines of a finished batch. */
async function outputs(batch: Batch) {
  const output = batch.output_file_id ? parseJsonl(await client.fileContent(batch.output_file_id)) : [];
  const errors = batch.error_file_id ? parseJsonl(await client.fileContent(batch.error_file_id)) : [];
  return { output, errors };
}

/** Result rows per task of one batch's tasks, read from the router's SQLite file. */
/** How many of the batch's tasks are still queued or running. */
function openTasksOf(batchId: string): number {
  const db = new Database(join(ws.dir, 'router', 'router.db'), { readonly: true });
  try {
    const row = db
      .prepare(
        `SELECT COUNT(*) AS n FROM tasks WHERE idempotency_key LIKE ? AND status IN ('queued', 'running')`,
      )
      .get(`${batchId}:%`) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

function resultsPerBatchTask(batchId: string) {
  const db = new Database(join(ws.dir, 'router', 'router.db'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT t.id AS task, t.idempotency_key AS key, COUNT(r.task_id) AS n FROM tasks t
         LEFT JOIN results r ON r.task_id = t.id WHERE t.idempotency_key LIKE ? GROUP BY t.id`,
      )
      .all(`${batchId}:%`) as { task: string; key: string; n: number }[];
  } finally {
    db.close();
  }
}

describe('batch jobs through a real router and nodes', () => {
  it('runs 200 lines: 5 malformed lines go to the error file, the other 195 come out once each, in order', async () => {
    const lines = linesOf('ok', 200);
    lines[7] = '{"custom_id": "bad-json", "method": "POST", "url": ';
    lines[50] = chatLine('bad-model', {
      body: { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }], max_tokens: 8 },
    });
    lines[99] = chatLine('bad-param', {
      body: { model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 8, temperature: 7 },
    });
    lines[150] = chatLine('bad-url', { url: '/v1/embeddings' });
    lines[199] = chatLine('bad-method', { method: 'GET' });
    const created = await startBatch(lines, 'two-hundred');
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      endpoint: '/v1/chat/completions',
    });
    const batch = await waitFor(created.id, finished);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 200, completed: 195, failed: 5 });

    const { output, errors } = await outputs(batch);
    expect(errors.map((e) => e.custom_id)).toEqual([
      'bad-json',
      'bad-model',
      'bad-param',
      'bad-url',
      'bad-method',
    ]);
    const byId = new Map(errors.map((e) => [e.custom_id, e]));
    expect(byId.get('bad-model')?.response?.status_code).toBe(404);
    expect(byId.get('bad-param')?.error).toMatchObject({ param: 'body.temperature' });
    expect(byId.get('bad-url')?.error).toMatchObject({ param: 'url' });
    expect(byId.get('bad-method')?.error).toMatchObject({ param: 'method' });
    expect(byId.get('bad-json')?.error).toMatchObject({ code: 'invalid_json' });

    const expected = lines.map((_, i) => `ok-${i}`).filter((_, i) => ![7, 50, 99, 150, 199].includes(i));
    expect(output.map((o) => o.custom_id)).toEqual(expected);
    for (const line of output) {
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.body).toMatchObject({ object: 'chat.completion', model: 'tiny' });
    }
    const tasks = resultsPerBatchTask(batch.id);
    expect(tasks.length).toBe(195);
    expect(tasks.every((t) => t.n === 1)).toBe(true);
    // The work was spread over the nodes.
    const nodesUsed = new Set(
      output.map(
        (o) => (o.response?.body as { system_fingerprint?: string } | undefined)?.system_fingerprint,
      ),
    );
    expect(nodesUsed.size).toBeGreaterThan(1);
  });

  it('keeps files and batches to the key that made them', async () => {
    const created = await startBatch(linesOf('own', 2), 'own');
    const other = (await runCliText(['keys', 'create', '--data', join(ws.dir, 'router')])).trim();
    const stranger = new OmniClient({ baseUrl: url, apiKey: other });
    await expect(stranger.batch(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.file(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.fileContent(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.cancelBatch(created.id)).rejects.toMatchObject({ status: 404 });
    expect((await stranger.batches()).data).toEqual([]);
    expect((await client.batches()).data.map((b) => b.id)).toContain(created.id);
    await expect(
      stranger.createBatch({ input_file_id: created.input_file_id, endpoint: '/v1/chat/completions' }),
    ).rejects.toMatchObject({ status: 400, param: 'input_file_id' });
    await expect(
      client.createBatch({
        input_file_id: created.input_file_id,
        endpoint: '/v1/responses' as '/v1/completions',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    const done = await waitFor(created.id, finished);
    // Deleting: only the owner can, the file is gone after, and the finished batch keeps its output.
    await expect(stranger.deleteFile(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    await expect(client.deleteFile(created.input_file_id)).resolves.toEqual({
      id: created.input_file_id,
      object: 'file',
      deleted: true,
    });
    await expect(client.file(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    await expect(client.deleteFile(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    expect((await client.batch(created.id)).status).toBe('completed');
    expect((await outputs(done)).output.map((o) => o.custom_id)).toEqual(['own-0', 'own-1']);
  });

  it('works through the official openai client', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
    const text = `${linesOf('sdk', 10).join('\n')}\n`;
    const file = await openai.files.create({
      file: new File([text], 'sdk.jsonl', { type: 'application/jsonl' }),
      purpose: 'batch',
    });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(text) });
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    let batch = created;
    while (!['completed', 'failed', 'cancelled'].includes(batch.status)) {
      await new Promise((r) => setTimeout(r, 100));
      batch = await openai.batches.retrieve(created.id);
    }
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 10, completed: 10, failed: 0 });
    const content = await (await openai.files.content(batch.output_file_id as string)).text();
    expect(parseJsonl(content).map((l) => l.custom_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `sdk-${i}`),
    );
    expect((await openai.files.retrieve(file.id)).filename).toBe('sdk.jsonl');
  });

  it('runs /v1/embeddings and /v1/completions batches with those endpoints answer shapes', async () => {
    const embed = (id: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'tiny', input: `text ${id}`, ...extra },
      });
    const file = await client.uploadFile(
      `${[embed('e0'), embed('e1', { encoding_format: 'base64' })].join('\n')}\n`,
      'e.jsonl',
    );
    const created = await client.createBatch({ input_file_id: file.id, endpoint: '/v1/embeddings' });
    const batch = await waitFor(created.id, finished);
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const { output } = await outputs(batch);
    const [float, base64] = output.map(
      (o) => (o.response?.body as { data?: { embedding: unknown }[] } | undefined)?.data?.[0]?.embedding,
    );
    expect(Array.isArray(float)).toBe(true);
    expect(typeof base64).toBe('string');

    const completion = JSON.stringify({
      custom_id: 'c0',
      method: 'POST',
      url: '/v1/completions',
      body: { model: 'tiny', prompt: 'Once', max_tokens: 8 },
    });
    const cfile = await client.uploadFile(`${completion}\n`, 'c.jsonl');
    const cbatch = await waitFor(
      (await client.createBatch({ input_file_id: cfile.id, endpoint: '/v1/completions' })).id,
      finished,
    );
    const [line] = (await outputs(cbatch)).output;
    expect(line?.response?.body).toMatchObject({ object: 'text_completion', model: 'tiny' });
  });

  it('otensor-cli submit uploads, runs and writes the results and errors files', async () => {
    const input = join(ws.dir, 'requests.jsonl');
    const out = join(ws.dir, 'results.jsonl');
    writeFileSync(input, `${[...linesOf('cli', 12), chatLine('cli-bad', { url: '/v1/nope' })].join('\n')}\n`);
    const cli = runCli(['submit', '--file', input, '--out', out, '--router', url, '--poll-ms', '100'], {
      OTENSOR_API_KEY: apiKey,
    });
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/\d+\/13 lines/);
    expect(cli.output()).toMatch(/completed: 12 ok, 1 failed, of 13/);
    const results = parseJsonl(readFileSync(out, 'utf8'));
    expect(results.map((r) => r.custom_id)).toEqual(Array.from({ length: 12 }, (_, i) => `cli-${i}`));
    const errors = parseJsonl(readFileSync(join(ws.dir, 'results.errors.jsonl'), 'utf8'));
    expect(errors.map((e) => e.custom_id)).toEqual(['cli-bad']);
  });

  it('otensor-cli submit cancels the batch on Ctrl-C and says so', async () => {
    const input = join(ws.dir, 'many.jsonl');
    writeFileSync(input, `${linesOf('sigint', 600, 200).join('\n')}\n`);
    const cli = runCli(['submit', '--file', input, '--router', url, '--api-key', apiKey, '--poll-ms', '100']);
    const [, id] = await cli.line(/batch (batch_\w+) created/);
    await new Promise((r) => setTimeout(r, 400));
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(130);
    expect(cli.output()).toMatch(/cancelling batch/);
    expect(cli.output()).toMatch(/cancelled: \d+ of 600 lines answered/);
    const batch = await client.batch(id as string);
    expect(batch.status).toBe('cancelled');
    expect(batch.request_counts.completed + batch.request_counts.failed).toBeLessThan(600);
    expect(parseJsonl(readFileSync(join(ws.dir, 'many.results.jsonl'), 'utf8')).length).toBe(
      batch.request_counts.completed,
    );
  });

  it('cancel stops the lines not yet started', async () => {
    const created = await startBatch(linesOf('cancel', 200, 200), 'cancel');
    await waitFor(created.id, (b) => b.request_counts.completed >= 5);
    const cancelling = await client.cancelBatch(created.id);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    const batch = await waitFor(created.id, finished);
    expect(batch.status).toBe('cancelled');
    const { completed, failed, total } = batch.request_counts;
    expect(total).toBe(200);
    expect(completed + failed).toBeLessThan(total);
    const { output } = await outputs(batch);
    expect(output.length).toBe(completed);
    // Nothing runs after the batch is cancelled: none of its tasks is queued or running.
    expect(openTasksOf(created.id)).toBe(0);
    expect((await client.batch(created.id)).request_counts).toEqual(batch.request_counts);
    await expect(client.cancelBatch(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('finishes every line once when a node is killed with SIGKILL mid-batch', async () => {
    const created = await startBatch(linesOf('nodekill', 120), 'nodekill');
    await waitFor(created.id, (b) => b.request_counts.completed >= 15);
    nodes[2]?.child.kill('SIGKILL');
    const batch = await waitFor(created.id, finished);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 120, completed: 120, failed: 0 });
    const { output } = await outputs(batch);
    expect(output.map((o) => o.custom_id)).toEqual(Array.from({ length: 120 }, (_, i) => `nodekill-${i}`));
    const tasks = resultsPerBatchTask(batch.id);
    expect(tasks.length).toBe(120);
    expect(tasks.every((t) => t.n === 1)).toBe(true);
  });

  // 300 lines of 100 tokens, a crash and a restart: the bound is wide for a loaded machine.
  it('finishes every line once when the router is killed with SIGKILL mid-batch and restarted', async () => {
    const total = 300;
    const created = await startBatch(linesOf('routerkill', total, 100), 'routerkill');
    const midway = await waitFor(created.id, (b) => b.request_counts.completed >= 20);
    router.child.kill('SIGKILL');
    await router.exited;
    expect(midway.request_counts.completed).toBeLessThan(total);
    const port = Number(new URL(url).port);
    // A small queue limit: the batch then keeps at most one line waiting, so interactive requests get in.
    const second = await startRouterProcess(ws, { port, args: ['--queue-limit', '4'] });
    router = second.process;
    await second.process.line(/resumed open batches/);
    await waitForNodes(second.url, 2);
    // Once the tasks recovered from the crash have drained, interactive requests are not refused (no 429).
    await waitFor(created.id, (b) => b.request_counts.completed >= 120);
    // Lines recovered from the crash may still fill the small queue for a moment: retry a 429 briefly.
    const ask = async () => {
      for (let tries = 0; ; tries++) {
        try {
          return await client.chat({
            model: 'tiny',
            messages: [{ role: 'user', content: 'hi' }],
            max_tokens: 8,
          });
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 429 || tries > 100) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const interactive = await Promise.all([1, 2, 3].map(ask));
    expect(interactive.every((a) => a.choices.length === 1)).toBe(true);
    expect((await client.batch(created.id)).request_counts.completed).toBeLessThan(total);

    const batch = await waitFor(created.id, finished);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total, completed: total, failed: 0 });
    const { output } = await outputs(batch);
    expect(output.map((o) => o.custom_id)).toEqual(
      Array.from({ length: total }, (_, i) => `routerkill-${i}`),
    );
    const tasks = resultsPerBatchTask(batch.id);
    expect(tasks.length).toBe(total);
    expect(tasks.every((t) => t.n === 1)).toBe(true);
  }, 300_000);
});

async function runCliText(args: string[]): Promise<string> {
  const cli = runCli(args);
  await cli.exited;
  return cli.stdout();
}

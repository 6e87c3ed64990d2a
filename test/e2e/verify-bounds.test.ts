import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../src/models/index.js';
import {
  type CliProcess,
  prepareRouterData,
  runCheater,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// Checks that cannot be made end in bounded time, and one validator's fail does not slash honest work.
// The router waits at most 3 s for a node that can make a check. The nodes change from test to test, in
// order: a worker that holds each result until told and a validator (which leaves, twice); then two
// honest workers; then a validator that fails all honest work; then an honest second validator.
let ws: Workspace;
let url: string;
let apiKey: string;
let holder: { process: CliProcess; id: string };
let validator: CliProcess;
let worker: { process: CliProcess; id: string };
let otherModel: string;

const WALLET_A = `0x${'a1'.repeat(20)}`;
const WALLET_B = `0x${'b2'.repeat(20)}`;
const WALLET_C = `0x${'c3'.repeat(20)}`;
const WALLET_E = `0x${'e5'.repeat(20)}`;
const WALLET_F = `0x${'f6'.repeat(20)}`;

beforeAll(async () => {
  ws = await workspace('verify-bounds');
  otherModel = join(ws.dir, 'other.gguf');
  await writeTinyModel(otherModel, { seed: 2 });
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws, { args: ['--check-wait', '3s'] }));
  holder = await startCheater('w-hold', 'hold', { wallet: WALLET_A });
  validator = await startNodeProcess(ws, url, 'v1', ['--role', 'validator', '--wallet', WALLET_C]);
  await waitForNodes(url, 2);
});

afterAll(async () => {
  await ws?.cleanup();
});

async function startCheater(name: string, cheat: string, extra: Record<string, unknown> = {}) {
  const cheater = ws.track(
    runCheater({ router: url, model: ws.model, data: join(ws.dir, name), cheat, ...extra }),
  );
  const [, id] = await cheater.line(/cheater [\w-]+ connected: (0x[0-9a-fA-F]{40})/);
  return { process: cheater, id: (id as string).toLowerCase() };
}

async function startWorker(name: string, wallet: string) {
  const node = await startNodeProcess(ws, url, name, ['--wallet', wallet]);
  const [, id] = await node.line(/node: (0x[0-9a-fA-F]{40})/);
  return { process: node, id: (id as string).toLowerCase() };
}

/** Waits until the router counts exactly `count` connected nodes (after one left, say). */
async function nodesConnected(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${url}/health`)).json()) as { nodes: number };
    if (health.nodes === count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the router never counted ${count} nodes`);
}

type Answer = {
  status: number;
  headers: Headers;
  body: { error?: { code: string; param: string | null; message: string } };
};

async function chat(
  prompt: string,
  validation: string | null,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: 16,
      temperature: 0,
      validation,
      ...extra,
    }),
  });
  const body = (await response.json()) as Answer['body'];
  return { status: response.status, headers: response.headers, body };
}

async function nodeRecord(id: string) {
  const response = await fetch(`${url}/api/nodes/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return (await response.json()) as {
    tasks_done?: number;
    reputation_by_model: { passes: number; fails: number }[];
    verdicts: {
      outcome: string;
      reason: string;
      validator: string;
      evidence: { dispute?: { worker: string } };
    }[];
  };
}

const tasksDone = async (id: string) => (await nodeRecord(id)).tasks_done ?? 0;

/** Sends a request, lets the worker finish it but hold the result, takes the validator away, then lets go. */
async function validatorLeavesMeanwhile(validation: string | undefined): Promise<Answer> {
  const holding = (holder.process.stdout().match(/holding task_/g) ?? []).length;
  const pending = chat('the validator will leave', validation ?? null);
  // The work is admitted (a validator was connected) and done; its result is held on the way back.
  const early = pending.then((a) => {
    throw new Error(`answered before its result was held: ${a.status} ${JSON.stringify(a.body)}`);
  });
  early.catch(() => {});
  await Promise.race([holder.process.line(new RegExp(`(?:[\\s\\S]*?holding task_){${holding + 1}}`)), early]);
  validator.child.kill('SIGKILL');
  await validator.exited;
  await nodesConnected(1);
  holder.process.child.kill('SIGUSR2');
  return pending;
}

describe('checks that cannot be made end in bounded time', () => {
  it('auto: a check whose validator left goes out unchecked after the wait, and says so', async () => {
    // One worker: auto checks greedy text by likelihood (no second worker for a checksum).
    const answer = await validatorLeavesMeanwhile(undefined);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-omnitensor-verdict')).toBe('unchecked');
  });

  it('an explicit level whose validator left ends with 503 after the wait, naming the missing role', async () => {
    validator = await startNodeProcess(ws, url, 'v1b', ['--role', 'validator', '--wallet', WALLET_C]);
    await waitForNodes(url, 2);
    const answer = await validatorLeavesMeanwhile('likelihood');
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'verification_unavailable', param: 'validation' });
    expect(answer.body.error?.message).toMatch(/waited 3 s for a validator node/);
    // From here on, honest workers that do not hold their results.
    holder.process.child.kill('SIGKILL');
    await holder.process.exited;
    worker = await startWorker('h1', WALLET_A);
    await nodesConnected(1);
  });

  it('refuses likelihood and text embedding with no validator connected, naming the missing role; no node works', async () => {
    const before = await tasksDone(worker.id);
    const answer = await chat('no validator', 'likelihood');
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'verification_unavailable', param: 'validation' });
    expect(answer.body.error?.message).toMatch(/likelihood needs a validator node; none is connected/);
    const embedded = await chat('no validator', 'embedding');
    expect(embedded.status).toBe(503);
    expect(embedded.body.error?.message).toMatch(/embedding needs a validator node/);
    // The same request without a check is served: the worker is there, only the validator is missing.
    expect(await tasksDone(worker.id)).toBe(before);
    expect((await chat('no validator', 'none')).status).toBe(200);
    expect(await tasksDone(worker.id)).toBe(before + 1);
  });

  it('refuses redundant:3 with two independent workers', async () => {
    await startWorker('h2', WALLET_B);
    await waitForNodes(url, 2);
    const answer = await chat('two workers', 'redundant:3');
    expect(answer.status).toBe(503);
    expect(answer.body.error?.message).toMatch(
      /redundant:3 needs 3 independent workers \(different nodes and payout wallets\); 2 are connected/,
    );
    expect((await chat('two workers', 'redundant:2')).status).toBe(200);
  });

  it('checks the embedding of an empty string (it embeds to no numbers; two such vectors agree)', async () => {
    const response = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', input: ['', 'some text'], validation: 'embedding' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-omnitensor-verdict')).toBe('pass');
    const body = (await response.json()) as { data: unknown[] };
    expect(body.data).toHaveLength(2);
  });
});

describe('a validator that fails honest work', () => {
  const RETRIED_KEY = 'retried-after-503';
  let liar: { process: CliProcess; id: string };

  it('with no second validator: nobody is slashed, the task is redone, then ends with 503 when no worker is left', async () => {
    await validatorsGone();
    liar = await startCheater('v-liar', 'lying-validator', {
      roles: ['validator'],
      wallet: WALLET_E,
      swapModel: otherModel,
    });
    await waitForNodes(url, 3);
    const answer = await chat('only a liar checks', 'likelihood', {}, { 'idempotency-key': RETRIED_KEY });
    expect(answer.status).toBe(503);
    expect(answer.body.error?.message).toMatch(/did not pass its check, and no other independent worker/);
    const record = await nodeRecord(worker.id);
    expect(record.verdicts.length).toBeGreaterThan(0);
    expect(record.verdicts.some((v) => v.outcome === 'fail')).toBe(false);
    expect(record.verdicts.some((v) => /not confirmed, so not blamed/.test(v.reason))).toBe(true);
    expect(record.reputation_by_model.every((r) => r.fails === 0)).toBe(true);
  });

  it('with an honest second validator: the user gets the checked answer, the liar is marked wrong, no worker is failed', async () => {
    const honest = await startNodeProcess(ws, url, 'v2', ['--role', 'validator', '--wallet', WALLET_F]);
    await waitForNodes(url, 4);
    // The 503 said "retry when one is": the retry under the same key runs anew and is answered, checked.
    const retried = await chat('only a liar checks', 'likelihood', {}, { 'idempotency-key': RETRIED_KEY });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.headers.get('x-omnitensor-verdict')).toBe('pass');
    const again = await chat('only a liar checks', 'likelihood', {}, { 'idempotency-key': RETRIED_KEY });
    expect(again.headers.get('x-omnitensor-task-id')).toBe(retried.headers.get('x-omnitensor-task-id'));
    const workers = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => chat(`round ${round} prompt ${i}`, 'likelihood', { seed: i })),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-omnitensor-verdict')).toBe('pass');
        workers.add((answer.headers.get('x-omnitensor-node') as string).toLowerCase());
      }
      const record = await nodeRecord(liar.id);
      if (record.verdicts.some((v) => v.outcome === 'fail')) break;
    }
    const record = await nodeRecord(liar.id);
    const wrong = record.verdicts.filter((v) => v.outcome === 'fail');
    expect(wrong.length).toBeGreaterThan(0);
    expect(wrong[0]?.evidence.dispute).toMatchObject({ worker: expect.stringMatching(/^0x/) });
    expect(wrong[0]?.reason).toMatch(/failed a result of .* that validator .* passed/);
    expect(record.reputation_by_model.some((r) => r.fails > 0)).toBe(true);
    for (const worker of workers) {
      const own = await nodeRecord(worker);
      expect(own.verdicts.some((v) => v.outcome === 'fail')).toBe(false);
      expect(own.reputation_by_model.every((r) => r.fails === 0)).toBe(true);
    }
    honest.child.kill('SIGKILL');
  });

  async function validatorsGone() {
    const health = (await (await fetch(`${url}/health`)).json()) as { nodes: number };
    expect(health.nodes).toBe(2);
  }
});

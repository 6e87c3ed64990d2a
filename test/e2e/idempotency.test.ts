import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountKey, registerModel } from '../../src/cli/local-admin.js';
import { parseAmount } from '../../src/ledger/index.js';
import { startNodeProcess, startRouterProcess, type Workspace, waitForNodes, workspace } from './harness.js';

// Issue 9: a client's Idempotency-Key is its own (scoped to its key, apart from the router's `check:` keys),
// and a key sent again with another request is refused with 409, on inference and on ledger routes alike.
const NODE_WALLET = `0x${'a1'.repeat(20)}`;
const PAYOUT = `0x${'e5'.repeat(20)}`;

let ws: Workspace;
let url: string;
const keys = {} as Record<'a' | 'b', { key: string; account: string }>;

beforeAll(async () => {
  ws = await workspace('idempotency');
  const data = join(ws.dir, 'router');
  await registerModel(data, ws.model, 'tiny');
  keys.a = createAccountKey(data, { label: 'a' });
  keys.b = createAccountKey(data, { label: 'b' });
  ({ url } = await startRouterProcess(ws, {
    args: [
      ...['--price-per-token', '0.001', '--fee', '0.1'],
      ...['--genesis', `${keys.a.account}=50`, '--genesis', `${keys.b.account}=50`],
    ],
  }));
  await startNodeProcess(ws, url, 'n1', ['--wallet', NODE_WALLET]);
  await waitForNodes(url, 1);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

type Answer = {
  status: number;
  task: string | null;
  cost: string | null;
  body: {
    choices?: { message: { content: string } }[];
    error?: { message: string; param: string | null; code: string };
  };
};

async function send(
  who: 'a' | 'b',
  method: string,
  path: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${keys[who].key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    task: response.headers.get('x-omnitensor-task-id'),
    cost: response.headers.get('x-omnitensor-cost'),
    body: (await response.json()) as Answer['body'],
  };
}

const chat = (who: 'a' | 'b', prompt: string, idempotencyKey?: string, maxTokens = 8) =>
  send(
    who,
    'POST',
    '/v1/chat/completions',
    {
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: maxTokens,
      temperature: 0,
      validation: 'none',
    },
    idempotencyKey,
  );

async function balance(who: 'a' | 'b'): Promise<bigint> {
  const view = await send(who, 'GET', '/api/accounts/me', undefined);
  return parseAmount((view.body as unknown as { balance: string }).balance);
}

describe('client idempotency keys', () => {
  it('charges a request whose key looks like an internal check key, to its own account', async () => {
    const mine = await chat('a', 'a task of account a');
    expect(mine.status).toBe(200);
    const aBefore = await balance('a');
    const bBefore = await balance('b');
    // Before the fix, `check:` keys skipped payment, and `check:<task>:...` billed the work to that task's owner.
    const answer = await chat('b', 'free work, billed to a', `check:${mine.task}:1:1`);
    expect(answer.status).toBe(200);
    expect(answer.cost).not.toBeNull();
    const cost = parseAmount(answer.cost as string);
    expect(cost).toBeGreaterThan(0n);
    expect(await balance('b')).toBe(bBefore - cost);
    expect(await balance('a')).toBe(aBefore);
  });

  it("gives each account its own task and charge under the same key, and hides one's tasks from the other", async () => {
    const a = await chat('a', 'shared key, account a', 'shared-key-1');
    const b = await chat('b', 'shared key, account b', 'shared-key-1');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.task).toMatch(/^task_[0-9a-z]+$/);
    expect(b.task).not.toBe(a.task);
    expect(a.cost).not.toBeNull();
    expect(b.cost).not.toBeNull();
    // A task id is 128 random bits after its time: no id follows from another.
    expect((a.task as string).slice(-32)).toMatch(/^[0-9a-f]{32}$/);
    const own = await send('a', 'GET', `/api/tasks/${a.task}`, undefined);
    expect(own.status).toBe(200);
    const other = await send('b', 'GET', `/api/tasks/${a.task}`, undefined);
    expect(other.status).toBe(404);
  });

  it('answers the same request again from its task, and refuses another request under the key with 409', async () => {
    const first = await chat('a', 'one request, one key', 'reuse-key-1');
    expect(first.status).toBe(200);
    const afterFirst = await balance('a');
    const again = await chat('a', 'one request, one key', 'reuse-key-1');
    expect(again.status).toBe(200);
    expect(again.task).toBe(first.task);
    expect(again.body.choices).toEqual(first.body.choices);
    expect(await balance('a')).toBe(afterFirst);

    const other = await chat('a', 'a different request', 'reuse-key-1');
    expect(other.status).toBe(409);
    expect(other.body.error?.param).toBe('Idempotency-Key');
    expect(other.body.error?.code).toBe('idempotency_key_reused');
    expect(other.body.error?.message).toContain(first.task as string);
    expect(await balance('a')).toBe(afterFirst);
  });
});

describe('ledger idempotency keys', () => {
  it('books a transfer once per key, and refuses the key with another amount or recipient', async () => {
    const body = { to: keys.b.account, amount: '1' };
    const first = await send('a', 'POST', '/api/transfers', body, 'transfer-key-1');
    expect(first.status).toBe(201);
    const again = await send('a', 'POST', '/api/transfers', { ...body, amount: '1.0' }, 'transfer-key-1');
    expect(again.status).toBe(200);
    const more = await send('a', 'POST', '/api/transfers', { ...body, amount: '2' }, 'transfer-key-1');
    expect(more.status).toBe(409);
    expect(more.body.error?.param).toBe('Idempotency-Key');
    expect(more.body.error?.message).toMatch(/already used for a different request/);
    const elsewhere = await send(
      'a',
      'POST',
      '/api/transfers',
      { to: PAYOUT, amount: '1' },
      'transfer-key-1',
    );
    expect(elsewhere.status).toBe(409);
  });

  it('refuses a stake or a withdrawal key sent again with another body', async () => {
    // Only a node's owner stakes on it (its own key or payout wallet): account a stakes on itself as a node.
    const node = keys.a.account;
    expect((await send('a', 'POST', '/api/stake', { node, amount: '1' }, 'stake-key-1')).status).toBe(201);
    expect((await send('a', 'POST', '/api/stake', { node, amount: '1' }, 'stake-key-1')).status).toBe(200);
    const stake = await send('a', 'POST', '/api/stake', { node, amount: '3' }, 'stake-key-1');
    expect(stake.status).toBe(409);
    expect(stake.body.error?.param).toBe('Idempotency-Key');

    const withdrawal = { amount: '1', to: PAYOUT };
    const first = await send('a', 'POST', '/api/withdrawals', withdrawal, 'withdrawal-key-1');
    expect(first.status).toBe(201);
    const again = await send('a', 'POST', '/api/withdrawals', withdrawal, 'withdrawal-key-1');
    expect(again.status).toBe(200);
    const moved = await send(
      'a',
      'POST',
      '/api/withdrawals',
      { ...withdrawal, to: keys.b.account },
      'withdrawal-key-1',
    );
    expect(moved.status).toBe(409);
    expect(moved.body.error?.message).toContain(PAYOUT);
  });
});

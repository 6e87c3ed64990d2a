import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountKey, registerModel } from '../../src/cli/local-admin.js';
import { parseAmount } from '../../src/ledger/index.js';
import { tokenBounds } from '../../src/router/tasks/payments.js';
import { OmniClient } from '../../src/sdk/index.js';
import {
  runCheater,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// A paid network whose only worker is a node that returns honest text but claims 1,000,000 prompt tokens (and
// completion tokens, where its answer stopped by itself), and an honest validator.
const PRICE = parseAmount('0.001');
const WALLET_LIAR = `0x${'e5'.repeat(20)}`;
const MAX_TOKENS = 5;

let ws: Workspace;
let url: string;
let liarId: string;
const keys = {} as Record<'user' | 'operator', { key: string; account: string }>;
const api = (who: keyof typeof keys) => new OmniClient({ baseUrl: url, apiKey: keys[who].key });
const units = (tokens: string) => parseAmount(tokens);
const balance = async (address: string) => units((await api('operator').account(address)).balance);

beforeAll(async () => {
  ws = await workspace('tokens');
  const data = join(ws.dir, 'router');
  await registerModel(data, ws.model, 'tiny');
  keys.user = createAccountKey(data, { label: 'user' });
  keys.operator = createAccountKey(data, { label: 'operator', operator: true });
  ({ url } = await startRouterProcess(ws, {
    args: ['--price-per-token', '0.001', '--fee', '0.1', '--genesis', `${keys.user.account}=5`],
  }));
  const liar = ws.track(
    runCheater({
      router: url,
      model: ws.model,
      data: join(ws.dir, 'liar'),
      cheat: 'inflate',
      wallet: WALLET_LIAR,
    }),
  );
  const [, id] = await liar.line(/cheater \w+ connected: (0x[0-9a-fA-F]{40})/);
  liarId = (id as string).toLowerCase();
  await startNodeProcess(ws, url, 'v1', ['--role', 'validator']);
  await waitForNodes(url, 2);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

const messages = (prompt: string) => [{ role: 'user' as const, content: prompt }];

async function chat(prompt: string, validation: string) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.user.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: messages(prompt),
      max_tokens: MAX_TOKENS,
      temperature: 0,
      validation,
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } },
  };
}

/** The most an honest answer can cost: the bound the hold is sized by. */
function honestBound(prompt: string) {
  const params = { maxTokens: MAX_TOKENS, temperature: 0, topP: 1, stop: [] };
  const bounds = tokenBounds({ kind: 'chat', messages: messages(prompt), params }, Number.MAX_SAFE_INTEGER);
  return { ...bounds, cost: BigInt(bounds.prompt + bounds.output) * PRICE };
}

describe('a node that inflates its token counts', () => {
  it('under validation none: is paid no more than the honest bound, the user charged no more, usage shows it', async () => {
    const prompt = 'How many tokens is this?';
    const userBefore = await balance(keys.user.account);
    const answer = await chat(prompt, 'none');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-omnitensor-node')?.toLowerCase()).toBe(liarId);
    const bound = honestBound(prompt);
    expect(answer.body.usage.completion_tokens).toBeLessThanOrEqual(MAX_TOKENS);
    expect(answer.body.usage.prompt_tokens).toBeLessThanOrEqual(bound.prompt);
    const cost = units(answer.headers.get('x-omnitensor-cost') as string);
    expect(cost).toBe(BigInt(answer.body.usage.prompt_tokens + answer.body.usage.completion_tokens) * PRICE);
    expect(cost).toBeLessThanOrEqual(bound.cost);
    expect(await balance(keys.user.account)).toBe(userBefore - cost);
    expect(await balance(WALLET_LIAR)).toBe(cost - cost / 10n);
  });

  it('under likelihood: passes with honest text, but is paid the counts the validator made, never its claim', async () => {
    const prompt = 'Count these tokens honestly.';
    const liarBefore = await balance(WALLET_LIAR);
    const userBefore = await balance(keys.user.account);
    const answer = await chat(prompt, 'likelihood');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-omnitensor-node')?.toLowerCase()).toBe(liarId);
    expect(answer.headers.get('x-omnitensor-verdict')).toBe('pass');
    const bound = honestBound(prompt);
    const { prompt_tokens, completion_tokens } = answer.body.usage;
    expect(completion_tokens).toBeLessThanOrEqual(MAX_TOKENS);
    expect(prompt_tokens).toBeLessThanOrEqual(bound.prompt);
    // The task and its one check, never beyond the hold; the liar gets its share of the counted tokens only.
    const cost = units(answer.headers.get('x-omnitensor-cost') as string);
    expect(cost).toBeLessThanOrEqual(2n * bound.cost);
    expect(await balance(keys.user.account)).toBe(userBefore - cost);
    const paid = BigInt(prompt_tokens + completion_tokens) * PRICE;
    expect((await balance(WALLET_LIAR)) - liarBefore).toBe(paid - paid / 10n);
  });
});

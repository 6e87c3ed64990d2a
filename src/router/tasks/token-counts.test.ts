import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, ONE_TOKEN, parseAmount, TREASURY } from '../../ledger/index.js';
import {
  KeyStore,
  LedgerStore,
  type ModelRecord,
  NodeStore,
  openDatabase,
  PaymentStore,
  type ResultRecord,
  type TaskRecord,
  TaskStore,
  VerdictStore,
} from '../../store/index.js';
import { usageOf } from '../api/respond.js';
import { ledgerSettings } from '../ledger-config.js';
import { tokensWithin } from './payment-quote.js';
import { Payments, tokenBounds } from './payments.js';
import type { Scheduler } from './scheduler.js';
import { TaskHandle } from './task-manager.js';
import { countedTokens } from './token-counts.js';

const USER = `0x${'11'.repeat(20)}`;
const LIAR = `0x${'66'.repeat(20)}`;
const VALIDATOR = `0x${'44'.repeat(20)}`;
const PRICE = parseAmount('0.001');
const model: ModelRecord = {
  sha256: 'cd'.repeat(32),
  name: 'tiny',
  architecture: 'llama',
  quantization: 'q8_0',
  parameterCount: 1,
  contextLength: 512,
  sizeBytes: 1,
  path: null,
  addedAt: 0,
};
const params = { maxTokens: 5, temperature: 0, topP: 1, stop: [] };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-counts-'));
  const settings = ledgerSettings.parse({ pricePerToken: '0.001', fee: '0.1' });
  const db = openDatabase(dir);
  const ledger = new Ledger({
    store: new LedgerStore(db),
    config: {
      feePpm: settings.fee,
      slashPpm: settings.slash,
      slashValidatorPpm: settings.slashValidatorShare,
    },
    autoFlush: false,
  });
  const logs: { message: string; fields: Record<string, unknown> }[] = [];
  const payments = new Payments(
    {
      ledger,
      store: new PaymentStore(db),
      keys: new KeyStore(db),
      tasks: new TaskStore(db),
      scheduler: { walletOf: () => null } as unknown as Scheduler,
      nodes: new NodeStore(db),
      verdicts: new VerdictStore(db),
      log: (_level, message, fields) => logs.push({ message, fields: fields ?? {} }),
      models: { resolve: () => ({ ...model, registered: true }) },
    },
    settings,
  );
  const keyId = new KeyStore(db).create('user', { account: USER }).id;
  ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
  cleanups.push(() => {
    ledger.abandonForTests();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ledger, payments, keyId, logs };
}

let counter = 0;
const task = (keyId: string, idempotencyKey: string | null = null): TaskRecord => ({
  id: `task_counts${counter++}`,
  keyId,
  sessionId: null,
  idempotencyKey,
  modelSha256: model.sha256,
  modelName: model.name,
  input: { kind: 'completion', prompt: 'hello', params },
  status: 'queued',
  attempts: 0,
  nodeId: null,
  error: null,
  createdAt: Date.now(),
  validation: null,
});

const lie = (taskId: string, nodeId: string, text = 'hi'): ResultRecord => ({
  taskId,
  nodeId,
  attempt: 1,
  output: { text, promptTokens: 1_000_000, completionTokens: 1_000_000, finishReason: 'length' },
  outputSha256: '00',
  signature: 's',
  nonce: '1',
});

describe('token counts are the router’s, not the node’s', () => {
  it('bounds claims by the prompt bound, max_tokens and the bytes of the text; a check’s count is taken when lower', () => {
    const input = { kind: 'completion' as const, prompt: 'hello', params: { ...params, maxTokens: 100 } };
    const output = { text: 'hi', promptTokens: 1_000_000, completionTokens: 1_000_000 };
    expect(countedTokens(input, 512, output)).toEqual({ promptTokens: 5 + 16, completionTokens: 2 + 16 });
    expect(countedTokens({ ...input, params }, 512, output)).toEqual({
      promptTokens: 21,
      completionTokens: 5,
    });
    // An honest claim within the bounds is paid as claimed.
    expect(countedTokens(input, 512, { ...output, promptTokens: 3, completionTokens: 2 })).toEqual({
      promptTokens: 3,
      completionTokens: 2,
    });
    expect(countedTokens(input, 512, output, { attempt: 1, promptTokens: 3, completionTokens: 4 })).toEqual({
      promptTokens: 3,
      completionTokens: 4,
    });
  });

  it('a node claiming 1,000,000 tokens for max_tokens 5 is paid the bound, the user charged no more, usage says so', () => {
    const f = fixture();
    const record = task(f.keyId);
    f.payments.admit(record, {
      keyId: f.keyId,
      sessionId: null,
      idempotencyKey: null,
      model,
      input: record.input,
      validation: { kind: 'none' },
    });
    const bounds = tokenBounds(record.input, model.contextLength);
    const held = BigInt(bounds.prompt + bounds.output) * PRICE;
    const handle = new TaskHandle(record);
    const result = lie(record.id, LIAR);
    f.payments.accepted(result, handle);
    const charged = BigInt(21 + 5) * PRICE;
    expect(handle.payment.cost).toBe(charged);
    expect(charged).toBeLessThanOrEqual(held);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - charged);
    expect(f.ledger.balance(LIAR) + f.ledger.balance(TREASURY)).toBe(charged);
    expect(usageOf(handle, result)).toEqual({ prompt_tokens: 21, completion_tokens: 5, total_tokens: 26 });
    expect(f.logs.some((l) => l.fields.node === LIAR && l.fields.task === record.id)).toBe(true);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('never charges beyond the hold, however many checks claim work: the excess is cut and logged', () => {
    const f = fixture();
    const record = task(f.keyId);
    f.payments.admit(record, {
      keyId: f.keyId,
      sessionId: null,
      idempotencyKey: null,
      model,
      input: record.input,
      validation: { kind: 'likelihood' },
    });
    const bounds = tokenBounds(record.input, model.contextLength);
    // The task and one likelihood check.
    const held = 2n * BigInt(bounds.prompt + bounds.output) * PRICE;
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - held);
    // Five check results for the accepted attempt, each claiming all it may.
    for (let n = 1; n <= 5; n++) {
      const check = new TaskHandle(task(f.keyId, `check:${record.id}:1:${n}`));
      f.payments.accepted(lie(check.record.id, VALIDATOR), check);
    }
    const handle = new TaskHandle(record);
    f.payments.accepted(lie(record.id, LIAR), handle);
    expect(handle.payment.cost).toBe(held);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - held);
    const cut = f.logs.find((l) => l.message === 'charge cut to the hold');
    expect(cut?.fields).toMatchObject({ node: VALIDATOR, task: record.id });
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('tokensWithin cuts output first, then input, to what is left', () => {
    const price = { input: 2n, output: 3n };
    expect(tokensWithin(price, { inputTokens: 4, outputTokens: 5 }, 100n)).toEqual({
      inputTokens: 4,
      outputTokens: 5,
    });
    expect(tokensWithin(price, { inputTokens: 4, outputTokens: 5 }, 16n)).toEqual({
      inputTokens: 0,
      outputTokens: 5,
    });
    expect(tokensWithin(price, { inputTokens: 4, outputTokens: 5 }, 19n)).toEqual({
      inputTokens: 2,
      outputTokens: 5,
    });
    expect(tokensWithin(price, { inputTokens: 4, outputTokens: 5 }, 7n)).toEqual({
      inputTokens: 0,
      outputTokens: 2,
    });
    expect(tokensWithin(price, { inputTokens: 4, outputTokens: 5 }, -1n)).toEqual({
      inputTokens: 0,
      outputTokens: 0,
    });
  });
});

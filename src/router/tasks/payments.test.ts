import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, ONE_TOKEN, parseAmount, TREASURY } from '../../ledger/index.js';
import { PaymentRequiredError, type TaskInput, type ValidationLevel } from '../../protocol/index.js';
import {
  type Db,
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
import { toHttpError } from '../api/http-errors.js';
import { ledgerSettings } from '../ledger-config.js';
import { checkReserve, Payments, tokenBounds } from './payments.js';
import type { Scheduler } from './scheduler.js';
import { type SubmitRequest, TaskHandle } from './task-manager.js';

const USER = `0x${'11'.repeat(20)}`;
const NODE = `0x${'22'.repeat(20)}`;
const WALLET = `0x${'33'.repeat(20)}`;
const VALIDATOR = `0x${'44'.repeat(20)}`;
const PRICE = parseAmount('0.001');
const model: ModelRecord = {
  sha256: 'ab'.repeat(32),
  name: 'tiny',
  architecture: 'llama',
  quantization: 'q8_0',
  parameterCount: 1,
  contextLength: 512,
  sizeBytes: 1,
  path: null,
  addedAt: 0,
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Payments over a real store, with the ledger committing only on flush() so a test decides what a crash loses. */
function fixture(settings: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-payments-'));
  const parsed = ledgerSettings.parse({ pricePerToken: '0.001', fee: '0.1', ...settings });
  const f = {
    dir,
    db: undefined as unknown as Db,
    ledger: undefined as unknown as Ledger,
    payments: undefined as unknown as Payments,
    tasks: undefined as unknown as TaskStore,
    keyId: '',
    /** The slashes told to a linked chain (onSlash). */
    slashes: [] as { key: string; node: string }[],
    open() {
      f.db = openDatabase(dir);
      f.ledger = new Ledger({
        store: new LedgerStore(f.db),
        config: { feePpm: parsed.fee, slashPpm: parsed.slash, slashValidatorPpm: parsed.slashValidatorShare },
        autoFlush: false,
      });
      f.tasks = new TaskStore(f.db);
      const scheduler = { walletOf: (id: string) => (id === NODE ? WALLET : null) } as unknown as Scheduler;
      f.payments = new Payments(
        {
          ledger: f.ledger,
          store: new PaymentStore(f.db),
          keys: new KeyStore(f.db),
          tasks: f.tasks,
          scheduler,
          nodes: new NodeStore(f.db),
          verdicts: new VerdictStore(f.db),
          log: () => {},
          onSlash: (s) => f.slashes.push(s),
        },
        parsed,
      );
    },
    crash() {
      f.ledger.abandonForTests();
      f.db.close();
      f.open();
    },
  };
  f.open();
  f.keyId = new KeyStore(f.db).create('user', { account: USER }).id;
  cleanups.push(() => {
    f.ledger.abandonForTests();
    if (f.db.open) f.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return f;
}

let counter = 0;
function task(f: ReturnType<typeof fixture>, maxTokens = 10, input?: TaskInput): TaskRecord {
  return {
    id: `task_test${counter++}`,
    keyId: f.keyId,
    sessionId: null,
    idempotencyKey: null,
    modelSha256: model.sha256,
    modelName: model.name,
    input: input ?? {
      kind: 'completion',
      prompt: 'hello',
      params: { maxTokens, temperature: 0, topP: 1, stop: [] },
    },
    status: 'queued',
    attempts: 0,
    nodeId: null,
    error: null,
    createdAt: Date.now(),
    validation: null,
  };
}

const request = (record: TaskRecord, validation: ValidationLevel = { kind: 'none' }): SubmitRequest => ({
  keyId: record.keyId,
  sessionId: record.sessionId,
  idempotencyKey: record.idempotencyKey,
  model,
  input: record.input,
  validation,
});

const result = (
  taskId: string,
  nodeId: string,
  promptTokens: number,
  completionTokens: number,
  attempt = 1,
) =>
  ({
    taskId,
    nodeId,
    attempt,
    output: { text: 'x', promptTokens, completionTokens, finishReason: 'stop' },
    outputSha256: '00',
    signature: 's',
    nonce: '1',
  }) satisfies ResultRecord;

/** The fee rounds down; the payee keeps the rest. */
const split = (amount: bigint) => ({ fee: amount / 10n, rest: amount - amount / 10n });

describe('payments', () => {
  it('refuses with 402, holding nothing, when the balance cannot cover the most a request can cost', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: parseAmount('0.01') }]);
    const record = task(f, 100);
    const bounds = tokenBounds(record.input, model.contextLength);
    expect(bounds).toEqual({ prompt: 5 + 16, output: 100 });
    expect(() => f.payments.admit(record, request(record))).toThrow(PaymentRequiredError);
    try {
      f.payments.admit(record, request(record));
    } catch (error) {
      expect(toHttpError(error).status).toBe(402);
      expect((error as Error).message).toMatch(/may cost up to 0\.121 tokens .* has 0\.01/);
    }
    expect(f.ledger.balance(USER)).toBe(parseAmount('0.01'));
    expect(f.payments.pendingCount).toBe(0);
  });

  it('charges the tokens used at the price: the fee to the treasury, the rest to the payout wallet', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    const record = task(f, 10);
    f.payments.admit(record, request(record));
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - (21n + 10n) * PRICE);
    const handle = new TaskHandle(record);
    f.payments.accepted(result(record.id, NODE, 4, 7), handle);
    const charge = 11n * PRICE;
    expect(handle.payment.cost).toBe(charge);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - charge);
    expect(f.ledger.balance(WALLET)).toBe(split(charge).rest);
    expect(f.ledger.balance(TREASURY)).toBe(split(charge).fee);
    expect(f.ledger.entry(`task:${record.id}:payment`)?.reason).toBe('payment');
    // A second result for the task books nothing.
    f.payments.accepted(result(record.id, NODE, 4, 7), handle);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - charge);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('pays validators for the checks of the accepted attempt, and slashes a node whose verdict failed', () => {
    const f = fixture({ slash: '0.5', slashValidatorShare: '0.4' });
    const CHEATER = `0x${'55'.repeat(20)}`;
    f.ledger.genesis([
      { account: USER, amount: ONE_TOKEN },
      { account: CHEATER, amount: 10n * ONE_TOKEN },
    ]);
    f.ledger.staking.stake({ node: CHEATER, owner: CHEATER, amount: 10n * ONE_TOKEN });
    const record = task(f, 10);
    expect(checkReserve({ kind: 'likelihood' }, 'completion')).toBe(1);
    f.payments.admit(record, request(record, { kind: 'likelihood' }));
    // Attempt 1 by the cheater, checked by the validator and failed; attempt 2 by the honest node passes.
    const check = (attempt: number, n: number) =>
      Object.assign(new TaskHandle({ ...task(f), idempotencyKey: `check:${record.id}:${attempt}:${n}` }), {});
    f.payments.accepted(result('task_check1', VALIDATOR, 12, 0), check(1, 1));
    f.payments.verdict({
      taskId: record.id,
      attempt: 1,
      nodeId: CHEATER,
      validatorId: VALIDATOR,
      outcome: 'fail',
    });
    f.payments.accepted(result('task_check2', VALIDATOR, 13, 0), check(2, 2));
    f.payments.accepted(result(record.id, NODE, 4, 9, 2), new TaskHandle(record));
    const slashed = 5n * ONE_TOKEN;
    expect(f.ledger.staking.get(CHEATER).bonded).toBe(5n * ONE_TOKEN);
    // A linked chain hears of the slash under its ledger key (its evidence on NodeStaking).
    const told = { key: `task:${record.id}:slash:1:${CHEATER.toLowerCase()}`, node: CHEATER.toLowerCase() };
    expect(f.slashes).toEqual([told]);
    const task2 = 13n * PRICE;
    const payment = 13n * PRICE;
    // The validator: its share of the slash and the check of the accepted attempt (not the first one's).
    expect(f.ledger.balance(VALIDATOR)).toBe((slashed * 4n) / 10n + split(task2).rest);
    expect(f.ledger.balance(WALLET)).toBe(split(payment).rest);
    expect(f.ledger.balance(CHEATER)).toBe(0n);
    expect(f.ledger.balance(TREASURY)).toBe((slashed * 6n) / 10n + split(task2).fee + split(payment).fee);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - task2 - payment);
    // The same verdict heard again (a restart's replay) slashes nothing more.
    f.payments.verdict({
      taskId: record.id,
      attempt: 1,
      nodeId: CHEATER,
      validatorId: VALIDATOR,
      outcome: 'fail',
    });
    expect(f.ledger.staking.get(CHEATER).bonded).toBe(5n * ONE_TOKEN);
    // Told again under the same key: the chain side sends a slash once per key.
    expect(f.slashes).toEqual([told, told]);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('returns the hold of a task that failed', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    const record = task(f);
    f.payments.admit(record, request(record));
    f.payments.failed(record);
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('pays from a session budget, and refuses what the rest of the budget cannot cover', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    f.payments.openBudget('sess_a', USER, 42n * PRICE);
    const first = { ...task(f, 10), sessionId: 'sess_a' };
    f.payments.admit(first, request(first));
    const second = { ...task(f, 10), sessionId: 'sess_a' };
    expect(() => f.payments.admit(second, request(second))).toThrow(/tokens left in escrow/);
    f.payments.accepted(result(first.id, NODE, 4, 6), new TaskHandle(first));
    expect(f.payments.budget('sess_a')?.available).toBe(32n * PRICE);
    f.payments.admit(second, request(second));
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - 42n * PRICE);
    expect(f.payments.budget('sess_a')?.available).toBe(1n * PRICE);
  });

  it('books a result accepted before a crash exactly once after the restart', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    f.ledger.flush();
    const record = task(f, 10);
    f.tasks.insert(record);
    f.payments.admit(record, request(record));
    f.ledger.flush();
    f.tasks.complete(result(record.id, NODE, 4, 7));
    // The result committed; the ledger's bookings for it did not.
    f.payments.accepted(result(record.id, NODE, 4, 7), new TaskHandle(record));
    f.crash();
    expect(f.ledger.entry(`task:${record.id}:payment`)).toBeUndefined();
    expect(f.payments.recover(0)).toEqual({ booked: 1, released: 0, open: 0 });
    f.ledger.flush();
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - 11n * PRICE);
    // Crash again before the row was marked settled: booked again under the same keys, so nothing moves.
    f.crash();
    expect(f.payments.recover(0).booked).toBe(1);
    f.ledger.flush();
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - 11n * PRICE);
    expect(f.ledger.balance(WALLET)).toBe(split(11n * PRICE).rest);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('releases the hold of a task lost in a crash, and keeps holding for one that runs again', () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    const lost = task(f);
    f.payments.admit(lost, request(lost));
    const open = task(f);
    f.tasks.insert(open);
    f.payments.admit(open, request(open));
    f.ledger.flush();
    f.crash();
    expect(f.payments.recover(0)).toEqual({ booked: 0, released: 1, open: 1 });
    f.payments.accepted(result(open.id, NODE, 1, 1), new TaskHandle(open));
    f.ledger.flush();
    expect(f.ledger.balance(USER)).toBe(ONE_TOKEN - 2n * PRICE);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('lets free models and keys without an account through, and asks a paid model for an account', () => {
    const free = fixture({ pricePerToken: '0' });
    const record = task(free);
    free.payments.admit(record, request(record));
    expect(free.payments.pendingCount).toBe(0);
    const paid = fixture();
    const legacy = { ...task(paid), keyId: new KeyStore(paid.db).create('legacy').id };
    expect(() => paid.payments.admit(legacy, request(legacy))).toThrow(/no account to pay from/);
  });
});

describe('payments: the model store', () => {
  it("reads a registered model's context length once, not once per result (the lookup cost ~10 us a result)", () => {
    const f = fixture();
    f.ledger.genesis([{ account: USER, amount: ONE_TOKEN }]);
    let lookups = 0;
    const payments = new Payments(
      {
        ledger: f.ledger,
        store: new PaymentStore(f.db),
        keys: new KeyStore(f.db),
        tasks: f.tasks,
        scheduler: { walletOf: (id: string) => (id === NODE ? WALLET : null) } as unknown as Scheduler,
        nodes: new NodeStore(f.db),
        verdicts: new VerdictStore(f.db),
        log: () => {},
        models: {
          resolve: (sha) => {
            lookups++;
            return sha === model.sha256 ? { ...model, registered: true } : undefined;
          },
        },
      },
      ledgerSettings.parse({ pricePerToken: '0.001', fee: '0.1' }),
    );
    for (let i = 0; i < 3; i++) {
      const record = task(f, 10);
      payments.admit(record, request(record));
      const handle = new TaskHandle(record);
      payments.accepted(result(record.id, NODE, 4, 7), handle);
      expect(handle.payment.cost).toBe(11n * PRICE);
    }
    expect(lookups).toBe(1);
  });
});

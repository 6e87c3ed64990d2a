import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerSettings } from '../ledger-config.js';
import { buildRouter } from '../server.js';

const USER = `0x${'11'.repeat(20)}`;
const NODE = `0x${'22'.repeat(20)}`;
const WALLET = `0x${'33'.repeat(20)}`;
const STRANGER = `0x${'44'.repeat(20)}`;
const OPERATOR = `0x${'55'.repeat(20)}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A router in this process whose accounts hold 10 tokens each, and a key per account. */
function router() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-ledger-routes-'));
  const r = buildRouter({
    dataDir: dir,
    queueLimit: 10,
    maxAttempts: 1,
    heartbeatMs: 60_000,
    leaseGraceMs: 1000,
    defaultMaxTokens: 8,
    bodyLimitBytes: 1 << 20,
    batchWindowMs: 60_000,
    verifyThreads: 0,
    ledger: ledgerSettings.parse({
      genesis: [USER, WALLET, STRANGER, 'treasury'].map((account) => ({ account, amount: '10' })),
    }),
    log: () => {},
  });
  cleanups.push(async () => {
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const keyOf = (account: string, role?: 'operator') =>
    r.services.keys.create('test', { account, ...(role ? { role } : {}) }).key;
  const keys = {
    user: keyOf(USER),
    wallet: keyOf(WALLET),
    stranger: keyOf(STRANGER),
    node: keyOf(NODE),
    operator: keyOf(OPERATOR, 'operator'),
  };
  const post = (key: string, url: string, payload: object | string) =>
    r.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload,
    });
  return { ...r, keys, post };
}

describe('stakes belong to the node', () => {
  it("refuses a stranger's stake on a node, so the operator's wallet can still stake", async () => {
    const r = router();
    // The node's signed hello named WALLET as its payout wallet.
    r.services.payments.rememberWallet(NODE, WALLET);
    const squat = await r.post(r.keys.stranger, '/api/stake', { node: NODE, amount: '0.000000000000000001' });
    expect(squat.statusCode).toBe(403);
    expect(squat.json().error.param).toBe('node');
    const stake = await r.post(r.keys.wallet, '/api/stake', { node: NODE, amount: '1' });
    expect(stake.statusCode).toBe(201);
    expect(stake.json()).toMatchObject({ owner: WALLET, bonded: '1' });
    expect(r.services.ledger.balance(STRANGER)).toBe(10n * 10n ** 18n);
  });

  it("lets the node's own key stake on it", async () => {
    const r = router();
    await r.post(r.keys.user, '/api/transfers', { to: NODE, amount: '2' });
    const stake = await r.post(r.keys.node, '/api/stake', { node: NODE, amount: '1' });
    expect(stake.statusCode).toBe(201);
    expect(stake.json()).toMatchObject({ owner: NODE });
  });
});

describe('transfers', () => {
  it("refuses an operator key moving a user's tokens, naming 'from'", async () => {
    const r = router();
    const taken = await r.post(r.keys.operator, '/api/transfers', { from: USER, to: OPERATOR, amount: '5' });
    expect(taken.statusCode).toBe(403);
    expect(taken.json().error.param).toBe('from');
    expect(r.services.ledger.balance(OPERATOR)).toBe(0n);
    // The system pools stay the operator's to spend.
    const pool = await r.post(r.keys.operator, '/api/transfers', { from: 'treasury', to: USER, amount: '1' });
    expect(pool.statusCode).toBe(201);
  });

  it('refuses a self-transfer, even above the balance, and books no entry', async () => {
    const r = router();
    const seq = r.services.ledger.entries(USER, { limit: 1 })[0]?.seq;
    const self = await r.post(r.keys.user, '/api/transfers', { to: USER, amount: '1000' });
    expect(self.statusCode).toBe(400);
    expect(self.json().error.param).toBe('to');
    expect(r.services.ledger.entries(USER, { limit: 1 })[0]?.seq).toBe(seq);
  });

  it("refuses a JSON number amount with 400 naming 'amount', and books nothing", async () => {
    const r = router();
    const sent = await r.post(
      r.keys.user,
      '/api/transfers',
      `{"to": "${WALLET}", "amount": 1.0000000000000000001}`,
    );
    expect(sent.statusCode).toBe(400);
    expect(sent.json().error.param).toBe('amount');
    expect(r.services.ledger.balance(USER)).toBe(10n * 10n ** 18n);
    // As a string the same amount is booked exactly.
    const exact = await r.post(r.keys.user, '/api/transfers', { to: WALLET, amount: '1.000000000000000001' });
    expect(exact.statusCode).toBe(201);
    expect(exact.json().amount).toBe('1.000000000000000001');
  });
});

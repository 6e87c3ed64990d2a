import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountKey, registerModel } from '../../src/cli/local-admin.js';
import { formatAmount, parseAmount } from '../../src/ledger/index.js';
import { type LedgerEntryView, OmniClient } from '../../src/sdk/index.js';
import {
  type CliProcess,
  runCheater,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// One paid network: a router charging 0.001 tokens a token with a 10 % fee, slashing half a cheater's stake
// (40 % of it to the validator), two honest workers, a validator; users funded by genesis and by mint.
const PRICE = parseAmount('0.001');
const WALLET_A = `0x${'a1'.repeat(20)}`;
const WALLET_B = `0x${'b2'.repeat(20)}`;
const WALLET_C = `0x${'c3'.repeat(20)}`;
const WALLET_D = `0x${'d4'.repeat(20)}`;
const WALLET_E = `0x${'e5'.repeat(20)}`;

let ws: Workspace;
let url: string;
let router: CliProcess;
const keys = {} as Record<'user' | 'poor' | 'operator' | 'staker', { key: string; account: string }>;
const nodeIds: Record<string, string> = {};
let validatorId: string;
let cheaterId: string;
const api = (who: keyof typeof keys) => new OmniClient({ baseUrl: url, apiKey: keys[who].key });

beforeAll(async () => {
  ws = await workspace('ledger');
  const data = join(ws.dir, 'router');
  await registerModel(data, ws.model, 'tiny');
  keys.user = createAccountKey(data, { label: 'user' });
  keys.poor = createAccountKey(data, { label: 'poor' });
  keys.staker = createAccountKey(data, { label: 'staker' });
  keys.operator = createAccountKey(data, { label: 'operator', operator: true });
  ({ url, process: router } = await startRouterProcess(ws, {
    args: [
      ...['--price-per-token', '0.001', '--fee', '0.1', '--allow-mint'],
      ...['--slash', '0.5', '--slash-validator-share', '0.4'],
      ...['--genesis', 'rewards=1000', '--genesis', `${keys.user.account}=5`],
    ],
  }));
  const nodes = [
    ['h1', WALLET_A, 'worker'],
    ['h2', WALLET_B, 'worker'],
    ['v1', WALLET_C, 'validator'],
  ] as const;
  await Promise.all(
    nodes.map(async ([name, wallet, role]) => {
      const node = await startNodeProcess(ws, url, name, ['--wallet', wallet, '--role', role]);
      const [, id] = await node.line(/node: (0x[0-9a-fA-F]{40})/);
      nodeIds[(id as string).toLowerCase()] = wallet;
      if (role === 'validator') validatorId = (id as string).toLowerCase();
    }),
  );
  await waitForNodes(url, 3);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

async function chat(who: keyof typeof keys, prompt: string, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[who].key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: 16,
      temperature: 0,
      validation: 'none',
      ...extra,
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
      error: { code: string; message: string };
    },
  };
}

/** Every entry of an account (operator's view), oldest first. */
async function entries(account: string): Promise<LedgerEntryView[]> {
  const all: LedgerEntryView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await api('operator').entries(account, { limit: 200, ...(before ? { before } : {}) });
    all.push(...page.data);
    if (!page.has_more || page.next_before === null) return all.reverse();
    before = page.next_before;
  }
}

const units = (tokens: string) =>
  parseAmount(tokens.replace(/^[-+]/, '')) * (tokens.startsWith('-') ? -1n : 1n);
const fee = (amount: bigint) => amount / 10n;

async function cli(args: string[], who: keyof typeof keys = 'user') {
  const p = runCli([...args, '--router', url, '--api-key', keys[who].key]);
  const code = await p.exited;
  return { code, out: p.output() };
}

async function tasksDone(): Promise<number> {
  let total = 0;
  for (const id of Object.keys(nodeIds)) {
    const record = (await (
      await fetch(`${url}/api/nodes/${id}`, { headers: { authorization: `Bearer ${keys.operator.key}` } })
    ).json()) as { tasks_done?: number };
    total += record.tasks_done ?? 0;
  }
  return total;
}

describe('paying for work', () => {
  it('refuses with 402, before any node works, a request the balance cannot cover', async () => {
    const minted = await cli(['mint', '--to', keys.poor.account, '--amount', '0.05'], 'operator');
    expect(minted.out).toContain(`minted 0.05 OMNIT to ${keys.poor.account}`);
    const before = await tasksDone();
    const answer = await chat('poor', 'I cannot pay for this', { max_tokens: 64 });
    expect(answer.status).toBe(402);
    expect(answer.body.error.code).toBe('insufficient_funds');
    expect(answer.body.error.message).toMatch(
      /may cost up to [\d.]+ tokens .* but account 0x[0-9a-f]{40} has 0\.05/,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await tasksDone()).toBe(before);
    expect((await api('poor').account()).balance).toBe('0.05');
    // A request it can afford runs.
    const small = await chat('poor', 'hi', { max_tokens: 2 });
    expect(small.status).toBe(200);
    const cost = units(small.headers.get('x-omnitensor-cost') as string);
    expect(units((await api('poor').account()).balance)).toBe(parseAmount('0.05') - cost);
  });

  it("charges the tokens used at the model's price; the node's wallet and the treasury get exactly their shares", async () => {
    const treasuryBefore = units((await api('operator').account('treasury')).balance);
    const before = units((await api('user').account()).balance);
    const answer = await chat('user', 'What does a paid answer cost?');
    expect(answer.status).toBe(200);
    const { prompt_tokens, completion_tokens } = answer.body.usage;
    const charge = BigInt(prompt_tokens + completion_tokens) * PRICE;
    expect(answer.headers.get('x-omnitensor-cost')).toBe(formatAmount(charge));
    const taskId = answer.headers.get('x-omnitensor-task-id') as string;
    const wallet = nodeIds[(answer.headers.get('x-omnitensor-node') as string).toLowerCase()] as string;
    await new Promise((r) => setTimeout(r, 100));
    expect(units((await api('user').account()).balance)).toBe(before - charge);
    const payment = (await entries(wallet)).find((e) => e.key === `task:${taskId}:payment`);
    expect(units(payment?.amount ?? '0')).toBe(charge - fee(charge));
    expect(units((await api('operator').account('treasury')).balance) - treasuryBefore).toBe(fee(charge));
    // The user's history: the escrow of the most it could cost, the refund of the rest.
    const mine = (await entries(keys.user.account)).filter((e) => e.reference?.includes(taskId));
    expect(mine.map((e) => e.reason)).toEqual(['escrow', 'refund']);
    expect(mine.reduce((sum, e) => sum + units(e.amount), 0n)).toBe(-charge);
  });

  it('pays the validator for its check, from the same payment, at the same price', async () => {
    const answer = await chat('user', 'Check this answer, please.', { validation: 'likelihood' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-omnitensor-verdict')).toBe('pass');
    const taskId = answer.headers.get('x-omnitensor-task-id') as string;
    await new Promise((r) => setTimeout(r, 100));
    const check = (await entries(WALLET_C)).find((e) => e.key === `task:${taskId}:check:${validatorId}`);
    expect(check?.reason).toBe('payment');
    const checkCharge = -units(check?.postings.find((p) => p.account.startsWith('escrow:'))?.amount ?? '0');
    expect(checkCharge % PRICE).toBe(0n);
    expect(checkCharge).toBeGreaterThan(0n);
    expect(units(check?.amount ?? '0')).toBe(checkCharge - fee(checkCharge));
    const { prompt_tokens, completion_tokens } = answer.body.usage;
    const task = BigInt(prompt_tokens + completion_tokens) * PRICE;
    expect(answer.headers.get('x-omnitensor-cost')).toBe(formatAmount(task + checkCharge));
  });

  it('holds a session budget in escrow, refuses what it cannot cover, and returns the rest on close', async () => {
    const user = api('user');
    const before = units((await user.account()).balance);
    const session = await user.createSession({
      model: 'tiny',
      budget: '0.1',
      max_tokens: 8,
      validation: 'none',
    });
    expect(session.budget).toMatchObject({ escrowed: '0.1', available: '0.1', status: 'open' });
    const prompt = (content: string) =>
      fetch(`${url}/api/sessions/${session.id}/prompts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.user.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: content }),
      });
    const ok = await prompt('short');
    expect(ok.status).toBe(200);
    const cost = units(ok.headers.get('x-omnitensor-cost') as string);
    const tooLong = await prompt('x'.repeat(200));
    expect(tooLong.status).toBe(402);
    expect(((await tooLong.json()) as { error: { message: string } }).error.message).toMatch(
      /left in escrow/,
    );
    const closed = await user.closeSession(session.id);
    expect(closed.budget?.status).toBe('closed');
    expect(units((await user.account()).balance)).toBe(before - cost);
  });
});

describe('staking and slashing', () => {
  it('slashes a staked cheater caught by a validator: its stake shrinks, the validator and treasury share it', async () => {
    // A validator's fail slashes only when a second, independent validator confirms it.
    const second = await startNodeProcess(ws, url, 'v2', ['--wallet', WALLET_E, '--role', 'validator']);
    await cli(['mint', '--to', keys.staker.account, '--amount', '20'], 'operator');
    const cheater = ws.track(
      runCheater({
        router: url,
        model: ws.model,
        data: join(ws.dir, 'cheater'),
        cheat: 'random',
        // Only a node's owner (its key or its payout wallet) may stake on it: the staker runs this node.
        wallet: keys.staker.account,
      }),
    );
    const [, rawId] = await cheater.line(/cheater \w+ connected: (0x[0-9a-fA-F]{40})/);
    cheaterId = (rawId as string).toLowerCase();
    const staked = await cli(['stake', '--node', cheaterId, '--amount', '10'], 'staker');
    expect(staked.out).toContain(`staked 10 OMNIT on node ${cheaterId}`);
    await waitForNodes(url, 5);
    let slashes: LedgerEntryView[] = [];
    const byValidator = (slash: LedgerEntryView) =>
      slash.postings.some((p) => p.account === WALLET_C || p.account === WALLET_E);
    // The cheater may also be slashed as a replica of the router's own audit of honest work (two replicas
    // outvoted it; src/verify/audit.ts): the router compared bytes, so the treasury takes all of that one.
    for (let round = 0; round < 8 && !slashes.some(byValidator); round++) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          chat('user', `round ${round} prompt ${i}`, { validation: 'likelihood' }),
        ),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.headers.get('x-omnitensor-node')?.toLowerCase()).not.toBe(cheaterId);
      }
      slashes = (await entries(`stake:${cheaterId}`)).filter((e) => e.reason === 'slash');
    }
    expect(slashes.some(byValidator)).toBe(true);
    const stake = await api('staker').stakeOf(cheaterId);
    let taken = 0n;
    for (const slash of slashes) {
      const amount = -units(slash.postings.find((p) => p.account === `stake:${cheaterId}`)?.amount ?? '0');
      taken += amount;
      const share = (amount * 4n) / 10n;
      // The validator that first failed it takes the share: either one.
      const validator = slash.postings.find((p) => p.account === WALLET_C || p.account === WALLET_E);
      const treasury = units(slash.postings.find((p) => p.account === 'treasury')?.amount ?? '0');
      if (!validator) {
        expect(treasury).toBe(amount);
        continue;
      }
      expect(units(validator.amount)).toBe(share);
      expect(treasury).toBe(amount - share);
    }
    expect(units(stake.bonded)).toBe(10n * 10n ** 18n - taken);
    expect(units(stake.bonded)).toBeLessThanOrEqual(5n * 10n ** 18n);
    // Its cheated answers earned its wallet nothing: 20 minted, 10 staked.
    expect((await api('operator').account(keys.staker.account)).balance).toBe('10');
    cheater.child.kill('SIGKILL');
    await cheater.exited;
    second.child.kill('SIGKILL');
    await second.exited;
  });
});

describe('the CLI against a running router', () => {
  it('shows balances and rewards, transfers, unstakes, withdraws, and closes an epoch once', async () => {
    const [transfer, withdraw] = await Promise.all([
      cli(['transfer', '--to', keys.staker.account, '--amount', '0.5']),
      cli(['withdraw', '--amount', '1.25', '--to', WALLET_D]),
    ]);
    expect(transfer.out).toMatch(
      new RegExp(`sent 0.5 OMNIT from ${keys.user.account} to ${keys.staker.account}`),
    );
    expect(withdraw.out).toMatch(/withdrawal wd_\w+: 1.25 OMNIT to 0xd4d4.*pending/);
    const [balance, withdrawals, closed] = await Promise.all([
      cli(['balance']),
      cli(['withdrawals']),
      cli(['epoch', 'close'], 'operator'),
    ]);
    expect(balance.out).toMatch(/pending withdrawals\s+1.25 OMNIT/);
    expect(withdrawals.out).toMatch(/wd_\w+\s.*1.25\s+0xd4d4\w+\s+pending/);
    const epoch = /epoch (\d+) \(omnitensor\)/.exec(closed.out)?.[1];
    expect(epoch).toBeDefined();
    // Every honest node was up and did validated work: the report lists it with a reward.
    for (const [id, wallet] of Object.entries(nodeIds))
      expect(closed.out).toMatch(new RegExp(`${id}\\s+${wallet}`));
    const [again, rewards, forbidden] = await Promise.all([
      cli(['epoch', 'close', '--epoch', epoch as string], 'operator'),
      cli(['check-rewards', '--wallet', WALLET_A], 'operator'),
      cli(['check-rewards', '--wallet', WALLET_A], 'user'),
    ]);
    // Closing the same epoch again shows the stored report and pays nothing more.
    expect(again.out).toBe(closed.out);
    expect(rewards.out).toMatch(/balance\s+[\d.]+ OMNIT/);
    expect(rewards.out).toMatch(new RegExp(`epoch rewards:[\\s\\S]*${epoch}\\s+0x`));
    expect(rewards.out).toMatch(
      /recent history:\nseq\s+time \(UTC\)\s+reason\s+amount\s+reference\n[\s\S]*reward\s+\+[\d.]+\s+epoch:/,
    );
    expect(forbidden.code).toBe(1);
    expect(forbidden.out).toMatch(/may read only its own account/);
    // A small amount: the cheater's stake was slashed once per caught result (as a worker, and as a replica
    // of the router's audits), so how much is left depends on how many it answered.
    const unstaked = await cli(['unstake', '--node', cheaterId, '--amount', '0.001'], 'staker');
    expect(unstaked.out).toMatch(new RegExp(`unbonding 0.001 OMNIT from node ${cheaterId} until .* UTC`));
    const notOwner = await cli(['unstake', '--node', cheaterId, '--amount', '1'], 'user');
    expect(notOwner.code).toBe(1);
    expect(notOwner.out).toMatch(/stake belongs to/);
  });

  it('keeps every balance across a restart, and verifies the whole ledger offline, finding a tampered entry', async () => {
    const before = await api('user').account();
    router.child.kill('SIGINT');
    expect(await router.exited).toBe(0);
    ({ url, process: router } = await startRouterProcess(ws, { args: ['--price-per-token', '0.001'] }));
    expect(await api('user').account()).toEqual(before);
    expect((await api('operator').verifyLedger()).ok).toBe(true);
    router.child.kill('SIGINT');
    expect(await router.exited).toBe(0);
    const data = join(ws.dir, 'router');
    const ok = runCli(['ledger', 'verify', '--data', data]);
    expect(await ok.exited).toBe(0);
    expect(ok.output()).toMatch(/ok: every entry balances/);
    const copy = join(ws.dir, 'tampered');
    mkdirSync(copy);
    copyFileSync(join(data, 'router.db'), join(copy, 'router.db'));
    const db = new Database(join(copy, 'router.db'));
    const last = db.prepare('SELECT seq, account FROM ledger_postings ORDER BY seq DESC LIMIT 1').get() as {
      seq: number;
      account: string;
    };
    db.prepare("UPDATE ledger_postings SET amount = '1' WHERE seq = ? AND account = ?").run(
      last.seq,
      last.account,
    );
    db.close();
    const bad = runCli(['ledger', 'verify', '--data', copy]);
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/problem: entry \d+ .* does not balance/);
  });
});

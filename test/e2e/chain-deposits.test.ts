import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliProcess, cliOutput, runCli, type Workspace, workspace } from './harness.js';

// A Vault deposit is credited to the ledger once, across a router restart: the router rescans from the
// deployment block on every start and books each deposit under its transaction hash and log index. A ledger
// withdrawal then lands on chain through a Vault voucher, once.

let ws: Workspace;
let chain: CliProcess;
let rpc: string;
let deploymentFile: string;
let keyFile: string;
let account: string;

beforeAll(async () => {
  ws = await workspace('chain-deposits');
  deploymentFile = join(ws.dir, 'deployment.json');
  chain = ws.track(runCli(['chain', 'dev', '--port', '0', '--deployment', deploymentFile]));
  const [, url] = await chain.line(/rpc: (http:\/\/\S+)/);
  const [, address, key] = await chain.line(/^\s+(0x[0-9a-fA-F]{40}) (0x[0-9a-f]{64})$/m);
  await chain.line(/deployment: /);
  rpc = url as string;
  account = (address as string).toLowerCase();
  keyFile = join(ws.dir, 'wallet.key');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  chain?.child.kill('SIGINT');
  await ws?.cleanup();
});

function startRouter() {
  const router = ws.track(
    runCli([
      'router',
      'start',
      '--port',
      '0',
      '--data',
      join(ws.dir, 'router'),
      '--chain-rpc',
      rpc,
      '--chain-deployment',
      deploymentFile,
      '--chain-key-file',
      keyFile,
    ]),
  );
  return router;
}

function deposits(): { key: string; amount: string }[] {
  const db = new Database(join(ws.dir, 'router', 'router.db'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT e.key AS key, p.amount AS amount FROM ledger_entries e JOIN ledger_postings p ON p.seq = e.seq
         WHERE e.reason = 'deposit' AND p.account = ?`,
      )
      .all(account) as { key: string; amount: string }[];
  } finally {
    db.close();
  }
}

async function stop(p: CliProcess) {
  p.child.kill('SIGINT');
  await p.exited;
}

it('credits each deposit once across a restart, refuses one below the minimum by name, pays a withdrawal once', async () => {
  let router = startRouter();
  const [, url] = await router.line(/router: (http:\/\/\S+)/);
  const below = runCli(['deposit', '--amount', '0.5', '--router', url as string, '--key-file', keyFile]);
  expect(await below.exited).toBe(1);
  expect(below.output()).toMatch(/DepositBelowMinimum/);

  await cliOutput(['deposit', '--amount', '5', '--router', url as string, '--key-file', keyFile]);
  await router.line(/deposit credited/, 30_000);
  await stop(router);
  expect(deposits().map((d) => d.amount)).toEqual([(5n * 10n ** 18n).toString()]);

  const apiKey = (
    await cliOutput(['keys', 'create', '--data', join(ws.dir, 'router'), '--account', account])
  ).trim();
  const strangerKey = (
    await cliOutput(['keys', 'create', '--data', join(ws.dir, 'router'), '--account', `0x${'ba'.repeat(20)}`])
  ).trim();
  router = startRouter();
  const [, again] = await router.line(/router: (http:\/\/\S+)/);
  await cliOutput(['deposit', '--amount', '7', '--router', again as string, '--key-file', keyFile]);
  await router.line(/deposit credited/, 30_000);

  // The deposited tokens go back out: a withdrawal in the ledger, paid by the Vault against a voucher.
  const auth = ['--router', again as string, '--api-key', apiKey];
  const payee = '0x000000000000000000000000000000000000beef';
  const requested = await cliOutput(['withdraw', '--amount', '3', '--to', payee, ...auth]);
  const id = /withdrawal (wd_[0-9a-f]+)/.exec(requested)?.[1] as string;
  // A voucher signed but not cashed is not money gone: the withdrawal stays pending, and held for the voucher.
  const headers = { authorization: `Bearer ${apiKey}` };
  const api = (path: string, method = 'GET') => fetch(`${again}${path}`, { method, headers });
  const statusOf = async () =>
    ((await (await api('/api/withdrawals')).json()) as { data: { id: string; status: string }[] }).data.find(
      (w) => w.id === id,
    )?.status;
  // Only the withdrawal's owner gets its voucher: another account's key sees no such withdrawal.
  const foreign = await fetch(`${again}/api/withdrawals/${id}/voucher`, {
    method: 'POST',
    headers: { authorization: `Bearer ${strangerKey}` },
  });
  expect(foreign.status).toBe(404);
  expect(await foreign.text()).toMatch(/No withdrawal/);
  expect((await api(`/api/withdrawals/${id}/voucher`, 'POST')).status).toBe(200);
  expect(await statusOf()).toBe('pending');
  expect((await api(`/api/withdrawals/${id}/cancel`, 'POST')).status).toBe(409);
  const paid = await cliOutput(['withdraw-onchain', '--id', id, '--key-file', keyFile, ...auth]);
  expect(paid).toMatch(/3 OMNIT paid to/);
  // The Vault's Withdrawn event, once confirmed, is what settles it.
  await router.line(/voucher paid; withdrawal settled/, 30_000);
  expect(await statusOf()).toBe('settled');
  const repeated = await cliOutput(['withdraw-onchain', '--id', id, '--key-file', keyFile, ...auth]);
  expect(repeated).toMatch(/already paid on chain/);
  const balance = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [{ to: tokenAddress(), data: `0x70a08231${payee.slice(2).padStart(64, '0')}` }, 'latest'],
    }),
  }).then((r) => r.json() as Promise<{ result: string }>);
  expect(BigInt(balance.result)).toBe(3n * 10n ** 18n);
  await stop(router);
  const booked = deposits();
  expect(booked.map((d) => d.amount).sort()).toEqual([
    (5n * 10n ** 18n).toString(),
    (7n * 10n ** 18n).toString(),
  ]);
  expect(new Set(booked.map((d) => d.key)).size).toBe(2);
  expect(await cliOutput(['ledger', 'verify', '--data', join(ws.dir, 'router')])).toMatch(/^ok:/m);
}, 180_000);

function tokenAddress(): string {
  return (JSON.parse(readFileSync(deploymentFile, 'utf8')) as { token: string }).token;
}

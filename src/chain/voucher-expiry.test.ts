import { afterEach, expect, it } from 'vitest';
import { ONE_TOKEN } from '../ledger/amount.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import { ChainClient } from './client.js';
import { deployContracts } from './deploy.js';
import { startDevChain } from './dev-chain.js';
import { ChainLink } from './link.js';
import { revertName } from './retry.js';
import { committing, linkSettings } from './testing.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('gives a withdrawal back to its account once its voucher expired unused, and only then; a cashed one settles', async () => {
  const f = new LedgerFixture();
  cleanups.push(() => f.dispose());
  const earner = address(1);
  f.ledger.genesis([{ account: earner, amount: 100n * ONE_TOKEN }]);
  const chain = await startDevChain();
  cleanups.push(() => chain.close());
  const [admin] = chain.accounts;
  if (!admin) throw new Error('no accounts');
  const deployment = await deployContracts({ rpc: chain.url, privateKey: admin.privateKey });
  const settings = linkSettings(f, chain.url, deployment, admin.privateKey);
  const logs: string[] = [];
  const link = new ChainLink({ ledger: f.ledger, log: (_l, m) => logs.push(m), settings });
  cleanups.push(() => link.stop());
  const owner = new ChainClient({ deployment, privateKey: admin.privateKey });
  await owner.write('token', 'approve', [deployment.vault, 50n * ONE_TOKEN]);
  await owner.write('vault', 'fund', [50n * ONE_TOKEN]);

  const request = (amount: bigint, to: string) =>
    f.ledger.withdrawals.request({ account: earner, amount, to }).withdrawal.id;
  const unused = request(10n * ONE_TOKEN, address(21));
  const cashed = request(5n * ONE_TOKEN, address(22));
  f.ledger.flush();
  const voucherOf = (id: string) => {
    const w = f.ledger.withdrawals.get(id);
    if (!w) throw new Error(`no ${id}`);
    return committing(f, link.issueVoucher(w));
  };
  const first = await voucherOf(unused);
  // Asking again gives the same voucher: the deadline is the one the hold keeps.
  expect((await voucherOf(unused)).deadline).toBe(first.deadline);
  const pay = async (v: Awaited<ReturnType<typeof voucherOf>>) =>
    owner.write('vault', 'withdraw', [v.account, v.amount, v.nonce, v.deadline, v.signature]);
  await pay(await voucherOf(cashed));

  await committing(f, link.round());
  expect(f.ledger.withdrawals.get(unused)?.status).toBe('pending');
  expect(f.ledger.withdrawals.get(cashed)?.status).toBe('settled');
  expect(f.ledger.balance(earner)).toBe(85n * ONE_TOKEN);

  // A day and a second later on the chain's clock: the unused voucher can no longer pay, so its amount returns.
  const rpc = (method: string, params: unknown[] = []) =>
    fetch(chain.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
  await rpc('evm_increaseTime', [86_401]);
  await rpc('evm_mine');
  await committing(f, link.round());
  expect(f.ledger.withdrawals.get(unused)?.status).toBe('cancelled');
  expect(f.ledger.balance(earner)).toBe(95n * ONE_TOKEN);
  expect(logs).toContain('voucher expired unused; withdrawal released to its account');
  expect(revertName(await pay(first).catch((e: unknown) => e))).toBe('VoucherExpired');
  const released = f.ledger.withdrawals.get(unused);
  if (!released) throw new Error('gone');
  await expect(link.issueVoucher(released)).rejects.toThrow(/cancelled/);

  // A restarted link releases nothing twice.
  await link.stop();
  const again = new ChainLink({ ledger: f.ledger, log: () => {}, settings });
  cleanups.push(() => again.stop());
  await committing(f, again.round());
  expect(f.ledger.balance(earner)).toBe(95n * ONE_TOKEN);
  expect(f.ledger.verify().ok).toBe(true);
}, 60_000);

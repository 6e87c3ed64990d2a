import { afterEach, describe, expect, it } from 'vitest';
import { escrowAccount, REWARDS, stakeAccount, TREASURY, unbondingAccount, WITHDRAWALS } from './accounts.js';
import { ONE_TOKEN, parseAmount } from './amount.js';
import {
  BelowMinimumStakeError,
  EscrowClosedError,
  EscrowExhaustedError,
  InsufficientFundsError,
  MintDisabledError,
  StakeOwnerError,
  WithdrawalStateError,
} from './errors.js';
import { quote } from './escrow.js';
import { address, LedgerFixture } from './testing.js';

const user = address(0xa11ce);
const node = address(0xb0b);
const wallet = address(0xca5e);
const validator = address(0xd00d);
const price = { input: parseAmount('0.001'), output: parseAmount('0.002') };

const fixtures: LedgerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

function network(config: ConstructorParameters<typeof LedgerFixture>[0] = {}) {
  const f = new LedgerFixture({ feePpm: 50_000n, ...config });
  fixtures.push(f);
  f.ledger.genesis([
    { account: user, amount: 100n * ONE_TOKEN },
    { account: wallet, amount: 50n * ONE_TOKEN },
    { account: REWARDS, amount: 1000n * ONE_TOKEN },
  ]);
  return f;
}

describe('paying for work through a session escrow', () => {
  it('charges tokens times the price: the fee to the treasury, the rest to the node, the remainder back', () => {
    const { ledger } = network();
    ledger.escrows.open({ session: 'sess_1', owner: user, budget: 10n * ONE_TOKEN });
    expect(ledger.balance(user)).toBe(90n * ONE_TOKEN);
    const charge = ledger.escrows.charge({
      session: 'sess_1',
      key: 'task:task_1:payment',
      payee: wallet,
      inputTokens: 100,
      outputTokens: 50,
      price,
    });
    // 100 x 0.001 + 50 x 0.002 = 0.2 tokens; 5 % fee = 0.01.
    expect(charge.amount).toBe(parseAmount('0.2'));
    expect(charge.fee).toBe(parseAmount('0.01'));
    expect(ledger.balance(wallet)).toBe(parseAmount('50.19'));
    expect(ledger.balance(TREASURY)).toBe(parseAmount('0.01'));
    const { refund } = ledger.escrows.close('sess_1');
    expect(refund?.postings).toContainEqual({ account: user, amount: parseAmount('9.8') });
    expect(ledger.balance(user)).toBe(parseAmount('99.8'));
    expect(ledger.balance(escrowAccount('sess_1'))).toBe(0n);
    expect(ledger.verify()).toMatchObject({ ok: true, problems: [] });
  });

  it('books a payment once however often the result arrives, across a restart', () => {
    const f = network();
    f.ledger.escrows.open({ session: 'sess_1', owner: user, budget: ONE_TOKEN });
    const params = {
      session: 'sess_1',
      key: 'task:t1:payment',
      payee: wallet,
      inputTokens: 10,
      outputTokens: 10,
      price,
    };
    const first = f.ledger.escrows.charge(params);
    const again = f.ledger.escrows.charge(params);
    expect(again).toMatchObject({ duplicate: true, amount: first.amount, fee: first.fee });
    expect(again.entry.seq).toBe(first.entry.seq);
    const after = f.restart().escrows.charge(params);
    expect(after.duplicate).toBe(true);
    expect(f.ledger.balance(wallet)).toBe(50n * ONE_TOKEN + first.amount - first.fee);
    expect(f.ledger.entries(wallet).filter((e) => e.reason === 'payment')).toHaveLength(1);
  });

  it('refuses with 402 what the escrow cannot cover, before any node works, and holds stop overspending', () => {
    const { ledger } = network();
    ledger.escrows.open({ session: 'sess_1', owner: user, budget: parseAmount('0.5') });
    const most = quote(price, 100, 100); // 0.3
    ledger.escrows.hold({ session: 'sess_1', hold: 'task_1', amount: most });
    let refused: unknown;
    try {
      ledger.escrows.hold({ session: 'sess_1', hold: 'task_2', amount: most });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(EscrowExhaustedError);
    expect(refused).toMatchObject({
      kind: 'payment_required',
      code: 'insufficient_escrow',
      available: parseAmount('0.2'),
    });
    expect((refused as Error).message).toMatch(/sess_1 has 0.2 tokens left.*cost up to 0.3/);
    // The held task charges what it used; the rest of its hold is free again.
    ledger.escrows.charge({
      session: 'sess_1',
      key: 'task:task_1:payment',
      payee: wallet,
      inputTokens: 10,
      outputTokens: 10,
      price,
      hold: 'task_1',
    });
    expect(ledger.escrows.get('sess_1')).toMatchObject({
      available: parseAmount('0.47'),
      held: 0n,
      holds: 0,
    });
    expect(() =>
      ledger.escrows.charge({
        session: 'sess_1',
        key: 'task:x:payment',
        payee: wallet,
        inputTokens: 1000,
        outputTokens: 0,
        price,
      }),
    ).toThrow(EscrowExhaustedError);
    expect(() => ledger.escrows.open({ session: 'sess_2', owner: user, budget: 1000n * ONE_TOKEN })).toThrow(
      InsufficientFundsError,
    );
  });

  it('closing with a task in flight returns the free part now and the rest of the hold when the task ends', () => {
    const { ledger } = network();
    ledger.escrows.open({ session: 'sess_1', owner: user, budget: ONE_TOKEN });
    ledger.escrows.hold({ session: 'sess_1', hold: 'task_1', amount: parseAmount('0.3') });
    ledger.escrows.close('sess_1');
    expect(ledger.balance(user)).toBe(parseAmount('99.7'));
    expect(() => ledger.escrows.hold({ session: 'sess_1', hold: 'task_2', amount: 1n })).toThrow(
      EscrowClosedError,
    );
    const charge = ledger.escrows.charge({
      session: 'sess_1',
      key: 'task:task_1:payment',
      payee: wallet,
      inputTokens: 100,
      outputTokens: 0,
      price,
      hold: 'task_1',
    });
    expect(charge.refund?.postings).toContainEqual({ account: user, amount: parseAmount('0.2') });
    expect(ledger.balance(escrowAccount('sess_1'))).toBe(0n);
    expect(ledger.verify().ok).toBe(true);
  });

  it('expires escrows past their time and returns their budget', () => {
    const f = network();
    f.ledger.escrows.open({ session: 'sess_1', owner: user, budget: ONE_TOKEN, expiresAt: f.time + 1000 });
    expect(f.ledger.escrows.expire(f.time + 999)).toHaveLength(0);
    f.time += 1000;
    expect(f.ledger.escrows.expire()).toMatchObject([{ session: 'sess_1', status: 'expired' }]);
    expect(f.ledger.balance(user)).toBe(100n * ONE_TOKEN);
    expect(f.restart().escrows.get('sess_1')).toMatchObject({ status: 'expired', balance: 0n });
  });
});

describe('staking, unbonding and slashing', () => {
  it('unstaked tokens wait out the unbonding period, then return to the owner', () => {
    const f = network({ unbondingMs: 60_000 });
    f.ledger.staking.stake({ node, owner: wallet, amount: 20n * ONE_TOKEN });
    expect(() => f.ledger.staking.stake({ node, owner: user, amount: ONE_TOKEN })).toThrow(StakeOwnerError);
    const { releaseAt } = f.ledger.staking.unstake({ node, owner: wallet, amount: 5n * ONE_TOKEN });
    expect(releaseAt).toBe(f.time + 60_000);
    expect(f.ledger.staking.get(node)).toMatchObject({ bonded: 15n * ONE_TOKEN, unbonding: 5n * ONE_TOKEN });
    f.time += 59_999;
    expect(f.restart().staking.release()).toHaveLength(0);
    f.time += 1;
    expect(f.ledger.staking.release()).toHaveLength(1);
    expect(f.ledger.balance(wallet)).toBe(35n * ONE_TOKEN);
    expect(f.ledger.staking.get(node)).toMatchObject({
      bonded: 15n * ONE_TOKEN,
      unbonding: 0n,
      unbondings: [],
    });
  });

  it('a failed verdict slashes the configured share: part to the validator, the rest to the treasury, once', () => {
    const f = network({ slashPpm: 100_000n, slashValidatorPpm: 250_000n });
    f.ledger.staking.stake({ node, owner: wallet, amount: 30n * ONE_TOKEN });
    f.ledger.staking.unstake({ node, owner: wallet, amount: 10n * ONE_TOKEN });
    const slash = f.ledger.staking.slash({ node, key: 'task:t9:slash', validator });
    // 10 % of 30 staked = 3: 0.75 to the validator, 2.25 to the treasury, all from the bonded part.
    expect(slash).toMatchObject({
      amount: 3n * ONE_TOKEN,
      validatorShare: parseAmount('0.75'),
      treasuryShare: parseAmount('2.25'),
    });
    expect(f.ledger.staking.slash({ node, key: 'task:t9:slash', validator })).toMatchObject({
      duplicate: true,
      amount: 3n * ONE_TOKEN,
      validatorShare: parseAmount('0.75'),
    });
    expect(f.ledger.balance(validator)).toBe(parseAmount('0.75'));
    expect(f.ledger.balance(TREASURY)).toBe(parseAmount('2.25'));
    expect(f.ledger.balance(stakeAccount(node))).toBe(17n * ONE_TOKEN);
    expect(f.ledger.balance(unbondingAccount(node))).toBe(10n * ONE_TOKEN);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('slashing reaches unbonding stake once the bonded part is gone', () => {
    const f = network({ slashPpm: 1_000_000n });
    f.ledger.staking.stake({ node, owner: wallet, amount: 10n * ONE_TOKEN });
    f.ledger.staking.unstake({ node, owner: wallet, amount: 4n * ONE_TOKEN });
    f.ledger.staking.slash({ node, key: 'task:t1:slash' });
    expect(f.ledger.staking.get(node)).toMatchObject({ bonded: 0n, unbonding: 0n, unbondings: [] });
    expect(f.ledger.balance(TREASURY)).toBe(10n * ONE_TOKEN);
    expect(f.restart().verify().ok).toBe(true);
  });

  it('a node under the minimum stake may not receive work', () => {
    const { ledger } = network({ minimumStake: 10n * ONE_TOKEN });
    expect(ledger.staking.meetsMinimum(node)).toBe(false);
    expect(() => ledger.staking.requireMinimum(node)).toThrow(BelowMinimumStakeError);
    ledger.staking.stake({ node, owner: wallet, amount: 10n * ONE_TOKEN });
    expect(() => ledger.staking.requireMinimum(node)).not.toThrow();
  });
});

describe('withdrawals, genesis and mint', () => {
  it('a withdrawal locks its amount until settled (it leaves the ledger) or cancelled (it returns)', () => {
    const f = network();
    const a = f.ledger.withdrawals.request({ account: user, amount: 10n * ONE_TOKEN, to: wallet, key: 'w1' });
    const b = f.ledger.withdrawals.request({ account: user, amount: 5n * ONE_TOKEN, to: wallet });
    expect(
      f.ledger.withdrawals.request({ account: user, amount: 10n * ONE_TOKEN, to: wallet, key: 'w1' }),
    ).toMatchObject({ duplicate: true, withdrawal: { id: a.withdrawal.id } });
    expect(f.ledger.balance(user)).toBe(85n * ONE_TOKEN);
    expect(f.ledger.balance(WITHDRAWALS)).toBe(15n * ONE_TOKEN);
    f.restart();
    f.ledger.withdrawals.settle(a.withdrawal.id, '0xtx');
    f.ledger.withdrawals.cancel(b.withdrawal.id);
    expect(() => f.ledger.withdrawals.cancel(a.withdrawal.id)).toThrow(WithdrawalStateError);
    expect(
      f.ledger.withdrawals
        .list({ account: user })
        .map((w) => w.status)
        .sort(),
    ).toEqual(['cancelled', 'settled']);
    expect(f.ledger.balance(user)).toBe(90n * ONE_TOKEN);
    expect(f.ledger.verify()).toMatchObject({
      ok: true,
      genesis: 1150n * ONE_TOKEN,
      burned: 10n * ONE_TOKEN,
      supply: 1140n * ONE_TOKEN,
    });
  });

  it('genesis books once; mint works on test networks only', () => {
    const f = network();
    expect(f.ledger.genesis([{ account: user, amount: 1n }]).duplicate).toBe(true);
    expect(() => f.ledger.mint({ to: user, amount: ONE_TOKEN })).toThrow(MintDisabledError);
    const test = network({ allowMint: true });
    test.ledger.mint({ to: user, amount: ONE_TOKEN, key: 'mint:1' });
    test.ledger.mint({ to: user, amount: ONE_TOKEN, key: 'mint:1' });
    expect(test.ledger.verify()).toMatchObject({ ok: true, minted: ONE_TOKEN });
  });

  it('a crash before the group commit loses those bookings whole; the history stays consistent', () => {
    const f = network();
    f.ledger.flush();
    f.ledger.transfer({ from: user, to: wallet, amount: ONE_TOKEN, key: 'transfer:1' });
    f.ledger.escrows.open({ session: 'sess_1', owner: user, budget: ONE_TOKEN });
    const ledger = f.restart({ crash: true });
    expect(ledger.balance(user)).toBe(100n * ONE_TOKEN);
    expect(ledger.escrows.get('sess_1')).toBeUndefined();
    expect(ledger.transfer({ from: user, to: wallet, amount: ONE_TOKEN, key: 'transfer:1' }).duplicate).toBe(
      false,
    );
    expect(ledger.verify().ok).toBe(true);
  });

  it("books atomically inside the caller's transaction; after a rollback, reload() forgets the booking", () => {
    const f = network();
    f.ledger.flush();
    const resultAndPayment = f.db.transaction(() => {
      f.ledger.transfer({ from: user, to: wallet, amount: ONE_TOKEN, key: 'task:t1:payment' });
      f.ledger.flush();
      throw new Error('storing the result failed');
    });
    expect(() => resultAndPayment()).toThrow('storing the result failed');
    f.ledger.reload();
    expect(f.ledger.entry('task:t1:payment')).toBeUndefined();
    expect(f.ledger.balance(user)).toBe(100n * ONE_TOKEN);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('verify() catches a history edited behind its back', () => {
    const f = network();
    f.ledger.transfer({ from: user, to: wallet, amount: ONE_TOKEN });
    f.ledger.flush();
    f.db
      .prepare(
        `UPDATE ledger_postings SET amount = '2000000000000000000' WHERE account = ? AND amount = '1000000000000000000'`,
      )
      .run(wallet);
    const report = f.ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/does not balance[\s\S]*supply[\s\S]*cached balance/);
  });
});

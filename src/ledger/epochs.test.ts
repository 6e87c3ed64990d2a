import { afterEach, describe, expect, it } from 'vitest';
import { REWARDS } from './accounts.js';
import { ONE_TOKEN, parseAmount } from './amount.js';
import type { LedgerConfigInput } from './config.js';
import { EpochStateError } from './errors.js';
import type { NodeEpochInput } from './formulas.js';
import { address, LedgerFixture } from './testing.js';

const HOUR = 3_600_000;
const nodes = [address(1), address(2), address(3)];
const wallets = [address(11), address(12), address(13)];

const fixtures: LedgerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

function network(config: LedgerConfigInput, pool = 1000n * ONE_TOKEN) {
  const f = new LedgerFixture(config);
  fixtures.push(f);
  f.ledger.genesis([
    { account: REWARDS, amount: pool },
    ...wallets.map((account) => ({ account, amount: 100n * ONE_TOKEN })),
  ]);
  return f;
}

const input = (i: number, measured: Partial<NodeEpochInput>): NodeEpochInput => ({
  node: nodes[i] as string,
  account: wallets[i] as string,
  benchmark: 0,
  tasks: 0,
  uptimeMs: 0,
  speed: 0,
  ...measured,
});

describe('epoch rewards, seed 000 (OmniTensor)', () => {
  const config: LedgerConfigInput = {
    rewards: { formula: 'omnitensor', basePerHour: 10n * ONE_TOKEN, bonusPerTask: ONE_TOKEN / 10n },
  };

  it('pays (Base * Power) + (Bonus * Tasks) * Consistency per node and stores each node report', () => {
    const f = network(config);
    f.time += 2 * HOUR;
    const measured = [
      input(0, { benchmark: 200, tasks: 30, uptimeMs: 2 * HOUR }),
      input(1, { benchmark: 50, tasks: 10, uptimeMs: HOUR }),
      input(2, { benchmark: 0, tasks: 0, uptimeMs: 0 }),
    ];
    const report = f.ledger.epochs.close({ epoch: 1, nodes: measured });
    // Node 1: Base 20 x Power 1.0 + 0.1 x 30 x 1.5 = 24.5. Node 2: 20 x 0.25 + 0.1 x 10 x 1.25 = 6.25.
    expect(report.rewards.map((r) => r.amount)).toEqual([parseAmount('24.5'), parseAmount('6.25'), 0n]);
    expect(report).toMatchObject({
      epoch: 1,
      formula: 'omnitensor',
      total: parseAmount('30.75'),
      scaled: false,
    });
    expect(report.rewards[1]?.terms).toMatchObject({
      powerPpm: '250000',
      consistencyPpm: '1250000',
      tasks: '10',
    });
    expect(f.ledger.balance(wallets[0] as string)).toBe(parseAmount('124.5'));
    expect(f.ledger.epochs.current().epoch).toBe(2);

    // Closing again (a retried command, a restart) pays nothing more and returns the stored report.
    const again = f.restart().epochs.close({ epoch: 1, nodes: measured });
    expect(again.rewards.map((r) => [r.node, r.amount, r.inputs.tasks])).toEqual(
      report.rewards.map((r) => [r.node, r.amount, r.inputs.tasks]),
    );
    expect(f.ledger.balance(wallets[0] as string)).toBe(parseAmount('124.5'));
    expect(f.ledger.account(wallets[0] as string).earnedThisEpoch).toBe(0n);
    expect(f.ledger.epochs.rewardsOf(wallets[0] as string)[0]).toMatchObject({
      epoch: 1,
      amount: parseAmount('24.5'),
    });
    expect(() => f.ledger.epochs.close({ epoch: 5, nodes: [] })).toThrow(EpochStateError);
    expect(f.ledger.verify().ok).toBe(true);
  });

  it('scales every reward down alike when the pool cannot cover D(R); the remainder stays in the pool', () => {
    const f = network(config, 3n * ONE_TOKEN);
    f.time += HOUR;
    const report = f.ledger.epochs.close({
      epoch: 1,
      nodes: [input(0, { benchmark: 1, uptimeMs: HOUR }), input(1, { benchmark: 1, uptimeMs: HOUR })],
    });
    expect(report).toMatchObject({ total: 20n * ONE_TOKEN, paid: 3n * ONE_TOKEN, scaled: true });
    expect(report.rewards.map((r) => r.amount)).toEqual([parseAmount('1.5'), parseAmount('1.5')]);
    expect(f.ledger.balance(REWARDS)).toBe(0n);
  });
});

describe('epoch rewards, seed 001 (TensorChain)', () => {
  it('pays alpha * S(g) * eta, with S the stake held all epoch and eta speed over the median', () => {
    const f = network({ rewards: { formula: 'tensorchain', alphaPpmPerHour: 1000n } });
    f.ledger.staking.stake({
      node: nodes[0] as string,
      owner: wallets[0] as string,
      amount: 50n * ONE_TOKEN,
    });
    f.ledger.staking.stake({
      node: nodes[1] as string,
      owner: wallets[1] as string,
      amount: 20n * ONE_TOKEN,
    });
    f.ledger.epochs.close({ epoch: 1, nodes: [] }); // epoch 2 opens with these stakes
    // Staked during the epoch: does not count until the next one.
    f.ledger.staking.stake({
      node: nodes[2] as string,
      owner: wallets[2] as string,
      amount: 80n * ONE_TOKEN,
    });
    f.time += HOUR;
    const report = f.ledger.epochs.close({
      epoch: 2,
      nodes: [input(0, { speed: 30 }), input(1, { speed: 10 }), input(2, { speed: 20 })],
    });
    // Baseline = median speed 20. Node 1: 0.1 % x 50 x 1.5 = 0.075; node 2: 0.1 % x 20 x 0.5 = 0.01.
    expect(report.terms.speedBaselineMicro).toBe('20000000');
    expect(report.rewards.map((r) => r.amount)).toEqual([parseAmount('0.075'), parseAmount('0.01'), 0n]);
    expect(report.total).toBe(parseAmount('0.085'));
    expect(report.rewards[0]?.terms).toMatchObject({
      stake: (50n * ONE_TOKEN).toString(),
      etaPpm: '1500000',
    });
  });

  it('adds stake bonded on chain to S(g) and records it with the inputs', () => {
    const f = network({ rewards: { formula: 'tensorchain', alphaPpmPerHour: 1000n } });
    f.ledger.staking.stake({
      node: nodes[0] as string,
      owner: wallets[0] as string,
      amount: 50n * ONE_TOKEN,
    });
    f.ledger.epochs.close({ epoch: 1, nodes: [] });
    f.time += HOUR;
    const report = f.ledger.epochs.close({
      epoch: 2,
      nodes: [
        input(0, { speed: 20, chainStake: 30n * ONE_TOKEN }),
        input(1, { speed: 20, chainStake: 10n * ONE_TOKEN }),
      ],
    });
    // eta = 1 for both. Node 1: 0.1 % x (50 + 30) = 0.08; node 2 (chain stake only): 0.1 % x 10 = 0.01.
    expect(report.rewards.map((r) => r.amount)).toEqual([parseAmount('0.08'), parseAmount('0.01')]);
    expect(report.rewards[0]?.terms.stake).toBe((80n * ONE_TOKEN).toString());
    expect(report.rewards[1]?.inputs.chainStake).toBe((10n * ONE_TOKEN).toString());
    // The stored report reads back the same after a restart.
    expect(f.restart().epochs.report(2)?.rewards[1]?.inputs.chainStake).toBe((10n * ONE_TOKEN).toString());
  });
});

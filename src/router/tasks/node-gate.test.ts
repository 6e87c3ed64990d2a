import { afterEach, describe, expect, it } from 'vitest';
import { ONE_TOKEN } from '../../ledger/index.js';
import { address, LedgerFixture } from '../../ledger/testing.js';
import { EpochMeter } from './epoch-meter.js';
import { NodeGate } from './node-gate.js';
import { Scheduler } from './scheduler.js';

const fixtures: LedgerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

function setup(minimumStake: bigint) {
  const f = new LedgerFixture({ minimumStake, slashPpm: 500_000n });
  fixtures.push(f);
  const scheduler = new Scheduler({
    queueLimit: 10,
    maxAttempts: 3,
    leaseGraceMs: 1000,
  });
  scheduler.start({ assign: () => true, giveUp: () => {} });
  let now = 0;
  const meter = new EpochMeter(0, () => now);
  const gate = new NodeGate({ scheduler, ledger: f.ledger, meter, onWallet: () => {}, log: () => {} });
  const node = { id: address(7), slots: 1, models: new Map([['ab'.repeat(32), 100]]) };
  return { f, scheduler, meter, gate, node, tick: (ms: number) => (now += ms) };
}

describe('the node gate', () => {
  it('lets every node work when the network asks no stake', () => {
    const { scheduler, node } = setup(0n);
    scheduler.addNode(node);
    expect(scheduler.nodeCount).toBe(1);
  });

  it('keeps an under-staked node from work until it is staked, and takes it off when a slash drops it below', () => {
    const { f, scheduler, gate, node } = setup(10n * ONE_TOKEN);
    const owner = address(1);
    f.ledger.genesis([{ account: owner, amount: 100n * ONE_TOKEN }]);
    scheduler.addNode(node);
    expect(scheduler.nodeCount).toBe(0);
    expect(gate.parked()).toEqual([node.id]);
    f.ledger.staking.stake({ node: node.id, owner, amount: 10n * ONE_TOKEN });
    gate.refresh(node.id);
    expect(scheduler.nodeCount).toBe(1);
    f.ledger.staking.slash({ node: node.id, key: 'task:t:slash:1', validator: null });
    gate.refresh(node.id);
    expect(scheduler.nodeCount).toBe(0);
    scheduler.removeNode(node.id);
    expect(gate.parked()).toEqual([]);
  });

  it('measures uptime while a node can work; a claimed speed is no benchmark', () => {
    const { scheduler, meter, node, tick } = setup(0n);
    tick(1000);
    scheduler.addNode(node);
    tick(3000);
    scheduler.removeNode(node.id);
    const [input] = meter.inputs((id) => id, 4000);
    // The hello claimed 100 tokens/s, but the node did no work: its benchmark is what the router measured.
    expect(input).toMatchObject({ node: node.id, uptimeMs: 3000, benchmark: 0, tasks: 0 });
    meter.reset(4000);
    expect(meter.inputs((id) => id, 5000)).toEqual([]);
  });
});

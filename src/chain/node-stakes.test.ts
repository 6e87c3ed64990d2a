import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ONE_TOKEN } from '../ledger/amount.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import { EpochMeter } from '../router/tasks/epoch-meter.js';
import { NodeGate } from '../router/tasks/node-gate.js';
import { Scheduler } from '../router/tasks/scheduler.js';
import { ChainClient } from './client.js';
import { deployContracts } from './deploy.js';
import { startDevChain } from './dev-chain.js';
import { ChainLink } from './link.js';
import { chainNodeId, SlashForwarder } from './node-stakes.js';
import { freePort, linkSettings } from './testing.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("counts a node's confirmed NodeStaking stake at the gate, keeps it while the RPC is away, and sends the router's slash on chain once, after the RPC is back", async () => {
  const f = new LedgerFixture({ minimumStake: 10n * ONE_TOKEN, slashPpm: 500_000n });
  cleanups.push(() => f.dispose());
  // A dev chain kept in a folder (as `chain dev --db`), so it can stop and come back with its state.
  const port = await freePort();
  const dbPath = join(f.dir, 'chain-db');
  let chain = await startDevChain({ port, dbPath });
  cleanups.push(() => chain.close());
  const [admin, owner] = chain.accounts;
  if (!admin || !owner) throw new Error('no accounts');
  const deployment = await deployContracts({ rpc: chain.url, privateKey: admin.privateKey });
  const settings = linkSettings(f, chain.url, deployment, admin.privateKey);
  const logs: string[] = [];
  const link = new ChainLink({ ledger: f.ledger, log: (_l, m) => logs.push(m), settings });
  cleanups.push(() => link.stop());

  // The router's gate as server.ts wires it to a linked chain.
  const scheduler = new Scheduler({ queueLimit: 10, maxAttempts: 3, leaseGraceMs: 1000 });
  scheduler.start({ assign: () => true, giveUp: () => {} });
  const gate = new NodeGate({
    scheduler,
    ledger: f.ledger,
    meter: new EpochMeter(0),
    onWallet: () => {},
    log: () => {},
    chainStake: (id) => link.stakes.bonded(id),
  });
  link.stakes.onChange = (id) => gate.refresh(id);
  const node = { id: address(7), slots: 1, models: new Map([['ab'.repeat(32), 100]]) };
  scheduler.addNode(node);
  expect(gate.parked()).toEqual([node.id]);

  // The owner stakes 10 OMNIT on chain for the node (nothing in the ledger): the next round admits it.
  const ownerChain = new ChainClient({ deployment, privateKey: owner.privateKey });
  await new ChainClient({ deployment, privateKey: admin.privateKey }).write('token', 'transfer', [
    owner.address,
    10n * ONE_TOKEN,
  ]);
  await ownerChain.write('token', 'approve', [deployment.staking, 10n * ONE_TOKEN]);
  await ownerChain.write('staking', 'stake', [chainNodeId(node.id), 10n * ONE_TOKEN]);
  await link.round();
  expect(scheduler.nodeCount).toBe(1);
  expect(link.stakes.bonded(node.id)).toBe(10n * ONE_TOKEN);
  // For rewards it counts from the next epoch: bonded in this one, it could be unbonded right after the close.
  expect(link.stakes.leastThisEpoch(node.id)).toBe(0n);
  f.ledger.epochs.close({ epoch: f.ledger.epochs.current().epoch, nodes: [] });
  expect(link.stakes.leastThisEpoch(node.id)).toBe(10n * ONE_TOKEN);

  // The RPC goes away: the stake read fails, the node keeps its place, the ledger is untouched.
  await chain.close();
  await link.stakes.refresh().catch(() => undefined);
  expect(scheduler.nodeCount).toBe(1);
  expect(link.stakes.bonded(node.id)).toBe(10n * ONE_TOKEN);
  expect(f.ledger.balance(owner.address)).toBe(0n);

  // The router books a slash (50 %) while the RPC is away: the try fails and waits its backoff (a clock here).
  let clock = 0;
  const slashes = new SlashForwarder({
    client: new ChainClient({ deployment, privateKey: admin.privateKey, retry: { attempts: 1 } }),
    log: (_l, m) => logs.push(m),
    ppm: 500_000n,
    now: () => clock,
  });
  const key = `task:t1:slash:1:${node.id}`;
  slashes.forward({ key, node: node.id });
  expect(await slashes.send()).toBe(0);
  expect(slashes.pending).toBe(1);
  expect(logs).toContain('slash on chain failed; will retry');
  chain = await startDevChain({ port, dbPath });
  expect(await slashes.send()).toBe(0);
  clock += 200;
  expect(await slashes.send()).toBe(1);
  expect(slashes.pending).toBe(0);
  const stakeOf = () => ownerChain.read<{ bonded: bigint }>('staking', 'stakeOf', [chainNodeId(node.id)]);
  expect((await stakeOf()).bonded).toBe(5n * ONE_TOKEN);
  expect(logs).toContain('node slashed on chain');

  // The link (as after a restart, when payments.recover books recent verdicts again) forwards the same slash:
  // nothing more is taken; the node, now under the minimum on chain, is parked.
  link.slashes.forward({ key, node: node.id });
  await link.round();
  expect(link.slashes.pending).toBe(0);
  expect((await stakeOf()).bonded).toBe(5n * ONE_TOKEN);
  expect(scheduler.nodeCount).toBe(0);
  expect(gate.parked()).toEqual([node.id]);
  // The epoch's reward stake is the least it held: what the slash left.
  expect(link.stakes.leastThisEpoch(node.id)).toBe(5n * ONE_TOKEN);
  expect(f.ledger.verify().ok).toBe(true);
}, 60_000);

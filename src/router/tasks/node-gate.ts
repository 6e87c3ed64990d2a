import { formatAmount, type Ledger } from '../../ledger/index.js';
import type { Logger } from '../log.js';
import type { EpochMeter } from './epoch-meter.js';
import type { NodeInfo, Scheduler } from './scheduler.js';

export type NodeGateComponents = {
  scheduler: Scheduler;
  ledger: Ledger;
  meter: EpochMeter;
  /** Told of each node's payout wallet when it connects. */
  onWallet: (nodeId: string, wallet: string | null | undefined) => void;
  log: Logger;
  /** Stake a node has elsewhere (NodeStaking on a linked chain), counted with its ledger stake. */
  chainStake?: (nodeId: string) => bigint;
};

/**
 * Stands between the gateway and the scheduler (composition root only): a node whose bonded stake is below the
 * network's minimum stays connected but is not given to the scheduler, so it receives no work (and counts no
 * uptime) until it is staked; one slashed or unstaked below the minimum leaves the scheduler (its running tasks
 * go back to the queue). With no minimum (a local network) every node passes. Also feeds the epoch meter.
 */
export class NodeGate {
  readonly #c: NodeGateComponents;
  /** Nodes connected now (the gateway's view), admitted or not. */
  readonly #connected = new Map<string, NodeInfo>();
  readonly #parked = new Set<string>();
  readonly #add: (info: NodeInfo) => void;
  readonly #remove: (nodeId: string) => void;

  constructor(components: NodeGateComponents) {
    this.#c = components;
    const { scheduler } = components;
    this.#add = scheduler.addNode.bind(scheduler);
    this.#remove = scheduler.removeNode.bind(scheduler);
    // The gateway calls these on the scheduler; they pass through the gate.
    scheduler.addNode = (info) => this.#connect(info);
    scheduler.removeNode = (nodeId) => this.#disconnect(nodeId);
  }

  /** Whether a node may receive work: its bonded stake reaches the minimum (always, when the minimum is 0). */
  canReceiveWork(nodeId: string): boolean {
    const id = nodeId.toLowerCase();
    if (this.#c.ledger.staking.meetsMinimum(id)) return true;
    const onChain = this.#c.chainStake?.(id) ?? 0n;
    return (
      onChain > 0n && this.#c.ledger.staking.get(id).bonded + onChain >= this.#c.ledger.config.minimumStake
    );
  }

  /** Connected nodes kept from work for want of stake. */
  parked(): string[] {
    return [...this.#parked];
  }

  /** Call after a node's stake changed (stake, unstake, slash): admits or parks it. */
  refresh(nodeId: string): void {
    const id = nodeId.toLowerCase();
    const info = this.#connected.get(id);
    if (!info) return;
    const allowed = this.canReceiveWork(id);
    if (allowed && this.#parked.has(id)) {
      this.#parked.delete(id);
      this.#admit(info);
    } else if (!allowed && !this.#parked.has(id)) {
      this.#park(info);
      this.#remove(info.id);
    }
  }

  #connect(info: NodeInfo): void {
    const id = info.id.toLowerCase();
    this.#connected.set(id, info);
    this.#c.onWallet(info.id, info.wallet);
    if (this.canReceiveWork(id)) {
      this.#parked.delete(id);
      this.#admit(info);
    } else this.#park(info);
  }

  #disconnect(nodeId: string): void {
    const id = nodeId.toLowerCase();
    this.#connected.delete(id);
    this.#parked.delete(id);
    this.#c.meter.disconnected(id);
    this.#remove(nodeId);
  }

  #admit(info: NodeInfo): void {
    this.#add(info);
    this.#c.meter.connected(info);
  }

  #park(info: NodeInfo): void {
    const id = info.id.toLowerCase();
    this.#parked.add(id);
    this.#c.meter.disconnected(id);
    const stake = this.#c.ledger.staking.get(id);
    this.#c.log('warn', 'node is below the minimum stake and receives no work until staked', {
      node: id,
      bonded: formatAmount(stake.bonded),
      minimum: formatAmount(this.#c.ledger.config.minimumStake),
    });
  }
}

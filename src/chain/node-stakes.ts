import { type Hex, isAddress, keccak256, pad, toBytes } from 'viem';
import { NodeStaking } from './artifacts/index.js';
import type { ChainClient } from './client.js';
import { revertName, withRetry } from './retry.js';
import type { Log } from './vault-events.js';

/**
 * A router node id as NodeStaking's `bytes32` node: a node id that is an address (as nodes have) is that
 * address left-padded with zeros; any other id is the keccak256 of its lowercase text.
 */
export function chainNodeId(nodeId: string): Hex {
  const id = nodeId.toLowerCase();
  return isAddress(id, { strict: false }) ? pad(id as Hex, { size: 32 }) : keccak256(toBytes(id));
}

/** The evidence hash a router slash carries on chain: keccak256 of the ledger's slash key (unique per slash). */
export function slashEvidence(key: string): Hex {
  return keccak256(toBytes(key));
}

/**
 * NodeStaking's bonded stake of the nodes the router asks about, read at a confirmed block. `bonded(node)`
 * answers from memory (0 until the first read) and starts watching the node; `refresh` reads every watched
 * node again and calls `onChange` for each whose stake moved. When the RPC is away the last figures stay:
 * nothing here writes the ledger.
 */
export class StakeMirror {
  readonly #client: ChainClient;
  readonly #confirmations: bigint;
  readonly #stakes = new Map<string, bigint>();
  /** Each node's stake when the open epoch began (empty after a restart: stake counts from the next epoch). */
  #atEpochStart = new Map<string, bigint>();
  onChange: (nodeId: string) => void = () => {};

  constructor(p: { client: ChainClient; confirmations?: number | undefined }) {
    this.#client = p.client;
    this.#confirmations = BigInt(Math.max(1, p.confirmations ?? 1));
  }

  bonded(nodeId: string): bigint {
    const id = nodeId.toLowerCase();
    const known = this.#stakes.get(id);
    if (known === undefined) this.#stakes.set(id, 0n);
    return known ?? 0n;
  }

  /** A new reward epoch opened: the stakes seen now are its starting figures. */
  epochOpened(): void {
    this.#atEpochStart = new Map(this.#stakes);
  }

  /**
   * The stake a node held on chain through the open epoch: the least of its start and now, as the ledger does
   * for its own stake, so stake bonded just before a close and unbonded after earns nothing.
   */
  leastThisEpoch(nodeId: string): bigint {
    const id = nodeId.toLowerCase();
    const start = this.#atEpochStart.get(id) ?? 0n;
    const now = this.#stakes.get(id) ?? 0n;
    return start < now ? start : now;
  }

  async refresh(): Promise<void> {
    if (this.#stakes.size === 0) return;
    const latest = await withRetry(() => this.#client.public.getBlockNumber({ cacheTime: 0 }), {
      attempts: 1,
    });
    const blockNumber = latest - this.#confirmations + 1n;
    if (blockNumber < 0n) return;
    for (const [id, before] of [...this.#stakes]) {
      const s = (await this.#client.public.readContract({
        address: this.#client.deployment.staking,
        abi: NodeStaking.abi,
        functionName: 'stakeOf',
        args: [chainNodeId(id)],
        blockNumber,
      })) as { bonded: bigint };
      if (s.bonded === before) continue;
      this.#stakes.set(id, s.bonded);
      this.onChange(id);
    }
  }
}

type PendingSlash = { key: string; node: string; tries: number; nextAt: number };

/**
 * Sends each slash the router books to NodeStaking too, for the same share (`ppm`) of the node's stake on
 * chain, with the evidence hash of its ledger key. Exactly once: NodeStaking refuses an evidence hash it has
 * seen (`EvidenceUsed`), and each try first reads `evidenceUsed`, so a lost answer or a restart that forwards
 * the same slash again sends nothing twice. A failed try waits (200 ms, doubling, at most a minute) and is
 * tried again in a later round; nothing is dropped while the RPC is away.
 */
export class SlashForwarder {
  readonly #client: ChainClient;
  readonly #log: Log;
  readonly #ppm: bigint;
  readonly #pending = new Map<string, PendingSlash>();
  readonly #now: () => number;

  constructor(p: { client: ChainClient; log: Log; ppm: bigint; now?: () => number }) {
    this.#client = p.client;
    this.#log = p.log;
    this.#ppm = p.ppm;
    this.#now = p.now ?? Date.now;
  }

  /** Queues the slash booked under ledger key `key` for `node` (again is harmless). */
  forward(p: { key: string; node: string }): void {
    if (!this.#pending.has(p.key)) this.#pending.set(p.key, { ...p, tries: 0, nextAt: 0 });
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Tries every due slash once; returns how many were sent. */
  async send(): Promise<number> {
    let sent = 0;
    for (const s of [...this.#pending.values()]) {
      if (s.nextAt > this.#now()) continue;
      try {
        if (await this.#sendOne(s)) sent++;
        this.#pending.delete(s.key);
      } catch (error) {
        s.tries++;
        s.nextAt = this.#now() + Math.min(60_000, 200 * 2 ** (s.tries - 1));
        this.#log('warn', 'slash on chain failed; will retry', { key: s.key, error: String(error) });
      }
    }
    return sent;
  }

  async #sendOne(s: PendingSlash): Promise<boolean> {
    const evidence = slashEvidence(s.key);
    const node = chainNodeId(s.node);
    if (await this.#client.read<boolean>('staking', 'evidenceUsed', [evidence])) return false;
    const stake = await this.#client.read<{ bonded: bigint; unbonding: bigint }>('staking', 'stakeOf', [
      node,
    ]);
    const amount = ((stake.bonded + stake.unbonding) * this.#ppm) / 1_000_000n;
    if (amount === 0n) return false;
    try {
      const receipt = await this.#client.write('staking', 'slash', [node, amount, evidence]);
      this.#log('warn', 'node slashed on chain', {
        node: s.node,
        key: s.key,
        amount: amount.toString(),
        tx: receipt.transactionHash,
      });
      return true;
    } catch (error) {
      if (revertName(error) === 'EvidenceUsed') return false;
      throw error;
    }
  }
}

import { Vault } from './artifacts/index.js';
import type { ChainClient } from './client.js';
import { withRetry } from './retry.js';

export type Log = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export type VaultWatcherInit = {
  client: ChainClient;
  fromBlock: bigint;
  /** Blocks an event needs (its own included) before it counts; default 1. */
  confirmations?: number;
};

/**
 * The Vault's events of one name, read once they have enough confirmations, each range once: a scan goes on
 * from the block after the last one it finished. The deposit and withdrawal watchers read through it.
 */
export class ConfirmedVaultEvents<N extends 'Deposited' | 'Withdrawn'> {
  readonly #client: ChainClient;
  readonly #eventName: N;
  readonly #confirmations: bigint;
  #from: bigint;

  constructor(eventName: N, init: VaultWatcherInit) {
    this.#eventName = eventName;
    this.#client = init.client;
    this.#from = init.fromBlock;
    this.#confirmations = BigInt(Math.max(1, init.confirmations ?? 1));
  }

  /** Hands the confirmed events since the last scan to `handle`; the range counts as read once it returns. */
  async scan<T>(handle: (events: ConfirmedEvent[]) => Promise<T>, none: T): Promise<T> {
    const latest = await withRetry(() => this.#client.public.getBlockNumber(), { attempts: 1 });
    const to = latest - this.#confirmations + 1n;
    if (to < this.#from) return none;
    const events = await this.#client.public.getContractEvents({
      address: this.#client.deployment.vault,
      abi: Vault.abi,
      eventName: this.#eventName,
      fromBlock: this.#from,
      toBlock: to,
    });
    const result = await handle(
      events.map((e) => ({ args: e.args, transactionHash: e.transactionHash, logIndex: e.logIndex })),
    );
    this.#from = to + 1n;
    return result;
  }
}

/** What the watchers read of an event: its arguments and where it is (transaction hash, log index). */
export type ConfirmedEvent = { args: unknown; transactionHash: string; logIndex: number };

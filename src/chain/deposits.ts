import type { Ledger } from '../ledger/index.js';
import { Vault } from './artifacts/index.js';
import type { ChainClient } from './client.js';
import { withRetry } from './retry.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/**
 * Credits the ledger for the Vault's Deposited events once they have `confirmations` blocks (its own
 * included). Each is booked under `deposit:<transaction hash>:<log index>`, so the scan from the deployment
 * block that every start begins with books nothing twice.
 */
export class DepositWatcher {
  readonly #ledger: Ledger;
  readonly #client: ChainClient;
  readonly #log: Log;
  readonly #confirmations: bigint;
  #from: bigint;

  constructor(p: {
    ledger: Ledger;
    client: ChainClient;
    log: Log;
    fromBlock: bigint;
    confirmations?: number;
  }) {
    this.#ledger = p.ledger;
    this.#client = p.client;
    this.#log = p.log;
    this.#from = p.fromBlock;
    this.#confirmations = BigInt(Math.max(1, p.confirmations ?? 1));
  }

  /** Books the confirmed deposits since the last scan; returns how many were new. */
  async scan(): Promise<number> {
    const latest = await withRetry(() => this.#client.public.getBlockNumber(), { attempts: 1 });
    const to = latest - this.#confirmations + 1n;
    if (to < this.#from) return 0;
    const events = await this.#client.public.getContractEvents({
      address: this.#client.deployment.vault,
      abi: Vault.abi,
      eventName: 'Deposited',
      fromBlock: this.#from,
      toBlock: to,
    });
    let booked = 0;
    for (const e of events) {
      const { account, amount } = e.args as { account: string; amount: bigint };
      const key = `deposit:${e.transactionHash}:${e.logIndex}`;
      const { duplicate } = this.#ledger.deposit({ to: account, amount, key });
      if (!duplicate) {
        booked++;
        this.#log('info', 'deposit credited', { account, amount: amount.toString(), key });
      }
    }
    if (booked > 0) await this.#ledger.sync();
    this.#from = to + 1n;
    return booked;
  }
}

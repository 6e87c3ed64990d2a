import type { Ledger } from '../ledger/index.js';
import { ConfirmedVaultEvents, type Log, type VaultWatcherInit } from './vault-events.js';

/**
 * Credits the ledger for the Vault's Deposited events once they have `confirmations` blocks (its own
 * included). Each is booked under `deposit:<transaction hash>:<log index>`, so the scan from the deployment
 * block that every start begins with books nothing twice.
 */
export class DepositWatcher {
  readonly #ledger: Ledger;
  readonly #log: Log;
  readonly #events: ConfirmedVaultEvents<'Deposited'>;

  constructor(p: VaultWatcherInit & { ledger: Ledger; log: Log }) {
    this.#ledger = p.ledger;
    this.#log = p.log;
    this.#events = new ConfirmedVaultEvents('Deposited', p);
  }

  /** Books the confirmed deposits since the last scan; returns how many were new. */
  async scan(): Promise<number> {
    return this.#events.scan(async (events) => {
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
      return booked;
    }, 0);
  }
}

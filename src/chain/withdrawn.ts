import type { Ledger } from '../ledger/index.js';
import { ConfirmedVaultEvents, type Log, type VaultWatcherInit } from './vault-events.js';

/** The note a ledger withdrawal carries while its Vault voucher is out (and the start of its settlement). */
export function voucherNote(id: string): string {
  return `vault voucher ${id}`;
}

/** The hold note of a withdrawal whose voucher is out: `vault voucher <id> until <deadline, unix seconds>`. */
export function heldVoucherNote(id: string, deadline: bigint): string {
  return `${voucherNote(id)} until ${deadline}`;
}

/** The deadline of a withdrawal's voucher, read from its hold; undefined when it is not held for one. */
export function heldVoucherDeadline(id: string, settlement: string | null): bigint | undefined {
  const until = settlement?.startsWith(`held: ${voucherNote(id)} until `)
    ? settlement.split(' ').pop()
    : undefined;
  return until && /^\d+$/.test(until) ? BigInt(until) : undefined;
}

/** The ledger withdrawal a voucher nonce pays: the nonce is the id's 80 bits (see `withdrawalNonce`). */
export function withdrawalOfNonce(nonce: bigint): string {
  return `wd_${nonce.toString(16).padStart(20, '0')}`;
}

/**
 * Settles a ledger withdrawal when the Vault's `Withdrawn` event for its voucher has `confirmations` blocks:
 * until then it stays pending (held), since a voucher signed but never cashed is not money gone. Each event is
 * named in the settlement by transaction hash and log index; the withdrawal settles once (its settle key), so
 * the rescan from the deployment block at each start books nothing twice.
 */
export class WithdrawnWatcher {
  readonly #ledger: Ledger;
  readonly #log: Log;
  readonly #events: ConfirmedVaultEvents<'Withdrawn'>;

  constructor(p: VaultWatcherInit & { ledger: Ledger; log: Log }) {
    this.#ledger = p.ledger;
    this.#log = p.log;
    this.#events = new ConfirmedVaultEvents('Withdrawn', p);
  }

  /** Settles the withdrawals whose vouchers were cashed (confirmed) since the last scan; returns how many. */
  async scan(): Promise<number> {
    return this.#events.scan(async (events) => {
      let settled = 0;
      for (const e of events) {
        const { account, amount, nonce } = e.args as { account: string; amount: bigint; nonce: bigint };
        const id = withdrawalOfNonce(nonce);
        const w = this.#ledger.withdrawals.get(id);
        const note = voucherNote(id);
        if (w?.status !== 'pending') continue;
        const held = w.settlement === `held: ${note}` || heldVoucherDeadline(id, w.settlement) !== undefined;
        if (!held || w.amount !== amount || w.to !== account.toLowerCase()) {
          // Only the router's key signs vouchers, so this is a key used elsewhere: say so, settle nothing.
          this.#log('error', 'a Vault payout matches no voucher this router signed', {
            withdrawal: id,
            account,
            amount: amount.toString(),
            tx: e.transactionHash,
          });
          continue;
        }
        this.#ledger.withdrawals.settle(id, `${note} tx ${e.transactionHash}:${e.logIndex}`, { held: true });
        settled++;
        this.#log('info', 'voucher paid; withdrawal settled', { withdrawal: id, tx: e.transactionHash });
      }
      if (settled > 0) await this.#ledger.sync();
      return settled;
    }, 0);
  }
}

import type { Ledger } from '../ledger/index.js';
import { Vault } from './artifacts/index.js';
import type { ChainClient } from './client.js';
import { withRetry } from './retry.js';
import type { Log } from './vault-events.js';
import { withdrawalNonce } from './vouchers.js';
import { heldVoucherDeadline } from './withdrawn.js';

/**
 * Gives back a withdrawal whose voucher expired unused: once a block with `confirmations` (its own included)
 * is past the voucher's deadline and the Vault had not used its nonce by that block, no voucher can pay it any
 * more (the Vault refuses one after its deadline), so the hold is cancelled and the amount returns to the
 * account, once (the ledger's cancel key). A voucher cashed in time is left to the Withdrawn watcher.
 */
export class VoucherExpiry {
  readonly #ledger: Ledger;
  readonly #client: ChainClient;
  readonly #log: Log;
  readonly #confirmations: bigint;

  constructor(p: { ledger: Ledger; client: ChainClient; log: Log; confirmations?: number | undefined }) {
    this.#ledger = p.ledger;
    this.#client = p.client;
    this.#log = p.log;
    this.#confirmations = BigInt(Math.max(1, p.confirmations ?? 1));
  }

  /** Releases the expired, unused vouchers' withdrawals; returns how many. */
  async scan(): Promise<number> {
    const held = this.#ledger.withdrawals
      .list({ status: 'pending', limit: 10_000 })
      .map((w) => ({ w, deadline: heldVoucherDeadline(w.id, w.settlement) }))
      .filter((h): h is { w: (typeof h)['w']; deadline: bigint } => h.deadline !== undefined);
    if (held.length === 0) return 0;
    const pub = this.#client.public;
    const latest = await withRetry(() => pub.getBlockNumber({ cacheTime: 0 }), { attempts: 1 });
    const blockNumber = latest - this.#confirmations + 1n;
    if (blockNumber < 0n) return 0;
    const { timestamp } = await pub.getBlock({ blockNumber });
    let released = 0;
    for (const { w, deadline } of held) {
      if (timestamp <= deadline) continue;
      const used = await pub.readContract({
        address: this.#client.deployment.vault,
        abi: Vault.abi,
        functionName: 'isNonceUsed',
        args: [withdrawalNonce(w.id)],
        blockNumber,
      });
      if (used) continue;
      const { duplicate } = this.#ledger.withdrawals.cancel(w.id, { held: true });
      if (duplicate) continue;
      released++;
      this.#log('info', 'voucher expired unused; withdrawal released to its account', {
        withdrawal: w.id,
        deadline: deadline.toString(),
      });
    }
    if (released > 0) await this.#ledger.sync();
    return released;
  }
}

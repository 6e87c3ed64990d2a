import type { Hex } from 'viem';
import type { EpochReport, Ledger } from '../ledger/index.js';
import type { ChainClient } from './client.js';
import { buildRewardTree, type RewardTree, reportHash } from './merkle.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** An epoch's reward tree as the ledger's stored report gives it. */
export function treeOfReport(report: EpochReport): RewardTree {
  return buildRewardTree(report.epoch, report.rewards);
}

/** The report hash posted with an epoch's root. */
export function hashOfReport(report: EpochReport): Hex {
  return reportHash(report.epoch, report.rewards);
}

/**
 * Anchors closed epochs to the chain: posts each closed epoch's root (oldest first), then books in the
 * ledger that the epoch's rewards moved on chain. Nothing is booked before the root's receipt; when the RPC
 * is away the next round tries again, and a restart finds where it stopped from the chain and the ledger's
 * idempotency keys.
 */
export class EpochAnchor {
  readonly client: ChainClient;
  readonly #ledger: Ledger;
  readonly #log: Log;
  #next = 1;

  constructor(p: { ledger: Ledger; client: ChainClient; log: Log }) {
    this.#ledger = p.ledger;
    this.client = p.client;
    this.#log = p.log;
  }

  /** Anchors the closed epochs from the last one done; stops at the first failure, to retry next round. */
  async anchorClosed(): Promise<void> {
    const open = this.#ledger.epochs.current().epoch;
    for (; this.#next < open; this.#next++) {
      const report = this.#ledger.epochs.report(this.#next);
      if (!report) continue;
      try {
        await this.anchor(report);
      } catch (error) {
        this.#log('warn', 'epoch root not posted yet; will retry', {
          epoch: report.epoch,
          error: String(error),
        });
        return;
      }
    }
  }

  /** Posts one epoch's root (once) and, after its receipt, books the rewards as moved on chain (once). */
  async anchor(report: EpochReport): Promise<void> {
    const tree = treeOfReport(report);
    if (tree.leaves.length === 0) return;
    const tx = await this.client.postRoot(report.epoch, tree.root, hashOfReport(report), tree.total);
    if (tx !== 'already')
      this.#log('info', 'epoch root posted', { epoch: report.epoch, root: tree.root, tx });
    for (const leaf of tree.leaves) {
      // The reward now lives in the root: it leaves the ledger as a withdrawal settled on chain, so the same
      // tokens cannot be spent both here and in the account's wallet.
      const key = `epoch:${report.epoch}:onchain:${leaf.account.toLowerCase()}`;
      try {
        const { withdrawal } = this.#ledger.withdrawals.request({
          account: leaf.account,
          amount: leaf.amount,
          to: leaf.account,
          key,
        });
        if (withdrawal.status === 'pending')
          this.#ledger.withdrawals.settle(withdrawal.id, `epoch ${report.epoch} root ${tree.root}`);
      } catch (error) {
        this.#log('error', 'a reward on chain could not be taken out of the ledger', {
          epoch: report.epoch,
          account: leaf.account,
          error: String(error),
        });
      }
    }
    await this.#ledger.sync();
  }
}

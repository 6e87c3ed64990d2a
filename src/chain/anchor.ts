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

/** The idempotency key of the withdrawal that takes an account's epoch reward out of the ledger. */
export function onChainKey(epoch: number, account: string): string {
  return `epoch:${epoch}:onchain:${account.toLowerCase()}`;
}

/** Where one epoch stands: its reward moved on chain or back, or its root still in the challenge window. */
export type AnchorState = 'done' | 'waiting';

/**
 * Anchors closed epochs to the chain. Each leaf's reward is held in the ledger as a pending withdrawal as the
 * epoch closes (`attach`), so it cannot be spent while the root is on its way; the root is posted (oldest
 * epoch first); once it is final (its challenge window passed) the held withdrawals are settled, and if the
 * owner vetoed it they go back to their accounts. Nothing is settled before the root's receipt; when the RPC is
 * away the next round tries again, and a restart finds where it stopped from the chain and the ledger's
 * idempotency keys.
 */
export class EpochAnchor {
  readonly client: ChainClient;
  readonly #ledger: Ledger;
  readonly #log: Log;
  #next = 1;
  #window: bigint | undefined;

  constructor(p: { ledger: Ledger; client: ChainClient; log: Log }) {
    this.#ledger = p.ledger;
    this.client = p.client;
    this.#log = p.log;
  }

  /**
   * Holds every closed epoch's rewards not yet held (those closed before this router was linked), then each
   * new epoch's as it closes, in the same group commit as its reward entries. Returns a function that stops it.
   */
  attach(): () => void {
    const open = this.#ledger.epochs.current().epoch;
    for (let epoch = 1; epoch < open; epoch++) {
      const report = this.#ledger.epochs.report(epoch);
      if (report) this.reserve(report);
    }
    return this.#ledger.epochs.onClose((report) => this.reserve(report));
  }

  /** Holds each leaf's reward as a pending withdrawal (once per key; a spent reward is logged, not held). */
  reserve(report: EpochReport): void {
    for (const leaf of treeOfReport(report).leaves) {
      try {
        this.#ledger.withdrawals.request({
          account: leaf.account,
          amount: leaf.amount,
          to: leaf.account,
          key: onChainKey(report.epoch, leaf.account),
          hold: `epoch ${report.epoch} reward, claimable on chain once its root is final`,
        });
      } catch (error) {
        this.#log('error', 'a reward for the chain could not be held in the ledger', {
          epoch: report.epoch,
          account: leaf.account,
          error: String(error),
        });
      }
    }
  }

  /** Anchors the closed epochs from the first not done; stops at the first failure, to retry next round. */
  async anchorClosed(): Promise<void> {
    const open = this.#ledger.epochs.current().epoch;
    let waiting: number | undefined;
    let epoch = this.#next;
    for (; epoch < open; epoch++) {
      const report = this.#ledger.epochs.report(epoch);
      if (!report) continue;
      try {
        if ((await this.anchor(report)) === 'waiting') waiting ??= epoch;
      } catch (error) {
        this.#log('warn', 'epoch root not posted yet; will retry', {
          epoch: report.epoch,
          error: String(error),
        });
        break;
      }
    }
    this.#next = waiting ?? epoch;
  }

  /**
   * Posts one epoch's root (once, never again after a veto); when it is final, settles the held rewards
   * (booking them first if the epoch closed without a hold); when vetoed, releases them to their accounts.
   */
  async anchor(report: EpochReport): Promise<AnchorState> {
    const tree = treeOfReport(report);
    if (tree.leaves.length === 0) return 'done';
    let posted = await this.client.epochRoot(report.epoch);
    if (posted.postedAt === 0n) {
      const tx = await this.client.postRoot(report.epoch, tree.root, hashOfReport(report), tree.total);
      if (tx !== 'already')
        this.#log('info', 'epoch root posted', { epoch: report.epoch, root: tree.root, tx });
      posted = await this.client.epochRoot(report.epoch);
    }
    if (posted.vetoed) {
      this.#release(report, tree);
    } else {
      if (posted.root !== tree.root)
        throw new Error(`epoch ${report.epoch} has another root on chain: ${posted.root}`);
      this.#window ??= await this.client.challengeWindow();
      if ((await this.client.chainTime()) < posted.postedAt + this.#window) return 'waiting';
      this.#settle(report, tree);
    }
    await this.#ledger.sync();
    return 'done';
  }

  #settle(report: EpochReport, tree: RewardTree): void {
    for (const leaf of tree.leaves) {
      // The reward now lives in the root: it leaves the ledger (to burn), so the same tokens cannot be spent
      // both here and in the account's wallet. An epoch closed before the link was made has no hold yet.
      try {
        const { withdrawal } = this.#ledger.withdrawals.request({
          account: leaf.account,
          amount: leaf.amount,
          to: leaf.account,
          key: onChainKey(report.epoch, leaf.account),
        });
        if (withdrawal.status === 'pending')
          this.#ledger.withdrawals.settle(withdrawal.id, `epoch ${report.epoch} root ${tree.root}`, {
            held: true,
          });
      } catch (error) {
        this.#log('error', 'a reward on chain could not be taken out of the ledger', {
          epoch: report.epoch,
          account: leaf.account,
          error: String(error),
        });
      }
    }
  }

  /** A vetoed root pays nobody: the held rewards go back to their accounts (the ledger stays the record). */
  #release(report: EpochReport, tree: RewardTree): void {
    for (const leaf of tree.leaves) {
      const key = onChainKey(report.epoch, leaf.account);
      if (!this.#ledger.entry(key)) continue;
      const { withdrawal } = this.#ledger.withdrawals.request({
        account: leaf.account,
        amount: leaf.amount,
        to: leaf.account,
        key,
      });
      if (withdrawal.status === 'pending') {
        this.#ledger.withdrawals.cancel(withdrawal.id, { held: true });
        this.#log('warn', 'epoch root vetoed; its reward is back in the ledger', {
          epoch: report.epoch,
          account: leaf.account,
        });
      }
    }
  }
}

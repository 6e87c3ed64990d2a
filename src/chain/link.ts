import { readFileSync } from 'node:fs';
import { getAddress, type Hex } from 'viem';
import { type Ledger, WithdrawalStateError } from '../ledger/index.js';
import { EpochAnchor } from './anchor.js';
import { ChainClient } from './client.js';
import type { Deployment } from './deploy.js';
import { DepositWatcher } from './deposits.js';
import { readKeyFile } from './key-file.js';
import { SlashForwarder, StakeMirror } from './node-stakes.js';
import { VoucherExpiry } from './voucher-expiry.js';
import { signVoucher, withdrawalNonce } from './vouchers.js';
import { heldVoucherDeadline, heldVoucherNote, voucherNote, WithdrawnWatcher } from './withdrawn.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** How a router finds its chain: `router start --chain-rpc URL --chain-deployment FILE --chain-key-file F`. */
export type ChainLinkSettings = {
  rpc: string;
  deploymentFile: string;
  keyFile: string;
  /** Blocks a deposit needs (its own included) before it is credited; default 1 (the dev chain). */
  confirmations?: number | undefined;
};

/** A router's link to its chain: posts closed epochs' roots and credits confirmed deposits, on a timer. */
export class ChainLink {
  readonly client: ChainClient;
  readonly anchor: EpochAnchor;
  readonly deposits: DepositWatcher;
  readonly withdrawn: WithdrawnWatcher;
  /** NodeStaking's confirmed stake of the nodes the router asks about (gate and checker draw). */
  readonly stakes: StakeMirror;
  /** The router's slashes, sent to NodeStaking too. */
  readonly slashes: SlashForwarder;
  /** Releases the withdrawals of vouchers that expired unused. */
  readonly expiry: VoucherExpiry;
  /** How long a voucher is valid (seconds from its first signing; default a day). */
  voucherSeconds = 86_400;
  readonly #ledger: Ledger;
  readonly #log: Log;
  readonly #key: Hex;
  readonly #detach: () => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(p: { ledger: Ledger; log: Log; settings: ChainLinkSettings }) {
    let deployment: Deployment;
    try {
      deployment = JSON.parse(readFileSync(p.settings.deploymentFile, 'utf8')) as Deployment;
    } catch (error) {
      throw new Error(
        `Cannot read the deployment file ${p.settings.deploymentFile} (${(error as Error).message}).`,
      );
    }
    this.#key = readKeyFile(p.settings.keyFile);
    this.client = new ChainClient({ deployment, rpc: p.settings.rpc, privateKey: this.#key });
    this.anchor = new EpochAnchor({ ledger: p.ledger, client: this.client, log: p.log });
    // From now on each epoch's rewards are held for their root as the epoch closes (see EpochAnchor.attach).
    this.#detach = this.anchor.attach();
    this.deposits = new DepositWatcher({
      ledger: p.ledger,
      client: this.client,
      log: p.log,
      fromBlock: BigInt(deployment.blockNumber ?? 0),
      ...(p.settings.confirmations === undefined ? {} : { confirmations: p.settings.confirmations }),
    });
    this.withdrawn = new WithdrawnWatcher({
      ledger: p.ledger,
      client: this.client,
      log: p.log,
      fromBlock: BigInt(deployment.blockNumber ?? 0),
      ...(p.settings.confirmations === undefined ? {} : { confirmations: p.settings.confirmations }),
    });
    this.stakes = new StakeMirror({ client: this.client, confirmations: p.settings.confirmations });
    p.ledger.epochs.onClose(() => this.stakes.epochOpened());
    this.slashes = new SlashForwarder({ client: this.client, log: p.log, ppm: p.ledger.config.slashPpm });
    this.expiry = new VoucherExpiry({
      ledger: p.ledger,
      client: this.client,
      log: p.log,
      confirmations: p.settings.confirmations,
    });
    this.#ledger = p.ledger;
    this.#log = p.log;
  }

  /**
   * The Vault voucher of a ledger withdrawal. A pending one is held for the voucher (no cancel, no other
   * settlement) and stays pending until the Vault's Withdrawn event settles it; asking again re-signs the same
   * nonce with a new deadline. Cancelled, held for something else, or settled another way: 409.
   */
  async issueVoucher(w: {
    id: string;
    to: string;
    amount: bigint;
    status: string;
    settlement: string | null;
  }) {
    const note = voucherNote(w.id);
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (w.status === 'pending' && w.settlement !== `held: ${note}`) {
      // The first voucher fixes the deadline in the hold; asking again re-signs that same voucher, so the
      // withdrawal can be released once it passed (VoucherExpiry) and no later voucher can pay after that.
      const deadline = heldVoucherDeadline(w.id, w.settlement) ?? now + BigInt(this.voucherSeconds);
      if (deadline < now)
        throw new WithdrawalStateError(
          w.id,
          `held: its voucher expired at ${deadline}; it returns to the balance once the chain confirms it unused`,
        );
      this.#ledger.withdrawals.hold(w.id, heldVoucherNote(w.id, deadline));
      await this.#ledger.sync();
      return this.voucher(w, deadline);
    }
    // Held before deadlines were kept (no release), or settled by the Vault: sign with a fresh deadline.
    if (w.status === 'settled' ? !w.settlement?.startsWith(note) : w.status !== 'pending')
      throw new WithdrawalStateError(w.id, w.status);
    return this.voucher(w, now + BigInt(this.voucherSeconds));
  }

  /** Signs the Vault voucher of a ledger withdrawal: its nonce comes from its id, so only one voucher pays. */
  voucher(w: { id: string; to: string; amount: bigint }, deadline: bigint) {
    const voucher = {
      account: getAddress(w.to),
      amount: w.amount,
      nonce: withdrawalNonce(w.id),
      deadline,
    };
    const { chainId, vault } = this.client.deployment;
    return signVoucher({ privateKey: this.#key, chainId, vault, voucher }).then((signature) => ({
      ...voucher,
      signature,
    }));
  }

  /** One round: anchor closed epochs, credit deposits, settle cashed vouchers; a failure waits for the next round. */
  async round(): Promise<void> {
    await this.anchor.anchorClosed();
    try {
      await this.deposits.scan();
    } catch (error) {
      this.#log('warn', 'deposit scan failed; will retry', { error: String(error) });
    }
    try {
      await this.withdrawn.scan();
    } catch (error) {
      this.#log('warn', 'Vault payout scan failed; will retry', { error: String(error) });
    }
    try {
      await this.expiry.scan();
    } catch (error) {
      this.#log('warn', 'voucher expiry scan failed; will retry', { error: String(error) });
    }
    try {
      await this.stakes.refresh();
    } catch (error) {
      this.#log('warn', 'NodeStaking read failed; keeping the last stakes', { error: String(error) });
    }
    await this.slashes.send();
  }

  start(intervalMs = 500): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.round().finally(() => {
        this.#running = undefined;
      });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#detach();
    await this.#running;
  }
}

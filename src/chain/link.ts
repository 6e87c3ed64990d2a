import { readFileSync } from 'node:fs';
import { getAddress, type Hex } from 'viem';
import { type Ledger, WithdrawalStateError } from '../ledger/index.js';
import { EpochAnchor } from './anchor.js';
import { ChainClient } from './client.js';
import type { Deployment } from './deploy.js';
import { DepositWatcher } from './deposits.js';
import { readKeyFile } from './key-file.js';
import { SlashForwarder, StakeMirror } from './node-stakes.js';
import { signVoucher, withdrawalNonce } from './vouchers.js';
import { voucherNote, WithdrawnWatcher } from './withdrawn.js';

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
    this.slashes = new SlashForwarder({ client: this.client, log: p.log, ppm: p.ledger.config.slashPpm });
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
    if (w.status === 'pending') {
      this.#ledger.withdrawals.hold(w.id, note);
      await this.#ledger.sync();
    } else if (w.status !== 'settled' || !w.settlement?.startsWith(note)) {
      throw new WithdrawalStateError(w.id, w.status);
    }
    return this.voucher(w);
  }

  /** Signs the Vault voucher of a ledger withdrawal: its nonce comes from its id, so only one voucher pays. */
  voucher(w: { id: string; to: string; amount: bigint }, validForSeconds = 86_400) {
    const voucher = {
      account: getAddress(w.to),
      amount: w.amount,
      nonce: withdrawalNonce(w.id),
      deadline: BigInt(Math.floor(Date.now() / 1000) + validForSeconds),
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

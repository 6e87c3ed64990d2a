import { randomUUID } from 'node:crypto';
import type { StakeRecord, Unbonding } from '../store/index.js';
import { normalizeAddress, stakeAccount, TREASURY, unbondingAccount } from './accounts.js';
import { checkAmount, minAmount, PPM } from './amount.js';
import { type Booking, checkKey, type LedgerCore } from './core.js';
import { BelowMinimumStakeError, InsufficientStakeError, StakeOwnerError } from './errors.js';

/** A node's stake: `bonded` counts (rewards, minimum); `unbonding` waits out its period; both are slashable. */
export type StakeView = {
  node: string;
  owner: string | null;
  bonded: bigint;
  unbonding: bigint;
  unbondings: Unbonding[];
  meetsMinimum: boolean;
};

export type SlashResult = Booking & { amount: bigint; validatorShare: bigint; treasuryShare: bigint };

/**
 * Stakes per node (one node per GPU, seeds 001 and 002). Staking moves tokens from the owner to
 * `stake:<node>`; unstaking moves them to `unbonding:<node>`, and after the unbonding period `release` returns
 * them to the owner. A node's stake has one owner (the first to stake on it) until it is fully released.
 */
export class Staking {
  readonly #core: LedgerCore;

  constructor(core: LedgerCore) {
    this.#core = core;
  }

  /** Bonds `amount` from `owner`'s balance on `node` (402 when the balance falls short). */
  stake(p: { node: string; owner: string; amount: bigint; key?: string }): Booking {
    const key = checkKey(p.key ?? `stake:${randomUUID()}`);
    const core = this.#core;
    const existing = core.existing(key);
    if (existing) return { entry: existing, duplicate: true };
    const node = normalizeAddress(p.node, 'node');
    const owner = normalizeAddress(p.owner, 'owner');
    const amount = checkAmount(p.amount);
    let record = core.stakes.get(node);
    if (record && record.owner !== owner && this.#total(record) > 0n)
      throw new StakeOwnerError(node, record.owner);
    const entry = core.book(key, 'stake', `node:${node}`, [
      { account: owner, amount: -amount },
      { account: stakeAccount(node), amount },
    ]);
    if (!record || record.owner !== owner) {
      record = { node, owner, unbondings: record?.unbondings ?? [] };
      core.stakes.set(node, record);
      core.saveStake(record);
    }
    return { entry, duplicate: false };
  }

  /** Starts unbonding `amount` of the node's bonded stake; it returns to the owner after `unbondingMs`. */
  unstake(p: { node: string; owner: string; amount: bigint; key?: string }): Booking & { releaseAt: number } {
    const key = checkKey(p.key ?? `unstake:${randomUUID()}`);
    const core = this.#core;
    const existing = core.existing(key);
    if (existing)
      return { entry: existing, duplicate: true, releaseAt: existing.at + core.config.unbondingMs };
    const node = normalizeAddress(p.node, 'node');
    const owner = normalizeAddress(p.owner, 'owner');
    const amount = checkAmount(p.amount);
    const record = core.stakes.get(node);
    const bonded = core.balance(stakeAccount(node));
    if (record && record.owner !== owner) throw new StakeOwnerError(node, record.owner);
    if (!record || amount > bonded) throw new InsufficientStakeError(node, amount, bonded);
    const entry = core.book(key, 'unbond', `node:${node}`, [
      { account: stakeAccount(node), amount: -amount },
      { account: unbondingAccount(node), amount },
    ]);
    const releaseAt = entry.at + core.config.unbondingMs;
    record.unbondings.push({ id: `unb_${entry.seq}`, amount, releaseAt });
    core.saveStake(record);
    return { entry, duplicate: false, releaseAt };
  }

  /** Returns every unbonding amount whose period has ended to its owner; the router calls it on a timer. */
  release(now = this.#core.now()): Booking[] {
    const core = this.#core;
    const bookings: Booking[] = [];
    for (const record of core.stakes.values()) {
      const due = record.unbondings.filter((u) => u.releaseAt <= now);
      if (due.length === 0) continue;
      for (const u of due) {
        if (u.amount === 0n) continue;
        const entry = core.book(
          `unbonding:${record.node}:${u.id}:release`,
          'unstake',
          `node:${record.node}`,
          [
            { account: unbondingAccount(record.node), amount: -u.amount },
            { account: record.owner, amount: u.amount },
          ],
        );
        bookings.push({ entry, duplicate: false });
      }
      record.unbondings = record.unbondings.filter((u) => u.releaseAt > now);
      core.saveStake(record);
    }
    return bookings;
  }

  /**
   * Slashes the configured share of a node's stake (bonded first, then the newest unbonding amounts) after a
   * failed verdict: the validator's share to `validator`, the rest to the treasury. Once per `key`
   * (e.g. `task:<id>:slash`); a node with no stake books an empty entry, so the verdict is still on record.
   */
  slash(p: { node: string; key: string; validator?: string | null; reference?: string }): SlashResult {
    const key = checkKey(p.key);
    const core = this.#core;
    const node = normalizeAddress(p.node, 'node');
    const existing = core.existing(key);
    if (existing) {
      const taken = existing.postings.filter((x) => x.amount < 0n).reduce((sum, x) => sum - x.amount, 0n);
      const treasuryShare = existing.postings.find((x) => x.account === TREASURY)?.amount ?? 0n;
      return {
        entry: existing,
        duplicate: true,
        amount: taken,
        validatorShare: taken - treasuryShare,
        treasuryShare,
      };
    }
    const validator = p.validator ? normalizeAddress(p.validator, 'validator') : null;
    const record = core.stakes.get(node);
    const bonded = core.balance(stakeAccount(node));
    const total = record ? this.#total(record) : 0n;
    const amount = (total * core.config.slashPpm) / PPM;
    const fromBonded = minAmount(amount, bonded);
    const validatorShare = validator ? (amount * core.config.slashValidatorPpm) / PPM : 0n;
    const treasuryShare = amount - validatorShare;
    const postings = [
      { account: stakeAccount(node), amount: -fromBonded },
      { account: unbondingAccount(node), amount: fromBonded - amount },
      { account: TREASURY, amount: treasuryShare },
    ];
    if (validator) postings.push({ account: validator, amount: validatorShare });
    const entry = core.book(key, 'slash', p.reference ?? `node:${node}`, postings);
    if (record && amount > fromBonded) {
      // The unbonding records must keep summing to the unbonding balance: take from the newest first.
      let rest = amount - fromBonded;
      for (const u of [...record.unbondings].sort((a, b) => b.releaseAt - a.releaseAt)) {
        const take = minAmount(u.amount, rest);
        u.amount -= take;
        rest -= take;
      }
      record.unbondings = record.unbondings.filter((u) => u.amount > 0n);
      core.saveStake(record);
    }
    return { entry, duplicate: false, amount, validatorShare, treasuryShare };
  }

  /** A node's stake as it stands (pending bookings included). */
  get(node: string): StakeView {
    const id = normalizeAddress(node, 'node');
    const record = this.#core.stakes.get(id);
    const bonded = this.#core.balance(stakeAccount(id));
    return {
      node: id,
      owner: record?.owner ?? null,
      bonded,
      unbonding: this.#core.balance(unbondingAccount(id)),
      unbondings: record ? record.unbondings.map((u) => ({ ...u })) : [],
      meetsMinimum: bonded >= this.#core.config.minimumStake,
    };
  }

  /** Whether the node may receive work: its bonded stake reaches the configured minimum. */
  meetsMinimum(node: string): boolean {
    return this.#core.balance(stakeAccount(node.toLowerCase())) >= this.#core.config.minimumStake;
  }

  /** Throws BelowMinimumStakeError (403) when the node may not receive work. */
  requireMinimum(node: string): void {
    const bonded = this.#core.balance(stakeAccount(node.toLowerCase()));
    if (bonded < this.#core.config.minimumStake) {
      throw new BelowMinimumStakeError(node, bonded, this.#core.config.minimumStake);
    }
  }

  /** Nodes staked by `owner`, with their bonded and unbonding amounts. */
  ownedBy(owner: string): StakeView[] {
    const id = normalizeAddress(owner, 'owner');
    return [...this.#core.stakes.values()].filter((s) => s.owner === id).map((s) => this.get(s.node));
  }

  #total(record: StakeRecord): bigint {
    return this.#core.balance(stakeAccount(record.node)) + this.#core.balance(unbondingAccount(record.node));
  }
}

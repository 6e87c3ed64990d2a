import { InvalidParameterError } from '../protocol/index.js';
import type { RewardRecord } from '../store/index.js';
import { normalizeAddress, REWARDS, stakeAccount } from './accounts.js';
import { minAmount } from './amount.js';
import type { RewardFormula } from './config.js';
import type { LedgerCore } from './core.js';
import { EpochStateError } from './errors.js';
import { epochRewards, type NodeEpochInput } from './formulas.js';

/** One node's line in an epoch report: what was measured, the formula's terms, and what it was paid. */
export type RewardReport = {
  epoch: number;
  node: string;
  account: string;
  formula: RewardFormula;
  inputs: { benchmark: number; tasks: number; uptimeMs: number; speed: number; chainStake?: string };
  terms: Record<string, string>;
  /** What the formula gives. */
  formulaAmount: bigint;
  /** What was paid: the formula amount, scaled down pro rata when the rewards pool could not cover D(R). */
  amount: bigint;
};

/** A closed epoch: D(R) (the formula amounts summed), what was paid, and every node's report. */
export type EpochReport = {
  epoch: number;
  startedAt: number;
  closedAt: number;
  formula: RewardFormula;
  durationMs: number;
  total: bigint;
  paid: bigint;
  pool: bigint;
  scaled: boolean;
  terms: Record<string, string>;
  rewards: RewardReport[];
};

type Summary = {
  formula: RewardFormula;
  durationMs: number;
  total: string;
  paid: string;
  pool: string;
  scaled: boolean;
  terms: Record<string, string>;
};
type StoredReport = Omit<RewardReport, 'epoch' | 'node' | 'account' | 'amount' | 'formulaAmount'> & {
  formulaAmount: string;
};

/**
 * Reward epochs. The router closes the current epoch on a timer (`due`) or by command with what it measured
 * for each node; closing pays every node by the configured seed formula from the `rewards` pool, stores each
 * node's report, and opens the next epoch. Closing an epoch already closed returns its stored report.
 */
export class Epochs {
  readonly #core: LedgerCore;
  readonly #onClose = new Set<(report: EpochReport) => void>();

  constructor(core: LedgerCore) {
    this.#core = core;
  }

  /**
   * Calls `listener` with each report as its epoch closes, synchronously after the rewards are booked, so what
   * it books joins the same group commit and nothing else can run in between (the chain link reserves the
   * rewards for their root this way). Returns a function that removes it.
   */
  onClose(listener: (report: EpochReport) => void): () => void {
    this.#onClose.add(listener);
    return () => this.#onClose.delete(listener);
  }

  /** The open epoch. */
  current(): { epoch: number; startedAt: number; startSeq: number } {
    const e = this.#core.epoch;
    return { epoch: e.id, startedAt: e.startedAt, startSeq: e.startSeq };
  }

  /** Whether the open epoch has run its configured length. */
  due(now = this.#core.now()): boolean {
    return now - this.#core.epoch.startedAt >= this.#core.config.epochMs;
  }

  /** Closes epoch `epoch` (idempotent: a closed one returns its stored report) and opens the next. */
  close(p: { epoch: number; nodes: NodeEpochInput[]; now?: number }): EpochReport {
    const core = this.#core;
    const current = core.epoch;
    if (p.epoch < current.id) {
      const stored = this.report(p.epoch);
      if (stored) return stored;
    }
    if (p.epoch !== current.id) throw new EpochStateError(p.epoch, current.id);
    const closedAt = p.now ?? core.now();
    const seen = new Set<string>();
    const nodes = p.nodes.map((n) => {
      const node = normalizeAddress(n.node, 'node');
      if (seen.has(node)) throw new InvalidParameterError('nodes', `node ${node} is listed twice`);
      seen.add(node);
      return { ...n, node, account: normalizeAddress(n.account, 'account') };
    });
    const formula = core.config.rewards.formula;
    const durationMs = Math.max(0, closedAt - current.startedAt);
    const onChain = new Map(nodes.map((n) => [n.node, n.chainStake ?? 0n]));
    const stakeOf = (node: string) => {
      const atStart = current.stakes.get(node) ?? 0n;
      const atClose = core.balance(stakeAccount(node));
      return minAmount(atStart, atClose) + (onChain.get(node) ?? 0n);
    };
    const { results, terms } = epochRewards(formula, core.config.rewards, nodes, durationMs, stakeOf);
    let total = 0n;
    for (const r of results) total += r.amount;
    const pool = core.balance(REWARDS);
    // When the pool cannot cover D(R), every node gets the same share of its amount (rounded down).
    const scaled = total > pool;
    let paid = 0n;
    const reports: RewardReport[] = results.map((r, i) => {
      const amount = scaled ? (r.amount * pool) / total : r.amount;
      paid += amount;
      const input = nodes[i] as NodeEpochInput;
      const inputs = {
        benchmark: input.benchmark,
        tasks: input.tasks,
        uptimeMs: input.uptimeMs,
        speed: input.speed,
        ...(input.chainStake ? { chainStake: input.chainStake.toString() } : {}),
      };
      return {
        epoch: current.id,
        node: r.node,
        account: r.account,
        formula,
        inputs,
        terms: r.terms,
        formulaAmount: r.amount,
        amount,
      };
    });
    for (const r of reports) {
      if (r.amount === 0n) continue;
      core.book(`epoch:${current.id}:reward:${r.node}`, 'reward', `epoch:${current.id}`, [
        { account: REWARDS, amount: -r.amount },
        { account: r.account, amount: r.amount },
      ]);
    }
    const summary: Summary = {
      formula,
      durationMs,
      total: total.toString(),
      paid: paid.toString(),
      pool: pool.toString(),
      scaled,
      terms,
    };
    current.closedAt = closedAt;
    current.summary = summary;
    core.saveEpoch(current);
    core.saveRewards(reports.map(toRecord));
    core.openEpoch(current.id + 1, closedAt);
    const report: EpochReport = {
      epoch: current.id,
      startedAt: current.startedAt,
      closedAt,
      formula,
      durationMs,
      total,
      paid,
      pool,
      scaled,
      terms,
      rewards: reports,
    };
    for (const listener of this.#onClose) listener(report);
    return report;
  }

  /** The stored report of a closed epoch. */
  report(epoch: number): EpochReport | undefined {
    this.#core.flush();
    const record = this.#core.store.epoch(epoch);
    if (!record || record.closedAt === null || record.summary === null) return undefined;
    const s = record.summary as Summary;
    return {
      epoch,
      startedAt: record.startedAt,
      closedAt: record.closedAt,
      formula: s.formula,
      durationMs: s.durationMs,
      total: BigInt(s.total),
      paid: BigInt(s.paid),
      pool: BigInt(s.pool),
      scaled: s.scaled,
      terms: s.terms,
      rewards: this.#core.store.rewards(epoch).map(fromRecord),
    };
  }

  /** A node owner's recent reward reports, newest first. */
  rewardsOf(account: string, limit = 20): RewardReport[] {
    this.#core.flush();
    return this.#core.store.rewardsOf(normalizeAddress(account, 'account'), limit).map(fromRecord);
  }
}

function toRecord(r: RewardReport): RewardRecord {
  const report: StoredReport = {
    formula: r.formula,
    inputs: r.inputs,
    terms: r.terms,
    formulaAmount: r.formulaAmount.toString(),
  };
  return { epoch: r.epoch, node: r.node, account: r.account, amount: r.amount, report };
}

function fromRecord(r: RewardRecord): RewardReport {
  const s = r.report as StoredReport;
  return {
    epoch: r.epoch,
    node: r.node,
    account: r.account,
    formula: s.formula,
    inputs: s.inputs,
    terms: s.terms,
    formulaAmount: BigInt(s.formulaAmount),
    amount: r.amount,
  };
}

import { InvalidParameterError } from '../protocol/index.js';
import { maxAmount, minAmount, PPM } from './amount.js';
import type { RewardConfig, RewardFormula } from './config.js';

/**
 * The seeds' reward formulas in bigint fixed point. Real-valued terms (Power, Consistency, eta, alpha) are
 * integers in parts per million (ppm), each rounded down; measured inputs (benchmark, speed) are taken in
 * micro-units of whatever the router measures them in. Each money term rounds down to the smallest unit,
 * and a node's amount is the sum of its terms; what rounding leaves stays in the rewards pool.
 */

const HOUR_MS = 3_600_000n;

/** What the router measured for one node over one epoch. */
export type NodeEpochInput = {
  /** The node id (its key's address). */
  node: string;
  /** Where its rewards go: the owner's payout wallet (or the node id when it named none). */
  account: string;
  /** Measured benchmark (e.g. tokens/s of the reference workload): seed 000's Power before normalising. */
  benchmark: number;
  /** Tasks completed and validated this epoch: seed 000's Tasks. */
  tasks: number;
  /** Milliseconds of the epoch the node was connected (from heartbeats): seed 000's Consistency. */
  uptimeMs: number;
  /** Measured speed this epoch (e.g. output tokens/s served): seed 001's eta against the baseline. */
  speed: number;
  /**
   * Stake bonded on chain (NodeStaking, when the router is linked): the least its confirmed reads saw at the
   * epoch's start and close. It adds to the ledger stake in S(g).
   */
  chainStake?: bigint;
};

/** One node's formula result: its terms as decimal strings (amounts in the smallest unit) and the amount. */
export type FormulaResult = { node: string; account: string; terms: Record<string, string>; amount: bigint };

/** Converts a measurement to micro-units (rounded), refusing what is not a finite non-negative number. */
export function toMicro(value: number, param: string): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidParameterError(
      param,
      `${param} must be a finite non-negative number, got ${String(value)}`,
    );
  }
  return BigInt(Math.round(value * 1e6));
}

/** Converts a measured duration to whole milliseconds (rounded down), refusing what is not one. */
export function toMs(value: number, param: string): bigint {
  return toMicro(value, param) / 1_000_000n;
}

/** Seed 000's Consistency: 1.0 plus 0.5 times the share of the epoch the node was up (so 1.0 to 1.5), ppm. */
export function consistencyPpm(uptimeMs: bigint, durationMs: bigint): bigint {
  if (durationMs <= 0n) return PPM;
  const up = minAmount(uptimeMs, durationMs);
  return PPM + (PPM * up) / (2n * durationMs);
}

/** A measurement over a reference, ppm (0 when the reference is 0). */
export function ratioPpm(value: bigint, reference: bigint): bigint {
  return reference <= 0n ? 0n : (value * PPM) / reference;
}

/**
 * Seed 000, exactly as printed: `Reward = (Base * Power) + (Bonus * Tasks) * Consistency` (Consistency
 * multiplies the task bonus only). Base is `basePerHour` over the epoch's length.
 */
export function omniTensorReward(p: {
  basePerHour: bigint;
  durationMs: bigint;
  powerPpm: bigint;
  bonusPerTask: bigint;
  tasks: bigint;
  consistencyPpm: bigint;
}): { base: bigint; baseTerm: bigint; taskTerm: bigint; amount: bigint } {
  const base = (p.basePerHour * p.durationMs) / HOUR_MS;
  const baseTerm = (p.basePerHour * p.durationMs * p.powerPpm) / (HOUR_MS * PPM);
  const taskTerm = (p.bonusPerTask * p.tasks * p.consistencyPpm) / PPM;
  return { base, baseTerm, taskTerm, amount: baseTerm + taskTerm };
}

/** Seed 001: `R(g, m) = alpha * S(g) * eta`, alpha a rate per hour applied over the epoch's length. */
export function tensorChainReward(p: {
  alphaPpmPerHour: bigint;
  durationMs: bigint;
  stake: bigint;
  etaPpm: bigint;
}): bigint {
  return (p.alphaPpmPerHour * p.durationMs * p.stake * p.etaPpm) / (HOUR_MS * PPM * PPM);
}

/** The median of non-empty values (the lower middle's and upper middle's mean, rounded down). */
export function median(values: bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return 0n;
  if (sorted.length % 2 === 1) return sorted[mid] as bigint;
  return ((sorted[mid - 1] as bigint) + (sorted[mid] as bigint)) / 2n;
}

/**
 * Applies the configured formula to every node of an epoch. `stakes` gives seed 001's S(g): the least bonded
 * stake the node held over the epoch (at its start and at its close).
 */
export function epochRewards(
  formula: RewardFormula,
  config: RewardConfig,
  nodes: NodeEpochInput[],
  durationMs: number,
  stakes: (node: string) => bigint,
): { results: FormulaResult[]; terms: Record<string, string> } {
  const duration = BigInt(Math.max(0, Math.floor(durationMs)));
  if (formula === 'omnitensor') {
    const benchmarks = nodes.map((n) => toMicro(n.benchmark, 'benchmark'));
    const fastest = benchmarks.reduce(maxAmount, 0n);
    const reference =
      config.powerReference === null ? fastest : toMicro(config.powerReference, 'powerReference');
    const results = nodes.map((n, i) => {
      if (!Number.isSafeInteger(n.tasks) || n.tasks < 0) {
        throw new InvalidParameterError('tasks', `tasks must be a non-negative whole number, got ${n.tasks}`);
      }
      const power = ratioPpm(benchmarks[i] as bigint, reference);
      const consistency = consistencyPpm(toMs(n.uptimeMs, 'uptimeMs'), duration);
      const r = omniTensorReward({
        basePerHour: config.basePerHour,
        durationMs: duration,
        powerPpm: power,
        bonusPerTask: config.bonusPerTask,
        tasks: BigInt(n.tasks),
        consistencyPpm: consistency,
      });
      const terms = {
        base: r.base.toString(),
        powerPpm: power.toString(),
        bonus: config.bonusPerTask.toString(),
        tasks: String(n.tasks),
        consistencyPpm: consistency.toString(),
        baseTimesPower: r.baseTerm.toString(),
        bonusTimesTasksTimesConsistency: r.taskTerm.toString(),
      };
      return { node: n.node, account: n.account, terms, amount: r.amount };
    });
    return { results, terms: { powerReferenceMicro: reference.toString(), durationMs: duration.toString() } };
  }
  const speeds = nodes.map((n) => toMicro(n.speed, 'speed'));
  const positive = speeds.filter((s) => s > 0n);
  const baseline =
    config.speedBaseline === null ? median(positive) : toMicro(config.speedBaseline, 'speedBaseline');
  const results = nodes.map((n, i) => {
    const eta = ratioPpm(speeds[i] as bigint, baseline);
    const stake = stakes(n.node);
    const amount = tensorChainReward({
      alphaPpmPerHour: config.alphaPpmPerHour,
      durationMs: duration,
      stake,
      etaPpm: eta,
    });
    const terms = {
      alphaPpmPerHour: config.alphaPpmPerHour.toString(),
      stake: stake.toString(),
      etaPpm: eta.toString(),
    };
    return { node: n.node, account: n.account, terms, amount };
  });
  return { results, terms: { speedBaselineMicro: baseline.toString(), durationMs: duration.toString() } };
}

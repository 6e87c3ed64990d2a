import { InvalidParameterError } from '../protocol/index.js';
import { PPM } from './amount.js';

/** Which seed's reward formula pays epoch rewards. */
export type RewardFormula = 'omnitensor' | 'tensorchain';

/** Epoch reward settings; amounts in the smallest unit, ratios in parts per million. */
export type RewardConfig = {
  formula: RewardFormula;
  /** Seed 000 `Base`: tokens per hour of epoch (scaled by the epoch's real length). */
  basePerHour: bigint;
  /** Seed 000 `Bonus`: tokens per validated completed task. */
  bonusPerTask: bigint;
  /** Seed 001 `alpha`: share of the stake paid per hour of epoch, ppm (100 = 0.01 % an hour). */
  alphaPpmPerHour: bigint;
  /** Benchmark that counts as Power 1.0; null: the fastest node of the epoch. */
  powerReference: number | null;
  /** Epoch speed that counts as eta 1.0; null: the median speed of the epoch's nodes. */
  speedBaseline: number | null;
};

/** The ledger's settings: the router's config supplies them (see docs/ledger.md). */
export type LedgerConfig = {
  /** Platform fee: the treasury's share of each payment, ppm (seed 003's retained portion). */
  feePpm: bigint;
  /** Bonded stake a node needs to receive work (0 on a local network). */
  minimumStake: bigint;
  /** How long unstaked tokens stay slashable before they return to the owner. */
  unbondingMs: number;
  /** Share of a node's stake (bonded + unbonding) a failed verdict slashes, ppm. */
  slashPpm: bigint;
  /** Share of a slash paid to the validator that caught it, ppm; the rest goes to the treasury. */
  slashValidatorPpm: bigint;
  /** Test networks only: allows `mint`. */
  allowMint: boolean;
  /** Epoch length for the router's timer (`epochs.due`). */
  epochMs: number;
  rewards: RewardConfig;
};

export type LedgerConfigInput = Partial<Omit<LedgerConfig, 'rewards'>> & { rewards?: Partial<RewardConfig> };

const HOUR_MS = 3_600_000;

/** A local network's settings: 1 % fee, no minimum stake, a day of unbonding, 10 % slash, hourly epochs. */
export const defaultLedgerConfig: LedgerConfig = {
  feePpm: 10_000n,
  minimumStake: 0n,
  unbondingMs: 24 * HOUR_MS,
  slashPpm: 100_000n,
  slashValidatorPpm: 500_000n,
  allowMint: false,
  epochMs: HOUR_MS,
  rewards: {
    formula: 'omnitensor',
    basePerHour: 10n ** 18n,
    bonusPerTask: 10n ** 16n,
    alphaPpmPerHour: 100n,
    powerReference: null,
    speedBaseline: null,
  },
};

function ppm(value: bigint, name: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > PPM) {
    throw new InvalidParameterError(
      name,
      `ledger ${name} must be a bigint from 0 to 1000000 ppm, got ${String(value)}`,
    );
  }
  return value;
}

function nonNegative(value: bigint, name: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) {
    throw new InvalidParameterError(
      name,
      `ledger ${name} must be a non-negative bigint, got ${String(value)}`,
    );
  }
  return value;
}

function positiveOrNull(value: number | null, name: string): number | null {
  if (value !== null && !(Number.isFinite(value) && value > 0)) {
    throw new InvalidParameterError(name, `ledger ${name} must be a positive number or null, got ${value}`);
  }
  return value;
}

/** Fills defaults and checks every setting once, when the ledger is built; errors name the setting. */
export function resolveLedgerConfig(input: LedgerConfigInput = {}): LedgerConfig {
  const c = {
    ...defaultLedgerConfig,
    ...input,
    rewards: { ...defaultLedgerConfig.rewards, ...input.rewards },
  };
  for (const [name, ms] of [
    ['unbondingMs', c.unbondingMs],
    ['epochMs', c.epochMs],
  ] as const) {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new InvalidParameterError(
        name,
        `ledger ${name} must be a whole number of milliseconds, got ${ms}`,
      );
    }
  }
  if (c.rewards.formula !== 'omnitensor' && c.rewards.formula !== 'tensorchain') {
    throw new InvalidParameterError(
      'rewards.formula',
      `ledger rewards.formula must be 'omnitensor' or 'tensorchain', got '${String(c.rewards.formula)}'`,
    );
  }
  return {
    ...c,
    feePpm: ppm(c.feePpm, 'feePpm'),
    minimumStake: nonNegative(c.minimumStake, 'minimumStake'),
    slashPpm: ppm(c.slashPpm, 'slashPpm'),
    slashValidatorPpm: ppm(c.slashValidatorPpm, 'slashValidatorPpm'),
    allowMint: c.allowMint === true,
    rewards: {
      ...c.rewards,
      basePerHour: nonNegative(c.rewards.basePerHour, 'rewards.basePerHour'),
      bonusPerTask: nonNegative(c.rewards.bonusPerTask, 'rewards.bonusPerTask'),
      alphaPpmPerHour: nonNegative(c.rewards.alphaPpmPerHour, 'rewards.alphaPpmPerHour'),
      powerReference: positiveOrNull(c.rewards.powerReference, 'rewards.powerReference'),
      speedBaseline: positiveOrNull(c.rewards.speedBaseline, 'rewards.speedBaseline'),
    },
  };
}

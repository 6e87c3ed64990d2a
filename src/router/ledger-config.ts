import { z } from 'zod';
import {
  type LedgerConfigInput,
  parseAmount,
  parsePpm,
  type RewardFormula,
  type TokenPrice,
} from '../ledger/index.js';
import type { ModelRecord } from '../store/index.js';

const HOUR_MS = 3_600_000;

/** Whole tokens with up to 18 decimals ('1.5', or a number such as 0.001), read without a float. */
const tokens = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parseAmount(String(value));
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A share from 0 to 1 ('0.05'), kept in parts per million. */
const share = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parsePpm(String(value));
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const price = z.object({ input: tokens, output: tokens });

/**
 * The network's economy (issue 5; docs/ledger.md): what work costs, the platform fee, genesis, staking,
 * slashing and epoch rewards. Amounts are whole tokens, shares are ratios from 0 to 1, durations milliseconds.
 */
export const ledgerSettings = z
  .object({
    /** Booked once, when the store has no genesis yet: addresses, `treasury` or `rewards` (the reward pool). */
    genesis: z
      .array(
        z.object({
          account: z
            .string()
            .regex(/^(0x[0-9a-fA-F]{40}|treasury|rewards)$/, 'must be an 0x address, treasury or rewards'),
          amount: tokens,
        }),
      )
      .default([]),
    /** Test networks only: operators may mint (`POST /api/mint`); `up` and `demo` fund their user this way. */
    allowMint: z.boolean().default(false),
    /** The price of every input and output token of every model, unless `prices` names the model. 0: free. */
    pricePerToken: tokens.default('0'),
    /** Prices per model name or sha256. */
    prices: z.record(z.string(), price).default({}),
    /** The platform fee: the treasury's share of each payment. */
    fee: share.default('0.01'),
    /** Share of a node's stake a failed verification verdict slashes. */
    slash: share.default('0.1'),
    /** Share of a slash paid to the validator that caught it (the rest goes to the treasury). */
    slashValidatorShare: share.default('0.5'),
    /** Bonded stake a node needs to receive work. */
    minimumStake: tokens.default('0'),
    unbondingMs: z
      .number()
      .int()
      .min(0)
      .default(24 * HOUR_MS),
    /** Reward epochs close on a timer after this long (and by command). */
    epochMs: z.number().int().min(1000).default(HOUR_MS),
    /** How long a session's budget stays escrowed before the rest returns to its owner. */
    sessionTtlMs: z
      .number()
      .int()
      .min(1000)
      .default(24 * HOUR_MS),
    rewards: z
      .object({
        formula: z.enum(['omnitensor', 'tensorchain']).default('omnitensor'),
        /** Seed 000 Base: tokens per hour of epoch. */
        basePerHour: tokens.default('1'),
        /** Seed 000 Bonus: tokens per validated task. */
        bonusPerTask: tokens.default('0.01'),
        /** Seed 001 alpha: the share of a node's stake paid per hour of epoch. */
        alphaPerHour: share.default('0.0001'),
        /** Benchmark (tokens/s) that counts as Power 1.0; default the fastest node of the epoch. */
        powerReference: z.number().positive().nullable().default(null),
        /** Output tokens/s that count as eta 1.0; default the median node of the epoch. */
        speedBaseline: z.number().positive().nullable().default(null),
      })
      .default({}),
  })
  .default({});

export type LedgerSettings = z.output<typeof ledgerSettings>;
export type LedgerSettingsInput = z.input<typeof ledgerSettings>;

/** The ledger's own config (src/ledger) from the router's settings. */
export function ledgerConfigOf(settings: LedgerSettings): LedgerConfigInput {
  return {
    feePpm: settings.fee,
    minimumStake: settings.minimumStake,
    unbondingMs: settings.unbondingMs,
    slashPpm: settings.slash,
    slashValidatorPpm: settings.slashValidatorShare,
    allowMint: settings.allowMint,
    epochMs: settings.epochMs,
    rewards: {
      formula: settings.rewards.formula as RewardFormula,
      basePerHour: settings.rewards.basePerHour,
      bonusPerTask: settings.rewards.bonusPerTask,
      alphaPpmPerHour: settings.rewards.alphaPerHour,
      powerReference: settings.rewards.powerReference,
      speedBaseline: settings.rewards.speedBaseline,
    },
  };
}

/** A model's price per token: by name, else by sha256, else the network's price per token. */
export function priceOf(settings: LedgerSettings, model: Pick<ModelRecord, 'name' | 'sha256'>): TokenPrice {
  return (
    settings.prices[model.name] ??
    settings.prices[model.sha256] ?? { input: settings.pricePerToken, output: settings.pricePerToken }
  );
}

import type { LikelihoodThresholds } from './types.js';

/**
 * Thresholds calibrated with bench/calibrate-likelihood.ts on the tiny model; docs/verification.md has the
 * measured distributions and why each value sits where it does.
 *
 * Same build: worker and validator run the same engine build on the same kind of backend (all CPU nodes of
 * this project do). Measured honest noise there is exactly zero (batched or not), so any token trailing
 * the top one by more than 1e-3 logits was computed by something else; that catches every Q8_0 output
 * whose text differs from the F32 model's.
 */
export const LIKELIHOOD_THRESHOLDS_SAME_BUILD: LikelihoodThresholds = {
  greedyMargin: 1e-3,
  greedyMaxNearTieShare: 0.05,
  sampledMinZ: -5,
  sampledMaxViolationShare: 0.02,
  topPTolerance: 1e-3,
  sampledLengthSlack: 0.1,
};

/**
 * Different backends (a GPU worker checked on a CPU validator, fp16 against f32): rounding differs, so
 * near-ties may flip. Not measured here (no GPU was available to this work); the margins are set wide,
 * at a twentieth of the smallest gap any cheat showed on the tiny model, until the bench is run on mixed
 * hardware. A Q8_0 copy passes these.
 */
export const LIKELIHOOD_THRESHOLDS_CROSS_BUILD: LikelihoodThresholds = {
  greedyMargin: 0.5,
  greedyMaxNearTieShare: 0.05,
  sampledMinZ: -5,
  sampledMaxViolationShare: 0.05,
  topPTolerance: 0.01,
  sampledLengthSlack: 0.1,
};

export const LIKELIHOOD_THRESHOLDS = LIKELIHOOD_THRESHOLDS_SAME_BUILD;

/** Thresholds for a worker and a validator on the given engine backends ('cpu', 'cuda', 'metal', ...). */
export function likelihoodThresholdsFor(
  workerBackend: string,
  validatorBackend: string,
): LikelihoodThresholds {
  return workerBackend === validatorBackend
    ? LIKELIHOOD_THRESHOLDS_SAME_BUILD
    : LIKELIHOOD_THRESHOLDS_CROSS_BUILD;
}

/**
 * Cosine similarity an output's embedding must reach against the reference answer's. Mean-pooled
 * embeddings of the tiny model tell little apart beyond near-identical text; see docs/verification.md.
 */
export const EMBEDDING_THRESHOLD = 0.95;

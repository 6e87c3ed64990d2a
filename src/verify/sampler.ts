import type { NextTokenDistribution } from '../engine/index.js';

/**
 * The engine's sampler, re-applied to a scored distribution. Generation runs llama.cpp's chain
 * top-k (the distribution's top list) -> top-p on the softmax of those -> temperature -> draw, so a token's
 * chance is its temperature-scaled share of the nucleus, and a token outside the nucleus has none.
 */

export type SamplerParams = { temperature: number; topP: number };

export type SamplerView = {
  /** How many of the top tokens the nucleus keeps. */
  kept: number;
  /** The same with the top-p boundary moved out by the tolerance: float noise there is not cheating. */
  keptLenient: number;
  /** log q of the kept tokens (in top-list order), q being the distribution the draw used. */
  logQ: number[];
  /** E[log q] and Var[log q] under q: what an honest draw's log-probability averages and spreads. */
  mean: number;
  variance: number;
};

/** Applies top-p (with a tolerance on its boundary) and temperature to one position's top list. */
export function samplerView(
  dist: NextTokenDistribution,
  params: SamplerParams,
  topPTolerance = 0,
): SamplerView {
  const logits = dist.topLogits;
  const top = logits[0] ?? 0;
  const weights = logits.map((l) => Math.exp(l - top));
  const total = weights.reduce((a, b) => a + b, 0);
  // llama.cpp keeps the shortest prefix whose cumulative probability reaches top_p (at least one token).
  const nucleus = (p: number): number => {
    if (p >= 1) return logits.length;
    let cumulative = 0;
    for (let i = 0; i < logits.length; i++) {
      cumulative += (weights[i] as number) / total;
      if (cumulative >= p) return i + 1;
    }
    return logits.length;
  };
  const kept = nucleus(params.topP);
  const keptLenient = nucleus(params.topP + topPTolerance);
  const scaled = logits.slice(0, kept).map((l) => (l - top) / params.temperature);
  const norm = Math.log(scaled.reduce((a, s) => a + Math.exp(s), 0));
  const logQ = scaled.map((s) => s - norm);
  let mean = 0;
  let square = 0;
  for (const lq of logQ) {
    const q = Math.exp(lq);
    mean += q * lq;
    square += q * lq * lq;
  }
  return { kept, keptLenient, logQ, mean, variance: Math.max(0, square - mean * mean) };
}

/** log q of a token of the given logit under the view, or null when the sampler could not draw it. */
export function logQOf(dist: NextTokenDistribution, view: SamplerView, logit: number): number | null {
  const index = dist.topLogits.indexOf(logit);
  if (index >= 0 && index < view.kept) return view.logQ[index] ?? null;
  // Ties with the last kept token count as inside: llama.cpp's order among equal logits is not ours to know.
  const last = view.logQ[view.kept - 1] ?? null;
  if (logit === dist.topLogits[view.kept - 1]) return last;
  // Just past the top-p boundary, within the tolerance: at most as likely as the last kept token.
  if (index >= 0 && index < view.keptLenient) return last;
  return null;
}

import type { NextTokenDistribution, ScoredToken, TokenScores } from '../engine/index.js';
import { logQOf, samplerView } from './sampler.js';
import { spellingProblem } from './spelling.js';
import { LIKELIHOOD_THRESHOLDS } from './thresholds.js';
import { completionCountProblem } from './token-bound.js';
import type {
  DecodingParams,
  Judgment,
  LikelihoodEvidence,
  LikelihoodThresholds,
  OutputClaim,
  TokenFinding,
} from './types.js';

/**
 * `likelihood`: judges a claimed output from the validator's teacher-forced scores (engine `score`).
 * Greedy requests: every token must be the model's top token, up to near-ties. Sampled requests: no token
 * may lie outside what top-k/top-p allowed, and the sequence's log-probability under the same sampler must
 * not fall implausibly far below what an honest draw averages (a z-score; honest draws form a martingale,
 * so it is close to standard normal). Either way the end must match the claimed finish reason.
 */

export type LikelihoodInput = {
  scores: TokenScores;
  params: DecodingParams;
  claim: OutputClaim;
  thresholds?: LikelihoodThresholds;
};

const WORST_KEPT = 5;

/** Judges TokenScores against the request's decoding parameters and the node's claim. */
export function judgeLikelihood(input: LikelihoodInput): Judgment<LikelihoodEvidence> {
  const thresholds = input.thresholds ?? LIKELIHOOD_THRESHOLDS;
  const judged =
    input.params.temperature === 0 ? judgeGreedy(input, thresholds) : judgeSampled(input, thresholds);
  // Scores of other text say nothing about this output: the validator's work is void, not the worker's.
  const misspelt = input.claim.text === undefined ? null : spellingProblem(input.scores, input.claim.text);
  if (misspelt !== null) {
    const reason = `invalid scores: ${misspelt}`;
    return { outcome: 'undecided', reason, evidence: { ...judged.evidence, invalidScores: misspelt } };
  }
  // The count the node asks to be paid for is part of its claim: one no honest engine reports fails.
  const miscount = completionCountProblem(input.claim, input.params);
  if (miscount === null || judged.outcome === 'fail') return judged;
  return {
    outcome: 'fail',
    reason: miscount,
    evidence: { ...judged.evidence, endOk: false, endReason: miscount },
  };
}

function gapOf(t: ScoredToken): number {
  const top = t.topLogits[0] ?? t.logit;
  return Number.isFinite(t.logit) ? Math.max(0, top - t.logit) : Number.POSITIVE_INFINITY;
}

function judgeGreedy(input: LikelihoodInput, thresholds: LikelihoodThresholds): Judgment<LikelihoodEvidence> {
  const { scores, params, claim } = input;
  const findings: TokenFinding[] = [];
  let nonTop = 0;
  let beyond = 0;
  let maxGap = 0;
  scores.tokens.forEach((t, position) => {
    const gap = gapOf(t);
    if (gap === 0) return;
    nonTop++;
    if (gap > thresholds.greedyMargin) beyond++;
    maxGap = Math.max(maxGap, gap);
    findings.push({ position, token: t.token, rank: t.rank, gap });
  });
  const n = scores.tokens.length;
  let endOk = true;
  let endReason = 'ok';
  if (claim.finishReason === 'length') {
    if (n !== params.maxTokens || claim.completionTokens !== params.maxTokens) {
      endOk = false;
      endReason = `claims max_tokens (${params.maxTokens}) but has ${n} tokens (claimed ${claim.completionTokens})`;
    }
  } else if (scores.end.stop === 'none') {
    endOk = false;
    endReason = `claims a stop but the model continues with ${JSON.stringify(scores.end.continuation)}`;
  } else if (n > params.maxTokens) {
    endOk = false;
    endReason = `has ${n} tokens, more than max_tokens ${params.maxTokens}`;
  }
  const evidence: LikelihoodEvidence = {
    mode: 'greedy',
    tokens: n,
    evaluatedTokens: scores.evaluatedTokens,
    nonTop,
    maxGap,
    meanLogProb: null,
    z: null,
    violations: beyond,
    endOk,
    endReason,
    worst: findings.sort((a, b) => b.gap - a.gap).slice(0, WORST_KEPT),
    thresholds,
  };
  if (beyond > 0) {
    const reason = `${beyond} token(s) are not the model's choice (largest gap ${maxGap.toFixed(3)} logits > ${thresholds.greedyMargin})`;
    return { outcome: 'fail', reason, evidence };
  }
  if (n > 0 && nonTop / n > thresholds.greedyMaxNearTieShare) {
    return {
      outcome: 'fail',
      reason: `${nonTop} of ${n} tokens are near-ties, too many for noise`,
      evidence,
    };
  }
  if (!endOk) return { outcome: 'fail', reason: endReason, evidence };
  return { outcome: 'pass', reason: `all ${n} tokens are the model's greedy choice`, evidence };
}

type SampledStats = {
  judged: number;
  violations: number;
  sumLogQ: number;
  z: number | null;
  findings: TokenFinding[];
};

/** A drawn event: a token of `logit` from the distribution `dist` (an output token, or the stop). */
type Draw = { dist: NextTokenDistribution; logit: number; token: number; rank: number; gap: number };

function sampledStats(
  draws: readonly Draw[],
  params: DecodingParams,
  thresholds: LikelihoodThresholds,
): SampledStats {
  let violations = 0;
  let sumLogQ = 0;
  let sumMean = 0;
  let sumVariance = 0;
  let judged = 0;
  const findings: TokenFinding[] = [];
  draws.forEach((d, position) => {
    const view = samplerView(d.dist, params, thresholds.topPTolerance);
    const logQ = logQOf(d.dist, view, d.logit);
    if (logQ === null) {
      violations++;
      findings.push({ position, token: d.token, rank: d.rank, gap: d.gap });
      return;
    }
    judged++;
    sumLogQ += logQ;
    sumMean += view.mean;
    sumVariance += view.variance;
  });
  // With (almost) no spread every honest draw is (almost) forced; any shortfall is then suspicious.
  const z = judged === 0 ? null : (sumLogQ - sumMean) / Math.sqrt(Math.max(sumVariance, 1e-6));
  return { judged, violations, sumLogQ, z, findings };
}

const tokenDraw = (t: ScoredToken): Draw => ({
  dist: t,
  logit: t.logit,
  token: t.token,
  rank: t.rank,
  gap: gapOf(t),
});

function stopDraw(dist: NextTokenDistribution, token: number, logit: number): Draw {
  const rank = dist.topLogits.filter((l) => l > logit).length;
  return { dist, logit, token, rank, gap: Math.max(0, (dist.topLogits[0] ?? logit) - logit) };
}

function stopInSupport(
  dist: NextTokenDistribution,
  logit: number,
  params: DecodingParams,
  tol: number,
): boolean {
  return logQOf(dist, samplerView(dist, params, tol), logit) !== null;
}

function judgeSampled(
  input: LikelihoodInput,
  thresholds: LikelihoodThresholds,
): Judgment<LikelihoodEvidence> {
  const { scores, params, claim } = input;
  const n = scores.tokens.length;
  const tol = thresholds.topPTolerance;
  // The ways the output may have ended; each judges the draws up to its end, the stop itself included
  // (drawing a stop token where it is unlikely is as telling as drawing any other unlikely token).
  const draws = scores.tokens.map(tokenDraw);
  const options: Array<{ upTo: number; draws: Draw[]; endOk: boolean; endReason: string }> = [];
  if (claim.finishReason === 'length') {
    const slack = Math.max(1, Math.ceil(thresholds.sampledLengthSlack * params.maxTokens));
    const countOk = Math.abs(n - params.maxTokens) <= slack && claim.completionTokens === params.maxTokens;
    options.push({
      upTo: n,
      draws,
      endOk: countOk,
      endReason: countOk
        ? 'ok'
        : `claims max_tokens (${params.maxTokens}) but has ${n} tokens (claimed ${claim.completionTokens})`,
    });
  } else {
    const { end } = scores;
    const stopLogit = end.stopLogit;
    const atEnd = stopLogit !== null && stopInSupport(end, stopLogit, params, tol);
    options.push({
      upTo: n,
      draws: stopLogit === null ? draws : [...draws, stopDraw(end, -1, stopLogit)],
      endOk: atEnd && n <= params.maxTokens,
      endReason: atEnd ? 'ok' : 'claims a stop the sampler could not have drawn here',
    });
    for (const tail of end.tails) {
      const dist = scores.tokens[tail.position];
      if (dist && stopInSupport(dist, tail.logit, params, tol)) {
        options.push({
          upTo: tail.position,
          draws: [...draws.slice(0, tail.position), stopDraw(dist, tail.token, tail.logit)],
          endOk: true,
          endReason: 'ok (ends inside a sampled token)',
        });
      }
    }
  }
  const judged = options.map((option) => ({ option, stats: sampledStats(option.draws, params, thresholds) }));
  const passes = ({ option, stats }: (typeof judged)[number]): boolean =>
    option.endOk &&
    (option.upTo === 0 || stats.violations / option.upTo <= thresholds.sampledMaxViolationShare) &&
    (stats.z === null || stats.z >= thresholds.sampledMinZ);
  const chosen = judged.find(passes) ?? (judged[0] as (typeof judged)[number]);
  const { option, stats } = chosen;
  const evidence: LikelihoodEvidence = {
    mode: 'sampled',
    tokens: n,
    evaluatedTokens: scores.evaluatedTokens,
    nonTop: scores.tokens.filter((t) => gapOf(t) > 0).length,
    maxGap: scores.tokens.reduce((m, t) => Math.max(m, gapOf(t)), 0),
    meanLogProb: stats.judged === 0 ? null : stats.sumLogQ / stats.judged,
    z: stats.z,
    violations: stats.violations,
    endOk: option.endOk,
    endReason: option.endReason,
    worst: stats.findings.slice(0, WORST_KEPT),
    thresholds,
  };
  if (passes(chosen)) {
    return {
      outcome: 'pass',
      reason: `plausible under the sampler (z ${stats.z?.toFixed(2) ?? 'n/a'})`,
      evidence,
    };
  }
  if (option.upTo > 0 && stats.violations / option.upTo > thresholds.sampledMaxViolationShare) {
    return {
      outcome: 'fail',
      reason: `${stats.violations} of ${option.upTo} tokens lie outside what top-k/top-p allowed`,
      evidence,
    };
  }
  if (stats.z !== null && stats.z < thresholds.sampledMinZ) {
    return {
      outcome: 'fail',
      reason: `log-probability implausibly low for this sampler (z ${stats.z.toFixed(2)} < ${thresholds.sampledMinZ})`,
      evidence,
    };
  }
  return { outcome: 'fail', reason: option.endReason, evidence };
}

import { describe, expect, it } from 'vitest';
import type { ScoredToken, TokenScores } from '../engine/index.js';
import {
  type DecodingParams,
  judgeLikelihood,
  LIKELIHOOD_THRESHOLDS_CROSS_BUILD,
  likelihoodThresholdsFor,
  samplerView,
} from './index.js';

/** A seeded uniform source (xorshift), so the simulated draws are the same on every run. */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A position whose top list has the given logits (sorted here), with token `index` claimed. */
function position(logits: number[], index: number): ScoredToken {
  const sorted = [...logits].sort((a, b) => b - a);
  const max = sorted[0] as number;
  return {
    logSumExp: max + Math.log(sorted.reduce((a, l) => a + Math.exp(l - max), 0)),
    topTokens: sorted.map((_, i) => 100 + i),
    topLogits: sorted,
    token: 100 + index,
    text: 't',
    logit: sorted[index] as number,
    rank: index,
  };
}

function scores(tokens: ScoredToken[], end: Partial<TokenScores['end']> = {}): TokenScores {
  const { token: _t, text: _x, logit: _l, rank: _r, ...dist } = position([3, 1, 0], 0);
  return {
    tokens,
    end: { ...dist, eog: false, continuation: 'x', stop: 'none', stopLogit: null, tails: [], ...end },
    promptTokens: 5,
    evaluatedTokens: 5 + tokens.length,
    resegmentations: 0,
  };
}

const greedy: DecodingParams = { maxTokens: 8, temperature: 0, topP: 1, stop: [] };
const lengthClaim = { finishReason: 'length' as const, completionTokens: 8 };
const flat = (gap = 0) => position([2, 2 - gap, 1, 0], gap === 0 ? 0 : 1);

describe('likelihood, greedy', () => {
  it("passes when every token is the model's top token and the length is as claimed", () => {
    const j = judgeLikelihood({
      scores: scores(Array.from({ length: 8 }, () => flat())),
      params: greedy,
      claim: lengthClaim,
    });
    expect(j.outcome).toBe('pass');
    expect(j.evidence).toMatchObject({ mode: 'greedy', tokens: 8, nonTop: 0, maxGap: 0, endOk: true });
  });

  it('fails a token behind the top one by more than the margin, and names it', () => {
    const tokens = Array.from({ length: 8 }, (_, i) => (i === 5 ? flat(0.5) : flat()));
    const j = judgeLikelihood({ scores: scores(tokens), params: greedy, claim: lengthClaim });
    expect(j.outcome).toBe('fail');
    expect(j.evidence.worst[0]).toMatchObject({ position: 5, rank: 1 });
    expect(j.evidence.worst[0]?.gap).toBeCloseTo(0.5);
    // Across different backends a 0.3-logit gap is tolerated as rounding, once in 40 tokens (once in 8 is
    // too many near-ties even there).
    const thresholds = likelihoodThresholdsFor('cuda', 'cpu');
    expect(thresholds).toBe(LIKELIHOOD_THRESHOLDS_CROSS_BUILD);
    expect(
      judgeLikelihood({ scores: scores(tokens), params: greedy, claim: lengthClaim, thresholds }).outcome,
    ).toBe('fail');
    const near = Array.from({ length: 40 }, (_, i) => (i === 5 ? flat(0.3) : flat()));
    const params = { ...greedy, maxTokens: 40 };
    const claim = { finishReason: 'length' as const, completionTokens: 40 };
    expect(judgeLikelihood({ scores: scores(near), params, claim, thresholds }).outcome).toBe('pass');
  });

  it('tolerates a rare near-tie within the margin but not many', () => {
    const params = { ...greedy, maxTokens: 40 };
    const claim = { finishReason: 'length' as const, completionTokens: 40 };
    const rare = Array.from({ length: 40 }, (_, i) => (i === 3 ? flat(1e-4) : flat()));
    expect(judgeLikelihood({ scores: scores(rare), params, claim }).outcome).toBe('pass');
    const many = Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? flat(1e-4) : flat()));
    expect(judgeLikelihood({ scores: scores(many), params, claim }).reason).toMatch(/near-ties/);
  });

  it('checks the end against the claimed finish reason', () => {
    const five = Array.from({ length: 5 }, () => flat());
    const short = judgeLikelihood({ scores: scores(five), params: greedy, claim: lengthClaim });
    expect(short.outcome).toBe('fail');
    expect(short.reason).toMatch(/claims max_tokens \(8\) but has 5/);
    const stopClaim = { finishReason: 'stop' as const, completionTokens: 5 };
    const goesOn = judgeLikelihood({ scores: scores(five), params: greedy, claim: stopClaim });
    expect(goesOn.reason).toMatch(/model continues/);
    const stops = judgeLikelihood({
      scores: scores(five, { stop: 'full' }),
      params: greedy,
      claim: stopClaim,
    });
    expect(stops.outcome).toBe('pass');
  });
});

describe('likelihood, sampled', () => {
  const sampled: DecodingParams = { maxTokens: 200, temperature: 0.8, topP: 0.9, stop: [] };
  const claim = { finishReason: 'length' as const, completionTokens: 200 };
  /** 200 positions with random logits; `pick` chooses the claimed rank from the sampler view. */
  const run = (seed: number, pick: (q: number[], kept: number, u: number) => number) => {
    const rand = uniform(seed);
    return Array.from({ length: 200 }, () => {
      const logits = Array.from({ length: 40 }, () => rand() * 6).sort((a, b) => b - a);
      const view = samplerView(position(logits, 0), sampled);
      return position(logits, pick(view.logQ.map(Math.exp), view.kept, rand()));
    });
  };
  const draw = (q: number[], _kept: number, u: number) => {
    let c = 0;
    for (let i = 0; i < q.length; i++) {
      c += q[i] as number;
      if (c > u) return i;
    }
    return q.length - 1;
  };

  it('passes honest draws from the same sampler', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const j = judgeLikelihood({ scores: scores(run(seed, draw)), params: sampled, claim });
      expect(j.outcome).toBe('pass');
      expect(Math.abs(j.evidence.z ?? 99)).toBeLessThan(4);
    }
  });

  it('fails text the sampler could draw but only improbably, and text it could not draw', () => {
    const unlikely = judgeLikelihood({
      scores: scores(run(9, (_q, kept) => kept - 1)),
      params: sampled,
      claim,
    });
    expect(unlikely.outcome).toBe('fail');
    expect(unlikely.reason).toMatch(/implausibly low/);
    const outside = judgeLikelihood({
      scores: scores(run(9, (_q, kept) => Math.min(39, kept + 2))),
      params: sampled,
      claim,
    });
    expect(outside.outcome).toBe('fail');
    expect(outside.reason).toMatch(/outside what top-k\/top-p allowed/);
  });

  it('allows a few tokens of slack on a sampled length claim', () => {
    const tokens = run(3, draw).slice(0, 195);
    expect(judgeLikelihood({ scores: scores(tokens), params: sampled, claim }).outcome).toBe('pass');
    expect(judgeLikelihood({ scores: scores(tokens.slice(0, 150)), params: sampled, claim }).outcome).toBe(
      'fail',
    );
  });

  it('passes a stop only where the sampler could have drawn it', () => {
    const tokens = run(4, draw).slice(0, 20);
    const stopClaim = { finishReason: 'stop' as const, completionTokens: 20 };
    const params = { ...sampled, stop: ['###'] };
    const end = scores(tokens).end;
    const ok = judgeLikelihood({
      scores: scores(tokens, { stopLogit: end.topLogits[1] as number }),
      params,
      claim: stopClaim,
    });
    expect(ok.outcome).toBe('pass');
    const none = judgeLikelihood({ scores: scores(tokens, { stopLogit: null }), params, claim: stopClaim });
    expect(none.outcome).toBe('fail');
    expect(none.reason).toMatch(/stop the sampler could not have drawn/);
    // Ending inside a sampled token that runs into the stop string counts as well.
    const at = tokens[18] as ScoredToken;
    const tail = { position: 18, token: 999, logit: at.topLogits[0] as number };
    const viaTail = judgeLikelihood({
      scores: scores(tokens, { stopLogit: null, tails: [tail] }),
      params,
      claim: stopClaim,
    });
    expect(viaTail.outcome).toBe('pass');
    expect(viaTail.evidence.endReason).toMatch(/inside a sampled token/);
  });
});

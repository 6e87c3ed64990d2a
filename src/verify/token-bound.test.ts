import { describe, expect, it } from 'vitest';
import type { TokenScores } from '../engine/index.js';
import { completionCountProblem, completionTokenBound, judgeLikelihood } from './index.js';

const params = { maxTokens: 5, temperature: 0, topP: 1, stop: [] };

/** Scores where every output token is the model's top choice and the model stops after them. */
function honestScores(n: number): TokenScores {
  const dist = { logSumExp: 3, topTokens: [100, 101], topLogits: [3, 1] };
  return {
    tokens: Array.from({ length: n }, () => ({ ...dist, token: 100, text: 'a', logit: 3, rank: 0 })),
    end: { ...dist, eog: true, continuation: '', stop: 'full', stopLogit: 3, tails: [] },
    promptTokens: 3,
    evaluatedTokens: 3 + n,
    resegmentations: 0,
  };
}

describe('likelihood checks the token count it pays for', () => {
  it('bounds a completion by max_tokens and by the bytes of its text', () => {
    expect(completionTokenBound('hi', { maxTokens: 100, stop: [] })).toBe(2 + 16);
    expect(completionTokenBound('hi', { maxTokens: 100, stop: ['STOP'] })).toBe(2 + 4 + 16);
    expect(completionTokenBound('hi', params)).toBe(5);
    expect(completionCountProblem({ completionTokens: 4, text: 'aaaa' }, params)).toBeNull();
  });

  it('fails an output whose tokens pass but whose claimed count no honest engine reports', () => {
    const honest = judgeLikelihood({
      scores: honestScores(4),
      params,
      claim: { finishReason: 'stop', completionTokens: 5, text: 'aaaa' },
    });
    expect(honest.outcome).toBe('pass');
    const inflated = judgeLikelihood({
      scores: honestScores(4),
      params,
      claim: { finishReason: 'stop', completionTokens: 1_000_000, text: 'aaaa' },
    });
    expect(inflated.outcome).toBe('fail');
    expect(inflated.reason).toMatch(/more than max_tokens 5/);
    const wide = judgeLikelihood({
      scores: honestScores(4),
      params: { ...params, maxTokens: 1000 },
      claim: { finishReason: 'stop', completionTokens: 900, text: 'aaaa' },
    });
    expect(wide.outcome).toBe('fail');
    expect(wide.reason).toMatch(/for 4 bytes of text/);
  });
});

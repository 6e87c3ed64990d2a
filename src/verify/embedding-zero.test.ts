import { describe, expect, it } from 'vitest';
import { cosineSimilarity, judgeEmbedding } from './index.js';

// The embedding of an empty string can be the zero vector; its cosine is 0/0 by the plain formula.
describe('embedding of zero vectors', () => {
  it('counts two zero vectors as the same answer', () => {
    expect(cosineSimilarity([0, 0, 0], [0, 0, 0])).toBe(1);
    const judged = judgeEmbedding([0, 0, 0], [0, 0, 0]);
    expect(judged.outcome).toBe('pass');
    expect(Number.isNaN(judged.evidence.cosine)).toBe(false);
  });

  it('fails a zero vector against a non-zero one, either way round', () => {
    expect(judgeEmbedding([0, 0], [0.3, 0.4]).outcome).toBe('fail');
    expect(judgeEmbedding([0.3, 0.4], [0, 0]).outcome).toBe('fail');
    expect(judgeEmbedding([0, 0], [0.3, 0.4]).evidence.cosine).toBe(0);
  });

  it('fails vectors of different sizes instead of throwing (an empty string embeds to no numbers here)', () => {
    const judged = judgeEmbedding([], [0.1, 0.2]);
    expect(judged.outcome).toBe('fail');
    expect(judged.evidence.cosine).toBe(0);
    expect(judgeEmbedding([], []).outcome).toBe('pass');
  });

  it('never yields NaN: entries too large to square still compare, non-numbers never pass', () => {
    expect(judgeEmbedding([1e200, 1e200], [2e200, 2e200]).outcome).toBe('pass');
    expect(judgeEmbedding([1e200, 0], [0, 1e200]).evidence.cosine).toBe(0);
    const broken = judgeEmbedding([Number.NaN, 1], [Number.NaN, 1]);
    expect(broken.evidence.cosine).toBe(0);
    expect(broken.outcome).toBe('fail');
    expect(judgeEmbedding([Number.POSITIVE_INFINITY, 1], [1, 1]).outcome).toBe('fail');
  });
});

import { describe, expect, it } from 'vitest';
import { cosineSimilarity, EMBEDDING_THRESHOLD, judgeEmbedding } from './index.js';

describe('embedding', () => {
  it('computes cosine similarity', () => {
    expect(cosineSimilarity([1, 0], [1, 0])).toBeCloseTo(1);
    expect(cosineSimilarity([1, 0], [0, 2])).toBeCloseTo(0);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(RangeError);
  });

  it('passes at or above the threshold and records the evidence', () => {
    const pass = judgeEmbedding([1, 0, 0], [1, 0.01, 0]);
    expect(pass.outcome).toBe('pass');
    expect(pass.evidence).toMatchObject({ threshold: EMBEDDING_THRESHOLD, dimensions: 3 });
    const fail = judgeEmbedding([1, 0, 0], [1, 1, 0]);
    expect(fail.outcome).toBe('fail');
    expect(fail.evidence.cosine).toBeCloseTo(Math.SQRT1_2);
    expect(judgeEmbedding([1, 0, 0], [1, 1, 0], 0.7).outcome).toBe('pass');
  });
});

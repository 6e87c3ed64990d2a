import { describe, expect, it } from 'vitest';
import type { NextTokenDistribution } from '../engine/index.js';
import { logQOf, samplerView } from './index.js';

const dist = (probs: number[]): NextTokenDistribution => ({
  logSumExp: 0,
  topTokens: probs.map((_, i) => 100 + i),
  topLogits: probs.map((p) => Math.log(p)),
});
const p4 = dist([0.5, 0.3, 0.15, 0.05]);

describe('sampler view', () => {
  it('keeps the shortest prefix reaching top_p, as llama.cpp does', () => {
    expect(samplerView(p4, { temperature: 1, topP: 0.79 }).kept).toBe(2);
    expect(samplerView(p4, { temperature: 1, topP: 0.81 }).kept).toBe(3);
    expect(samplerView(p4, { temperature: 1, topP: 1 }).kept).toBe(4);
    expect(samplerView(p4, { temperature: 1, topP: 0.1 }).kept).toBe(1);
    expect(samplerView(p4, { temperature: 1, topP: 0.79 }, 0.02).keptLenient).toBe(3);
  });

  it('applies temperature after top-p and gives the mean and variance of log q', () => {
    const view = samplerView(p4, { temperature: 0.5, topP: 0.95 });
    expect(view.kept).toBe(3);
    const q = [0.25, 0.09, 0.0225].map((x) => x / 0.3625); // p^(1/T) renormalised over the nucleus
    view.logQ.forEach((lq, i) => {
      expect(Math.exp(lq)).toBeCloseTo(q[i] as number, 10);
    });
    const mean = q.reduce((a, x) => a + x * Math.log(x), 0);
    const square = q.reduce((a, x) => a + x * Math.log(x) ** 2, 0);
    expect(view.mean).toBeCloseTo(mean, 10);
    expect(view.variance).toBeCloseTo(square - mean * mean, 10);
  });

  it('gives tokens outside the nucleus no probability, except within the tolerance', () => {
    const view = samplerView(p4, { temperature: 1, topP: 0.79 }, 0.02);
    expect(logQOf(p4, view, Math.log(0.3))).toBeCloseTo(Math.log(0.3 / 0.8), 10);
    expect(logQOf(p4, view, Math.log(0.15))).toBeCloseTo(Math.log(0.3 / 0.8), 10);
    expect(logQOf(p4, view, Math.log(0.05))).toBeNull();
    expect(logQOf(p4, view, -50)).toBeNull();
  });
});

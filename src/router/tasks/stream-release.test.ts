import { describe, expect, it } from 'vitest';
import { agreedPrefix } from './stream-release.js';

describe('agreedPrefix', () => {
  it('releases what enough replicas streamed too, and stops at a divergence', () => {
    expect(agreedPrefix('the cat sat', ['the cat'], 1)).toBe('the cat');
    expect(agreedPrefix('the cat sat', ['the dog sat'], 1)).toBe('the ');
    expect(agreedPrefix('the cat', ['the cat sat on'], 1)).toBe('the cat');
    expect(agreedPrefix('the cat', [], 1)).toBe('');
  });

  it('needs the given number of replicas to agree (redundant:k)', () => {
    // redundant:5 needs the worker and 2 replicas: the second-longest agreement decides.
    expect(agreedPrefix('abcdef', ['abcdef', 'abX', 'abcd'], 2)).toBe('abcd');
    expect(agreedPrefix('abcdef', ['abcdef', 'X'], 2)).toBe('');
  });

  it('never ends between the halves of a surrogate pair', () => {
    const worker = 'ok 😀';
    const split = worker.slice(0, worker.length - 1);
    expect(agreedPrefix(worker, [split], 1)).toBe('ok ');
  });
});

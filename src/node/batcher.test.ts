import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TextBatcher } from './batcher.js';

describe('chunk batcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first piece at once, then coalesces pieces into one send per interval', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      0,
    );
    batcher.push('a');
    expect(sent).toEqual(['a']);
    batcher.push('b');
    batcher.push('c');
    vi.advanceTimersByTime(10);
    batcher.push('d');
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(10);
    expect(sent).toEqual(['a', 'bcd']);
    batcher.push('e');
    expect(sent).toEqual(['a', 'bcd']);
    batcher.flush();
    expect(sent).toEqual(['a', 'bcd', 'e']);
    // Nothing pending: neither a flush nor the old timer sends an empty chunk.
    batcher.flush();
    vi.advanceTimersByTime(100);
    expect(sent).toEqual(['a', 'bcd', 'e']);
  });

  it('sends the first piece at once, the rest of the first eagerChars together once they have come, then coalesces', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      6,
    );
    batcher.push('ab');
    batcher.push('cd');
    expect(sent).toEqual(['ab']);
    batcher.push('ef');
    expect(sent).toEqual(['ab', 'cdef']);
    for (const piece of ['gh', 'ij']) batcher.push(piece);
    expect(sent).toEqual(['ab', 'cdef']);
    vi.advanceTimersByTime(20);
    expect(sent).toEqual(['ab', 'cdef', 'ghij']);
  });

  it('sends the eager chars it has after an interval when the model is slow to reach them', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      6,
    );
    batcher.push('ab');
    batcher.push('cd');
    vi.advanceTimersByTime(20);
    expect(sent).toEqual(['ab', 'cd']);
    batcher.push('efgh');
    expect(sent).toEqual(['ab', 'cd', 'efgh']);
  });

  it('sends at once when the interval has already passed since the last send', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      0,
    );
    batcher.push('a');
    vi.advanceTimersByTime(50);
    batcher.push('b');
    expect(sent).toEqual(['a', 'b']);
  });

  it('drops pending text on discard', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      0,
    );
    batcher.push('a');
    batcher.push('b');
    batcher.discard();
    vi.advanceTimersByTime(100);
    batcher.flush();
    expect(sent).toEqual(['a']);
  });
});

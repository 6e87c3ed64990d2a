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

  it('sends each piece at once until the first eagerChars have gone, then coalesces', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher(
      (t) => sent.push(t),
      20,
      () => Date.now(),
      6,
    );
    for (const piece of ['ab', 'cd', 'ef', 'gh', 'ij']) batcher.push(piece);
    expect(sent).toEqual(['ab', 'cd', 'ef']);
    vi.advanceTimersByTime(20);
    expect(sent).toEqual(['ab', 'cd', 'ef', 'ghij']);
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

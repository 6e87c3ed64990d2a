import { describe, expect, it } from 'vitest';
import { PinnedChecker } from './checker-set.js';

describe('PinnedChecker', () => {
  it('lets only its node take the check, and ends the check once that node is passed over', async () => {
    let gone = 0;
    const pinned = new PinnedChecker('node-a', 5n, () => gone++);
    expect(pinned.has('node-a')).toBe(true);
    expect(pinned.has('node-b')).toBe(false);
    expect(pinned.get('node-a')).toBe(5n);
    pinned.passOver('node-b');
    expect(pinned.size).toBe(1);
    pinned.passOver('node-a');
    pinned.passOver('node-a');
    // Nobody may take it now; the check is ended after the scheduler's turn, once.
    expect(pinned.size).toBe(0);
    expect(pinned.has('node-a')).toBe(false);
    expect(gone).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(gone).toBe(1);
  });
});

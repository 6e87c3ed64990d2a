import { afterEach, describe, expect, it } from 'vitest';
import { createResultKey } from '../../protocol/index.js';
import { SignaturePool } from './signature-pool.js';

describe('signature pool', () => {
  const pools: SignaturePool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.stop();
  });

  for (const threads of [0, 2]) {
    it(`accepts only the key's own signatures of the exact text (${threads} threads)`, async () => {
      const pool = new SignaturePool(threads);
      pools.push(pool);
      expect(pool.threads).toBe(threads);
      const key = createResultKey();
      const other = createResultKey();
      const texts = Array.from({ length: 300 }, (_, i) => `claim ${i}`);
      // Many checks asked for in one turn, as when many nodes' results arrive together.
      const verdicts = await Promise.all([
        ...texts.map((text) => pool.verify(key.publicKey, text, key.sign(text))),
        pool.verify(key.publicKey, 'claim 0 tampered', key.sign('claim 0')),
        pool.verify(key.publicKey, 'claim 1', other.sign('claim 1')),
        pool.verify(key.publicKey, 'claim 2', 'not a signature'),
        pool.verify('short', 'claim 3', key.sign('claim 3')),
      ]);
      expect(verdicts.slice(0, 300).every((ok) => ok)).toBe(true);
      expect(verdicts.slice(300)).toEqual([false, false, false, false]);
    });
  }
});

describe('signature pool: a lone check', () => {
  it('is made on the event loop, without the round trip to a worker, and still judged right', async () => {
    const pool = new SignaturePool(2);
    try {
      const key = createResultKey();
      const order: string[] = [];
      const good = pool
        .verify(key.publicKey, 'claim', key.sign('claim'))
        .then((ok) => order.push(`check ${ok}`));
      // Scheduled after the check's own turn-end flush: a worker's answer would come after it.
      setImmediate(() => order.push('next immediate'));
      await good;
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(['check true', 'next immediate']);
      expect(await pool.verify(key.publicKey, 'claim', key.sign('other'))).toBe(false);
    } finally {
      await pool.stop();
    }
  });
});

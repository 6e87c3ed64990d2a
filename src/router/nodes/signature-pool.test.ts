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

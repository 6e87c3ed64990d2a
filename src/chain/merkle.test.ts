import { getAddress, keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { buildRewardTree, reportHash, verifyRewardProof } from './merkle.js';

const account = (i: number) => getAddress(keccak256(toHex(`a${i}`)).slice(0, 42));

describe('buildRewardTree', () => {
  it('gives every account a proof that verifies, for trees of 1 to 33 leaves', () => {
    for (let n = 1; n <= 33; n++) {
      const lines = Array.from({ length: n }, (_, i) => ({ account: account(i), amount: BigInt(i + 1) }));
      const tree = buildRewardTree(4, lines);
      for (const l of lines) {
        const p = tree.proof(l.account);
        expect(p && verifyRewardProof(tree.root, p.leaf, p.proof)).toBe(true);
      }
      expect(tree.proof(account(999))).toBeUndefined();
      expect(tree.total).toBe(BigInt((n * (n + 1)) / 2));
    }
  });

  it('sums an account paid by several nodes into one leaf, skips zero amounts, and ignores line order', () => {
    const lines = [
      { account: account(1), amount: 5n },
      { account: account(2), amount: 0n },
      { account: account(1).toLowerCase(), amount: 7n },
      { account: account(3), amount: 1n },
    ];
    const tree = buildRewardTree(9, lines);
    expect(tree.leaves).toHaveLength(2);
    expect(tree.proof(account(1))?.leaf.amount).toBe(12n);
    expect(buildRewardTree(9, [...lines].reverse()).root).toBe(tree.root);
    // The epoch is in the leaf: the same lines in another epoch give another root.
    expect(buildRewardTree(10, lines).root).not.toBe(tree.root);
    const p = tree.proof(account(1));
    if (!p) throw new Error('no proof');
    expect(verifyRewardProof(tree.root, { ...p.leaf, amount: 13n }, p.proof)).toBe(false);
    // The index is in the leaf too: the claim bit a proof sets is the one the router numbered.
    expect(verifyRewardProof(tree.root, { ...p.leaf, index: p.leaf.index ^ 1 }, p.proof)).toBe(false);
  });

  it('numbers the leaves 0 to n-1 in address order', () => {
    const lines = [5, 3, 9, 1].map((i) => ({ account: account(i), amount: 1n }));
    const tree = buildRewardTree(2, lines);
    const byIndex = [...tree.leaves].sort((a, b) => a.index - b.index);
    expect(byIndex.map((l) => l.index)).toEqual([0, 1, 2, 3]);
    const sorted = byIndex.map((l) => l.account.toLowerCase());
    expect(sorted).toEqual([...sorted].sort());
  });

  it('has a zero root with no leaves, and a report hash that changes with any amount', () => {
    expect(buildRewardTree(1, []).root).toBe(`0x${'00'.repeat(32)}`);
    const line = { node: account(1), account: account(2), amount: 3n };
    expect(reportHash(1, [line])).not.toBe(reportHash(1, [{ ...line, amount: 4n }]));
  });
});

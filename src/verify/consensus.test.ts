import { describe, expect, it } from 'vitest';
import { eligibleValidators, isIndependent, judgeChecksum, judgeRedundant } from './index.js';

const node = (n: number, wallet = n) => ({
  nodeId: `0x${String(n).padStart(40, '0')}`,
  wallet: `0x${String(wallet).padStart(40, 'a')}`,
});
const result = (n: number, hash: string, wallet = n) => ({ ...node(n, wallet), outputSha256: hash });

describe('independence', () => {
  it('never lets a node or its wallet check itself', () => {
    expect(isIndependent(node(1), node(2))).toBe(true);
    expect(isIndependent(node(1), node(1))).toBe(false);
    expect(isIndependent(node(1, 9), node(2, 9))).toBe(false);
    // Addresses compare case-insensitively.
    expect(isIndependent({ ...node(3), nodeId: node(3).nodeId.toUpperCase() }, node(3))).toBe(false);
    const candidates = [node(1), node(2), node(3, 7), node(4)];
    expect(eligibleValidators(candidates, [node(1), node(5, 7)]).map((c) => c.nodeId)).toEqual([
      node(2).nodeId,
      node(4).nodeId,
    ]);
  });
});

describe('checksum', () => {
  it('passes equal hashes and leaves unequal ones undecided', () => {
    expect(judgeChecksum(result(1, 'aa'), result(2, 'aa')).outcome).toBe('pass');
    const differ = judgeChecksum(result(1, 'aa'), result(2, 'bb'));
    expect(differ.outcome).toBe('undecided');
    expect(differ.evidence).toEqual({ claimedSha256: 'aa', checkSha256: 'bb' });
  });

  it('does not count a check by the same wallet', () => {
    expect(judgeChecksum(result(1, 'aa', 5), result(2, 'aa', 5)).outcome).toBe('undecided');
  });
});

describe('redundant:k', () => {
  it('passes the majority and fails the minority', () => {
    const j = judgeRedundant([result(1, 'aa'), result(2, 'bb'), result(3, 'aa')], 3);
    expect(j.outcome).toBe('pass');
    expect(j.evidence.majoritySha256).toBe('aa');
    expect(j.passed).toEqual([node(1).nodeId, node(3).nodeId]);
    expect(j.failed).toEqual([node(2).nodeId]);
  });

  it('counts a colluding pair with one wallet as one vote', () => {
    // Two cheaters sharing a wallet agree on a wrong answer; one honest node disagrees: no majority of 3.
    const j = judgeRedundant([result(1, 'bad', 9), result(2, 'bad', 9), result(3, 'good')], 3);
    expect(j.outcome).toBe('undecided');
    expect(j.evidence.votes).toEqual({ bad: 1, good: 1 });
    expect(j.reason).toMatch(/only 2 independent answers of 3/);
    // With a third independent answer the honest side wins and both colluders fail.
    const k = judgeRedundant(
      [result(1, 'bad', 9), result(2, 'bad', 9), result(3, 'good'), result(4, 'good')],
      3,
    );
    expect(k.outcome).toBe('pass');
    expect(k.failed).toEqual([node(1).nodeId, node(2).nodeId]);
  });

  it('is undecided without a strict majority', () => {
    const j = judgeRedundant([result(1, 'aa'), result(2, 'bb'), result(3, 'cc')], 3);
    expect(j.outcome).toBe('undecided');
    expect(j.passed).toEqual([]);
    expect(
      judgeRedundant([result(1, 'aa'), result(2, 'aa'), result(3, 'bb'), result(4, 'bb')], 4).outcome,
    ).toBe('undecided');
  });

  it('lets an honest pair win a checksum tie-break against two different wrong answers, but not a tie', () => {
    const four = [result(1, 'aa'), result(2, 'xx'), result(3, 'aa'), result(4, 'yy')];
    const judged = judgeRedundant(four, 2);
    expect(judged.outcome).toBe('pass');
    expect(judged.passed.sort()).toEqual([four[0]?.nodeId, four[2]?.nodeId].sort());
    expect(
      judgeRedundant([result(1, 'aa'), result(2, 'aa'), result(3, 'bb'), result(4, 'bb')], 2).outcome,
    ).toBe('undecided');
  });
});

import { describe, expect, it } from 'vitest';
import { auditFor, EMPTY_RECORD, judgeAudit, type ReputationRecord } from './index.js';

const trusted: ReputationRecord = { passes: 10_000, fails: 0, streak: 10_000 };
const seeded = { temperature: 0.7, seed: 42 };
const likelihood = { kind: 'likelihood' } as const;
const embedding = { kind: 'embedding' } as const;
const answer = (nodeId: string, hash: string) => ({ nodeId, wallet: `w-${nodeId}`, outputSha256: hash });

describe('auditFor', () => {
  it('audits every seeded text result of an untrusted node under likelihood and embedding', () => {
    expect(auditFor(likelihood, 'chat', seeded, EMPTY_RECORD, () => 0.999)).toBe(true);
    expect(auditFor(embedding, 'completion', { temperature: 0 }, EMPTY_RECORD, () => 0.999)).toBe(true);
  });

  it('audits a trusted node at the auto floor (4 %)', () => {
    expect(auditFor(likelihood, 'chat', seeded, trusted, () => 0.039)).toBe(true);
    expect(auditFor(likelihood, 'chat', seeded, trusted, () => 0.041)).toBe(false);
  });

  it('leaves alone levels that compare bytes, none, embeddings and unseeded sampled text', () => {
    for (const kind of ['auto', 'checksum', 'none'] as const)
      expect(auditFor({ kind }, 'chat', seeded, EMPTY_RECORD, () => 0)).toBe(false);
    expect(auditFor({ kind: 'redundant', k: 3 }, 'chat', seeded, EMPTY_RECORD, () => 0)).toBe(false);
    expect(auditFor(embedding, 'embedding', undefined, EMPTY_RECORD, () => 0)).toBe(false);
    expect(auditFor(likelihood, 'chat', { temperature: 0.7 }, EMPTY_RECORD, () => 0)).toBe(false);
  });
});

describe('judgeAudit', () => {
  it('passes the worker when a replica has its bytes', () => {
    expect(judgeAudit([answer('w', 'a'), answer('r1', 'a')]).outcome).toBe('pass');
  });

  it('asks for a third answer on one mismatch, blaming nobody yet', () => {
    expect(judgeAudit([answer('w', 'a'), answer('r1', 'b')]).outcome).toBe('more');
  });

  it('fails the worker only when two independent replicas agree against it', () => {
    const judged = judgeAudit([answer('w', 'a'), answer('r1', 'b'), answer('r2', 'b')]);
    expect(judged.outcome).toBe('fail');
    expect(judged.judgment.failed).toEqual(['w']);
  });

  it('clears the worker when the third agrees with it (the first replica was the odd one)', () => {
    const judged = judgeAudit([answer('w', 'a'), answer('r1', 'b'), answer('r2', 'a')]);
    expect(judged.outcome).toBe('pass');
    expect(judged.judgment.failed).toEqual(['r1']);
  });

  it('is undecided when three answers differ (nodes that do not reproduce each other)', () => {
    expect(judgeAudit([answer('w', 'a'), answer('r1', 'b'), answer('r2', 'c')]).outcome).toBe('undecided');
  });

  it('does not count two replicas of one payout wallet as two opinions', () => {
    const same = [answer('w', 'a'), answer('r1', 'b'), { ...answer('r2', 'b'), wallet: 'w-r1' }];
    expect(judgeAudit(same).outcome).not.toBe('fail');
  });
});

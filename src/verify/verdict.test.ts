import { describe, expect, it } from 'vitest';
import {
  judgeChecksum,
  judgeRedundant,
  makeVerdict,
  redundantVerdicts,
  toVerdictEvent,
  verdictId,
} from './index.js';

const model = 'cd'.repeat(32);
const subject = { taskId: 'task_1', attempt: 1, nodeId: '0xAB', validatorId: 'router', modelSha256: model };
const worker = (n: number, hash: string) => ({ nodeId: `0x${n}`, wallet: `0xw${n}`, outputSha256: hash });

describe('verdicts', () => {
  it('have stable ids: the same check of the same result is recorded once', () => {
    expect(verdictId(subject, 'checksum')).toBe(verdictId({ ...subject, nodeId: '0xab' }, 'checksum'));
    expect(verdictId(subject, 'checksum')).toMatch(/^verdict_[0-9a-f]{32}$/);
    expect(verdictId(subject, 'checksum')).not.toBe(verdictId(subject, 'likelihood'));
    expect(verdictId(subject, 'checksum')).not.toBe(verdictId({ ...subject, attempt: 2 }, 'checksum'));
  });

  it('keep the evidence tagged with its level and become ledger events when final', () => {
    const judgment = judgeChecksum(worker(1, 'aa'), worker(2, 'aa'));
    const record = makeVerdict(subject, 'checksum', judgment, 1000);
    expect(record.evidence).toEqual({ level: 'checksum', claimedSha256: 'aa', checkSha256: 'aa' });
    expect(toVerdictEvent(record)).toEqual({
      type: 'verdict',
      verdictId: record.id,
      taskId: 'task_1',
      attempt: 1,
      nodeId: '0xAB',
      validatorId: 'router',
      modelSha256: model,
      level: 'checksum',
      outcome: 'pass',
      at: 1000,
    });
    const undecided = makeVerdict(subject, 'checksum', judgeChecksum(worker(1, 'aa'), worker(2, 'bb')), 1000);
    expect(toVerdictEvent(undecided)).toBeNull();
  });

  it('give every voter of a decided redundant vote its own verdict', () => {
    const results = [worker(1, 'aa'), worker(2, 'bb'), worker(3, 'aa')];
    const judgment = judgeRedundant(results, 3);
    const verdicts = redundantVerdicts(
      { taskId: 'task_2', modelSha256: model },
      results.map((r) => ({ nodeId: r.nodeId, attempt: 1 })),
      judgment,
      5,
    );
    expect(verdicts.map((v) => [v.nodeId, v.outcome])).toEqual([
      ['0x1', 'pass'],
      ['0x2', 'fail'],
      ['0x3', 'pass'],
    ]);
    expect(verdicts[1]?.reason).toMatch(/minority/);
    expect(new Set(verdicts.map((v) => v.id)).size).toBe(3);
    expect(redundantVerdicts({ taskId: 't', modelSha256: model }, [], judgeRedundant([], 3), 5)).toEqual([]);
  });
});

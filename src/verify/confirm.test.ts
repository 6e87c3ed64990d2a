import { describe, expect, it } from 'vitest';
import { confirmedVerdicts, isSlash, judgeEmbedding, toVerdictEvent } from './index.js';

const subject = { taskId: 'task_1', attempt: 1, nodeId: 'w1', modelSha256: 'ab'.repeat(32) };
const fail = { validatorId: 'v1', judgment: judgeEmbedding([1, 0], [0, 1]) };
const pass = { validatorId: 'v2', judgment: judgeEmbedding([1, 0], [1, 0]) };
const confirming = { validatorId: 'v2', judgment: judgeEmbedding([1, 0], [0, 1]) };

describe('confirmedVerdicts: a fail slashes only when a second independent validator confirms it', () => {
  it('passes through a pass unchanged', () => {
    const [only, ...rest] = confirmedVerdicts(subject, 'embedding', pass, null, 1);
    expect(rest).toHaveLength(0);
    expect(only).toMatchObject({ nodeId: 'w1', validatorId: 'v2', outcome: 'pass' });
  });

  it('blames nobody when no second validator exists, and says so', () => {
    const verdicts = confirmedVerdicts(subject, 'embedding', fail, null, 1);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ nodeId: 'w1', validatorId: 'v1', outcome: 'undecided' });
    expect(verdicts[0]?.reason).toMatch(/not confirmed.*no second independent validator/);
    expect(verdicts.map(toVerdictEvent)).toEqual([null]);
    expect(verdicts.some(isSlash)).toBe(false);
  });

  it('fails the worker when the second validator agrees', () => {
    const verdicts = confirmedVerdicts(subject, 'embedding', fail, confirming, 1);
    expect(verdicts.map((v) => [v.nodeId, v.validatorId, v.outcome])).toEqual([
      ['w1', 'v1', 'fail'],
      ['w1', 'v2', 'fail'],
    ]);
    expect(verdicts.every(isSlash)).toBe(true);
    expect(verdicts.map((v) => toVerdictEvent(v)?.outcome)).toEqual(['fail', 'fail']);
  });

  it('passes the worker and marks the first validator wrong, without slashing it, when the second disagrees', () => {
    const verdicts = confirmedVerdicts(subject, 'embedding', fail, pass, 1);
    const [worker, validator] = verdicts;
    expect(worker).toMatchObject({ nodeId: 'w1', validatorId: 'v2', outcome: 'pass' });
    expect(validator).toMatchObject({ nodeId: 'v1', validatorId: 'v2', outcome: 'fail' });
    expect(validator?.evidence.dispute).toMatchObject({ worker: 'w1', overruledBy: 'v2' });
    // What the first validator claimed stays on the record, for a later dispute.
    expect(validator?.evidence).toMatchObject({ level: 'embedding', cosine: 0 });
    expect(isSlash(validator as never)).toBe(false);
    expect(toVerdictEvent(validator as never)).toBeNull();
    // Stored and read back (evidence as JSON), it is still no slash.
    expect(isSlash(JSON.parse(JSON.stringify(validator)))).toBe(false);
    expect(verdicts.filter(isSlash)).toHaveLength(0);
  });
});

describe('validator faults the router caught itself', () => {
  it('a first fault lowers reputation only; a second one slashes', () => {
    const verdict = (strike: number) => ({
      outcome: 'fail',
      evidence: { level: 'likelihood', validatorFault: { kind: 'honeypot', strike } },
    });
    expect(isSlash(verdict(1))).toBe(false);
    expect(isSlash(verdict(2))).toBe(true);
  });
});

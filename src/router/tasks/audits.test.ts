import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../store/index.js';
import { isSlash, toVerdictEvent } from '../../verify/index.js';
import { type AuditDeps, audit, auditKey } from './audits.js';

const subject = { taskId: 'task_1', attempt: 1, modelSha256: 'm'.repeat(64) };
const result = (nodeId: string, hash: string): ResultRecord => ({
  taskId: 'x',
  nodeId,
  attempt: 1,
  output: { text: hash, promptTokens: 3, completionTokens: 5 },
  outputSha256: hash,
  signature: '',
  nonce: '',
});

/** Replicas answered by the given (node, hash) pairs in turn; records the keys and avoid lists asked for. */
function network(replicas: [string, string][], connected = replicas.length) {
  const asked: { key: string; avoid: string[] }[] = [];
  let spent = 0;
  const deps: AuditDeps = {
    replica: async (avoid, key) => {
      asked.push({ key, avoid: avoid.map((p) => p.nodeId) });
      const [node, hash] = replicas[asked.length - 1] as [string, string];
      return result(node, hash);
    },
    eligible: (avoid) => connected - (avoid.length - 1) > 0,
    party: (nodeId) => ({ nodeId, wallet: `w-${nodeId}`, addressGroup: null }),
    spent: (tokens) => {
      spent += tokens;
    },
  };
  return { deps, asked, spent: () => spent };
}

describe('audit', () => {
  it('passes a worker whose bytes one independent replica reproduces, under a key no user pays', async () => {
    const net = network([['r1', 'a']]);
    const verdicts = await audit(subject, result('w', 'a'), net.deps);
    expect(verdicts?.map((v) => [v.nodeId, v.outcome, v.level, v.evidence.audit])).toEqual([
      ['w', 'pass', 'checksum', true],
    ]);
    expect(net.asked).toEqual([{ key: auditKey(subject, 1), avoid: ['w'] }]);
    expect(net.asked[0]?.key).toBe('check:audit-task_1:1:1');
    expect(net.spent()).toBe(8);
  });

  it('fails (and slashes) a worker two independent replicas agree against', async () => {
    const net = network([
      ['r1', 'b'],
      ['r2', 'b'],
    ]);
    const verdicts = await audit(subject, result('w', 'a'), net.deps);
    const worker = verdicts?.find((v) => v.nodeId === 'w');
    expect(worker?.outcome).toBe('fail');
    expect(worker && isSlash(worker)).toBe(true);
    expect(worker && toVerdictEvent(worker)?.outcome).toBe('fail');
    expect(net.asked[1]?.avoid).toEqual(['w', 'r1']);
  });

  it('flags nobody when the three answers differ', async () => {
    const net = network([
      ['r1', 'b'],
      ['r2', 'c'],
    ]);
    const verdicts = await audit(subject, result('w', 'a'), net.deps);
    expect(verdicts?.map((v) => [v.nodeId, v.outcome])).toEqual([['w', 'undecided']]);
  });

  it('skips the audit when no independent worker is there, and on a mismatch with no third', async () => {
    expect(await audit(subject, result('w', 'a'), network([], 0).deps)).toBeNull();
    expect(await audit(subject, result('w', 'a'), network([['r1', 'b']], 1).deps)).toBeNull();
  });

  it("reuses the level's own reference answer as its first replica, not paying it twice", async () => {
    const net = network([['r2', 'a']], 2);
    const verdicts = await audit(subject, result('w', 'a'), net.deps, Promise.resolve(result('r1', 'b')));
    expect(verdicts?.find((v) => v.nodeId === 'w')?.outcome).toBe('pass');
    expect(verdicts?.find((v) => v.nodeId === 'r1')?.outcome).toBe('fail');
    expect(net.asked.map((a) => a.avoid)).toEqual([['w', 'r1']]);
    expect(net.spent()).toBe(8);
  });
});

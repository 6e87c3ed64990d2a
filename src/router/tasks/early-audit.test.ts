import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../store/index.js';
import type { Party } from './check-runner.js';
import { EarlyAudit } from './early-audit.js';

const party = (nodeId: string): Party => ({ nodeId, wallet: `node:${nodeId}`, addressGroup: null });
const replica = { taskId: 'task_r', nodeId: 'r1' } as ResultRecord;

describe('EarlyAudit', () => {
  it('runs its replica once, outside the parties it is given, and hands it to the audit', async () => {
    const runs: string[][] = [];
    const early = new EarlyAudit(1, async (avoid, watch) => {
      runs.push(avoid.map((p) => p.nodeId));
      watch('task_r');
      return replica;
    });
    early.start([party('w'), party('v1')]);
    early.start([party('w')]);
    expect(runs).toEqual([['w', 'v1']]);
    expect(early.taskIds).toEqual(['task_r']);
    expect(await early.take()).toBe(replica);
  });

  it('does not start once taken: the audit then runs its own replica on the result', () => {
    let runs = 0;
    const early = new EarlyAudit(1, async () => {
      runs++;
      return replica;
    });
    expect(early.take()).toBeNull();
    early.start([party('w')]);
    expect(runs).toBe(0);
  });

  it('keeps a failed replica for the audit to hear (not an unhandled rejection)', async () => {
    const early = new EarlyAudit(1, async () => {
      throw new Error('no worker');
    });
    early.start([party('w')]);
    await expect(early.take()).rejects.toThrow('no worker');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultLedgerConfig, epochRewards, ONE_TOKEN } from '../../ledger/index.js';
import type { ResultRecord, TaskRecord } from '../../store/index.js';
import { EpochMeter } from './epoch-meter.js';
import { TaskHandle } from './task-manager.js';

const MODEL = 'ab'.repeat(32);

function handle(id: string, maxTokens: number, startedAt: number, resultAt: number): TaskHandle {
  const record: TaskRecord = {
    id,
    keyId: 'key_1',
    sessionId: null,
    idempotencyKey: null,
    modelSha256: MODEL,
    modelName: 'tiny',
    input: { kind: 'completion', prompt: 'hi', params: { maxTokens, temperature: 0, topP: 1, stop: [] } },
    status: 'running',
    attempts: 1,
    nodeId: null,
    error: null,
    createdAt: startedAt,
    validation: null,
  };
  const h = new TaskHandle(record);
  h.startedAt = startedAt;
  h.resultAt = resultAt;
  return h;
}

function result(taskId: string, nodeId: string, completionTokens: number): ResultRecord {
  return {
    taskId,
    nodeId,
    attempt: 1,
    output: { text: 'x', promptTokens: 1, completionTokens },
    outputSha256: '0'.repeat(64),
    signature: '0x',
    nonce: '1',
  };
}

describe('epoch meter (issue 9: Power from measured work, never from the hello)', () => {
  it('gives a node that claimed huge speed but did no work no Power share', () => {
    let now = 1;
    const meter = new EpochMeter(1, () => now);
    const worker = '0x00000000000000000000000000000000000000aa';
    const liar = '0x00000000000000000000000000000000000000bb';
    // What the gate hands the meter: the node's info, with the tokens/s each hello claimed.
    const workerInfo = { id: worker, models: new Map([[MODEL, 50]]) };
    const liarInfo = { id: liar, models: new Map([[MODEL, 1e9]]) };
    meter.connected(workerInfo);
    meter.connected(liarInfo);
    // The worker delivers 100 tasks of 10 tokens in 100 ms each: 100 tokens/s measured.
    for (let i = 0; i < 100; i++) {
      meter.accepted(result(`t${i}`, worker, 10), handle(`t${i}`, 10, now, now + 100));
      now += 100;
    }
    const inputs = meter.inputs((id) => id, now);
    const byNode = new Map(inputs.map((n) => [n.node, n]));
    expect(byNode.get(liar)?.benchmark).toBe(0);
    expect(byNode.get(worker)?.benchmark).toBeCloseTo(100, 6);
    const config = { ...defaultLedgerConfig.rewards, basePerHour: 10n * ONE_TOKEN };
    const { results } = epochRewards('omnitensor', config, inputs, now, () => 0n);
    const terms = new Map(results.map((r) => [r.node, r.terms]));
    expect(terms.get(liar)?.powerPpm).toBe('0');
    expect(terms.get(liar)?.baseTimesPower).toBe('0');
    expect(terms.get(worker)?.powerPpm).toBe('1000000');
  });

  it('counts no more tokens than a task allowed, whatever the node reports', () => {
    const meter = new EpochMeter(0, () => 1001);
    const node = '0x00000000000000000000000000000000000000cc';
    meter.connected({ id: node });
    meter.accepted(result('t1', node, 1_000_000), handle('t1', 5, 1, 1001));
    expect(meter.inputs((id) => id, 1001)[0]?.speed).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidParameterError, type NodeMetricsSample } from '../../protocol/index.js';
import type { ResultRecord, TaskRecord } from '../../store/index.js';
import type { TaskHandle } from '../tasks/task-manager.js';
import { IDLE_RING, IdleReasons } from './idle-reasons.js';
import { NetworkFigures } from './network-figures.js';
import { createPrometheusRegistry } from './prometheus.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const result = (tokens: number): ResultRecord => ({
  taskId: 't',
  nodeId: '0xa',
  attempt: 1,
  output: { text: 'x', promptTokens: 1, completionTokens: tokens },
  outputSha256: '',
  signature: '',
  nonce: '1',
});
const handle = (createdAt: number, startedAt: number, resultAt: number) =>
  ({ record: { createdAt } as TaskRecord, startedAt, resultAt }) as unknown as TaskHandle;
const sample: NodeMetricsSample = {
  tokensPerSecond: 5,
  flops: 1e9,
  gpuUtilization: null,
  cpuUtilization: 10,
  memoryUsedBytes: 1,
  powerWatts: null,
  temperatureC: null,
  tasksDone: 1,
  tasksFailed: 0,
};

describe('Prometheus metrics', () => {
  it('exposes counters, histograms and gauges that a text-format parser reads back as what happened', async () => {
    const figures = new NetworkFigures();
    const registry = createPrometheusRegistry({
      figures,
      queueDepth: () => 3,
      nodesByType: () => new Map([['cpu', 2]]),
      ledger: { balance: (a) => (a === 'mint' ? -5_000_000_000_000_000_000n : 0n), commits: { entries: 7 } },
    });
    figures.hello('0xA', {
      hardware: { nodeType: 'cpu' },
      models: [{ name: 'tiny' }],
    } as never);
    figures.heartbeat('0xa', sample);
    for (let i = 0; i < 4; i++) figures.accepted(result(10), handle(1000, 1250, 1750));
    figures.failed({} as TaskRecord, new InvalidParameterError('x', 'bad'));
    figures.verdict({ outcome: 'pass', level: 'likelihood' } as never);
    const families = parsePrometheusText(await registry.metrics());
    expect(sampleValue(families, 'omnitensor_tasks_total', { outcome: 'done' })).toBe(4);
    expect(
      sampleValue(families, 'omnitensor_tasks_total', { outcome: 'failed', kind: 'invalid_request' }),
    ).toBe(1);
    expect(sampleValue(families, 'omnitensor_output_tokens_total')).toBe(40);
    expect(sampleValue(families, 'omnitensor_nodes_online', { type: 'cpu' })).toBe(2);
    expect(sampleValue(families, 'omnitensor_queue_depth')).toBe(3);
    expect(sampleValue(families, 'omnitensor_compute_flops')).toBe(1e9);
    expect(sampleValue(families, 'omnitensor_ledger_issued_tokens')).toBe(5);
    expect(sampleValue(families, 'omnitensor_ledger_entries_total')).toBe(7);
    expect(
      sampleValue(families, 'omnitensor_verifications_total', { level: 'likelihood', outcome: 'pass' }),
    ).toBe(1);
    // Dispatch took 0.25 s and generation 10 tokens in 0.5 s (20 tokens/s): histogram buckets say so.
    const dispatch = families.get('omnitensor_task_dispatch_latency_seconds');
    expect(dispatch?.type).toBe('histogram');
    expect(sampleValue(families, 'omnitensor_task_dispatch_latency_seconds_count')).toBe(4);
    expect(sampleValue(families, 'omnitensor_task_dispatch_latency_seconds_bucket', { le: '0.1' })).toBe(0);
    expect(sampleValue(families, 'omnitensor_task_dispatch_latency_seconds_bucket', { le: '0.25' })).toBe(4);
    expect(sampleValue(families, 'omnitensor_task_output_tokens_per_second_sum')).toBe(80);
    // Conventions: counters end in _total, no per-node label anywhere.
    for (const f of families.values()) {
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      for (const s of f.samples) expect(Object.keys(s.labels)).not.toContain('node');
    }
  });

  it('rejects malformed exposition text', () => {
    expect(() => parsePrometheusText('omnitensor_x{a="1" 2')).toThrow(/not a Prometheus sample|malformed/);
  });
});

describe('idle reasons', () => {
  const activity = (
    pools: [string, number, boolean][],
    nodes: { id: string; pools: string[]; running?: number }[],
  ) => ({
    pools: new Map(pools.map(([pool, queued, dispatched]) => [pool, { queued, dispatched }])),
    nodes: nodes.map((n) => ({ running: 0, slots: 2, backoffUntil: 0, misses: 0, ...n })),
  });
  const sweep = (idle: IdleReasons, a: ReturnType<typeof activity>, parked: string[] = [], now = 1) =>
    idle.sweep({ activity: a, parked, reputation: () => 0, modelName: (sha) => `model-${sha}`, now });

  it('says which nodes were passed over for work on a model they do not hold, are busy, unstaked or gone', () => {
    const idle = new IdleReasons();
    sweep(
      idle,
      activity(
        [['worker/m1', 3, true]],
        [
          { id: '0xa', pools: ['worker/m1'], running: 2 },
          { id: '0xb', pools: ['worker/m2'] },
        ],
      ),
      ['0xc'],
    );
    expect(idle.of('0xA').map((r) => r.reason)).toEqual(['busy']);
    const [notHeld] = idle.of('0xb');
    expect(notHeld?.reason).toBe('model_not_held');
    expect(notHeld?.detail).toMatch(/model-m1/);
    expect(notHeld?.action).toMatch(/--model/);
    expect(idle.of('0xc')[0]?.reason).toBe('stake_below_minimum');
    sweep(idle, activity([], [{ id: '0xa', pools: ['worker/m1'] }]), [], 2);
    expect(idle.of('0xb')[0]?.reason).toBe('offline');
  });

  it('keeps a small ring per node, a repeat only moving its time', () => {
    const idle = new IdleReasons();
    for (let i = 0; i < 100; i++) idle.record('0xa', 'busy', 'same', i);
    expect(idle.of('0xa')).toHaveLength(1);
    expect(idle.of('0xa')[0]?.at).toBe(99);
    for (let i = 0; i < 100; i++) idle.record('0xa', i % 2 ? 'busy' : 'offline', `d${i}`, i);
    expect(idle.of('0xa')).toHaveLength(IDLE_RING);
    expect(idle.of('0xa')[0]?.at).toBe(99);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nodeMetricsSample } from '../../protocol/index.js';
import { cpuBusyPercent, parseNvidiaSmi } from './hardware-sampler.js';
import { NodeMetrics } from './node-metrics.js';
import { startStatusServer } from './status-server.js';

const hardware = (powerWatts: number | null) => ({
  read: async () => ({
    gpuUtilization: null,
    cpuUtilization: 25,
    memoryUsedBytes: 1e9,
    powerWatts,
    temperatureC: null,
  }),
});

describe('node metrics', () => {
  it('measures FLOPS from live work as tokens/s while busy times 2 x parameters, the benchmark when idle', async () => {
    let now = 0;
    const metrics = new NodeMetrics({
      models: [{ sha256: 'a', name: 'm', parameterCount: 1_000_000, tokensPerSecond: 100 }],
      sampler: hardware(50),
      now: () => now,
    });
    // Idle: the benchmark's figure, 100 tokens/s x 2e6 FLOPs per token.
    expect((await metrics.refresh()).flops).toBe(2e8);
    now = 1000;
    metrics.taskStarted();
    now = 1500;
    metrics.taskEnded('a', 200, 'done');
    metrics.taskStarted();
    now = 2000;
    metrics.taskEnded('a', 0, 'failed');
    now = 11_000;
    const sample = await metrics.refresh();
    // 200 tokens in 1 s of work (busy 1.0 to 2.0 s): 200 tokens/s x 2e6 = 4e8 FLOPS; throughput 200 over 11 s.
    expect(sample.flops).toBe(4e8);
    expect(sample.tokensPerSecond).toBeCloseTo(200 / 11);
    expect(sample.tasksDone).toBe(1);
    expect(sample.tasksFailed).toBe(1);
    expect(metrics.flopsPerWatt()).toBe(4e8 / 50);
    // What a heartbeat carries passes the wire schema, and stays small.
    expect(nodeMetricsSample.parse(sample)).toEqual(sample);
    expect(JSON.stringify(sample).length).toBeLessThan(300);
    // A minute later without work, the window has no tokens: the benchmark's figure again.
    now = 80_000;
    await metrics.refresh();
    now = 150_000;
    expect((await metrics.refresh()).flops).toBe(2e8);
  });

  it('has no FLOPS per watt where power is unknown', async () => {
    const metrics = new NodeMetrics({
      models: [{ sha256: 'a', name: 'm', parameterCount: 10, tokensPerSecond: 1 }],
      sampler: hardware(null),
    });
    await metrics.refresh();
    expect(metrics.flopsPerWatt()).toBeNull();
  });

  it('reads nvidia-smi lines and /proc/stat deltas', () => {
    expect(parseNvidiaSmi('50, 1024, 100.5, 60\n70, 2048, [N/A], 72\n')).toEqual({
      utilization: 60,
      memoryUsedBytes: 3072 * 1024 * 1024,
      powerWatts: 100.5,
      temperatureC: 72,
    });
    expect(parseNvidiaSmi('')).toBeNull();
    // Captured on an NVIDIA H200 (driver 580) under a bf16 matmul loop, and idle.
    expect(parseNvidiaSmi('100, 1011, 367.78, 52\n')).toEqual({
      utilization: 100,
      memoryUsedBytes: 1011 * 1024 * 1024,
      powerWatts: 367.78,
      temperatureC: 52,
    });
    expect(parseNvidiaSmi('0, 0, 121.26, 36\n')?.powerWatts).toBe(121.26);
    // 100 jiffies passed, 25 of them idle: 75 % busy.
    expect(cpuBusyPercent([100, 0, 100, 100, 0], [150, 0, 125, 125, 0])).toBe(75);
  });

  it('logs and skips a status port in use instead of failing', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const lines: string[] = [];
    const server = await startStatusServer({
      port,
      status: () => {
        throw new Error('not asked');
      },
      log: (line) => lines.push(line),
    });
    expect(server).toBeNull();
    expect(lines.join('\n')).toMatch(new RegExp(`${port}: the port is in use`));
    taken.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import {
  DEFAULT_TIERS,
  MetricSeriesStore,
  type NodeMetricPoint,
  type SeriesTiers,
  seriesRowBound,
} from './metric-series.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(tiers?: SeriesTiers) {
  const dir = mkdtempSync(join(tmpdir(), 'series-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  return { db, series: new MetricSeriesStore(db, tiers) };
}

const point = (at: number, tokensPerSecond: number, gpu: number | null = null): NodeMetricPoint => ({
  at,
  tokensPerSecond,
  flops: tokensPerSecond * 1e6,
  gpuUtilization: gpu,
  cpuUtilization: 50,
  memoryUsedBytes: 1e9,
  powerWatts: null,
  temperatureC: null,
  tasksDone: Math.floor(at / 60_000),
  tasksFailed: 0,
});

/** Runs the store as the recorder does: a sample every sampleMs, compaction every minute. */
function run(series: MetricSeriesStore, nodes: string[], fromMs: number, toMs: number, rate: number) {
  const { sampleMs } = series.tiers;
  for (let at = fromMs; at < toMs; at += sampleMs) {
    series.addNodePoints(nodes.map((nodeId) => ({ nodeId, ...point(at, rate) })));
    series.addNetworkPoint({
      at,
      nodesOnline: nodes.length,
      tasksPerMinute: rate,
      tokensPerSecond: rate,
      queueDepth: 0,
      flops: rate,
      passRate: null,
    });
    if (at % 60_000 === 0) series.compact(at);
  }
}

describe('metric series', () => {
  it('stays under its row bound over two days of uptime, while recent minutes keep every sample', () => {
    const { db, series } = open();
    const start = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
    const end = start + 2 * 24 * 3_600_000;
    run(series, ['0xa', '0xb'], start, end, 10);
    const bound = seriesRowBound(DEFAULT_TIERS);
    const counts = series.rowCounts();
    expect(counts.node).toBeLessThanOrEqual(2 * bound);
    expect(counts.network).toBeLessThanOrEqual(bound);
    // Two days at one sample per 10 s would be 17,280 rows a series; the tiers keep a few hundred.
    expect(counts.network).toBeLessThan(600);
    // The last ten minutes are at full rate: one point per sample.
    const recent = series.nodePoints('0xa', end - 10 * 60_000, 10_000);
    expect(recent.length).toBe(60);
    // The whole history is still there, averaged: hourly points cover the first day.
    const hourly = series.networkPoints(start, 3_600_000);
    expect(hourly.length).toBe(48);
    expect(hourly.every((p) => p.tokensPerSecond === 10)).toBe(true);
    // Uptime counts every sample, whichever tier holds it: two days each.
    expect(series.uptimeOf('0xa')).toBe(2 * 24 * 3600);
    db.close();
  });

  it('drops what is older than the coarse tier keeps, so the size is bounded whatever the uptime', () => {
    const tiers: SeriesTiers = {
      sampleMs: 10_000,
      rawKeepMs: 60_000,
      mediumBucketMs: 60_000,
      mediumKeepMs: 5 * 60_000,
      coarseBucketMs: 5 * 60_000,
      coarseKeepMs: 30 * 60_000,
    };
    const { db, series } = open(tiers);
    const bound = seriesRowBound(tiers);
    let max = 0;
    for (let hour = 0; hour < 12; hour++) {
      run(series, ['0xa'], hour * 3_600_000, (hour + 1) * 3_600_000, hour);
      max = Math.max(max, series.rowCounts().node);
    }
    expect(max).toBeLessThanOrEqual(bound);
    // Nothing older than the coarse keep time is left.
    expect(series.nodePoints('0xa', 0, 60_000)[0]?.at).toBeGreaterThanOrEqual(12 * 3_600_000 - 31 * 60_000);
    db.close();
  });

  it('averages a bucket weighted by samples and keeps unknown figures null, not zero', () => {
    const { db, series } = open();
    const base = 3_600_000 * 1000;
    series.addNodePoints([
      { nodeId: '0xa', ...point(base, 10, 40) },
      { nodeId: '0xa', ...point(base + 10_000, 20, null) },
      { nodeId: '0xa', ...point(base + 20_000, 30, 80) },
    ]);
    const [bucket] = series.nodePoints('0xa', base, 60_000);
    expect(bucket?.tokensPerSecond).toBe(20);
    expect(bucket?.gpuUtilization).toBe(60);
    expect(bucket?.powerWatts).toBeNull();
    // Compacted into a 5-minute bucket, the same averages hold.
    series.compact(base + 60 * 60_000);
    const [compacted] = series.nodePoints('0xa', base, 60_000);
    expect(compacted?.tokensPerSecond).toBe(20);
    expect(compacted?.gpuUtilization).toBe(60);
    db.close();
  });
});

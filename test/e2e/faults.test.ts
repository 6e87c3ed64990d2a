import { describe, expect, it } from 'vitest';
import { describeFailures, type FaultReport } from '../../bench/sim/fault-check.js';
import { LIARS } from '../../bench/sim/fault-node.js';
import { runFaults } from '../../bench/sim/faults.js';

// Issue 9, fault injection: a short seeded run of the real router with simulated nodes (FAKE engine) that
// crash, lose, repeat, reorder and delay messages, run slow or lie, and one router restart; the whole history
// must keep every invariant (bench/sim/fault-check.ts). `npm run bench -- faults` runs many more seeds.
// OTENSOR_FAULT_SEED=N runs that seed alone (to reproduce a failure).
// Seed 1 found checks left waiting on one unresponsive checker (docs/architecture.md, "Fault injection").
const seeds = process.env.OTENSOR_FAULT_SEED ? [Number(process.env.OTENSOR_FAULT_SEED)] : [1, 2, 3, 4];

describe('fault injection (simulation)', () => {
  const reports: FaultReport[] = [];
  for (const seed of seeds) {
    it(`seed ${seed}: every invariant holds`, async () => {
      const report = await runFaults({ seed, nodes: 8, requests: 60, answerWithinMs: 60_000 });
      reports.push(report);
      expect(report.ok, describeFailures(report)).toBe(true);
      expect(report.answered + Object.values(report.refused).reduce((a, b) => a + b, 0)).toBe(60);
    }, 120_000);
  }

  it.skipIf(seeds.length === 1)('the seeds injected every kind of fault', () => {
    const injected = new Set(reports.flatMap((r) => Object.keys(r.injected)));
    for (const liar of LIARS) expect(injected, liar).toContain(`lie:${liar}`);
    for (const kind of [
      'net:drop',
      'net:duplicate',
      'net:reorder',
      'net:delay',
      'slow',
      'node-crash',
      'router-restart',
    ])
      expect(injected, kind).toContain(kind);
    // The checks caught liars: failed verdicts were stored against them.
    expect(reports.some((r) => Object.keys(r.caught).length > 0)).toBe(true);
  });
});

/**
 * `npm run bench -- faults`: the fault-injection simulation (bench/sim/faults.ts) over many seeds, longer runs
 * than `npm test`'s. `--seeds N` sets how many (default 50, seeds 1..N); `--seed N` (or OTENSOR_FAULT_SEED=N)
 * runs that one seed alone and prints its failures, to reproduce one.
 */
import { describeFailures, type FaultReport } from './sim/fault-check.js';
import { runFaults } from './sim/faults.js';

const NODES = 12;
const REQUESTS = 120;

function option(argv: string[], name: string): number | undefined {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? Number(argv[at + 1]) : undefined;
}

export async function faultsBench(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const one =
    option(argv, '--seed') ??
    (process.env.OTENSOR_FAULT_SEED ? Number(process.env.OTENSOR_FAULT_SEED) : undefined);
  const count = option(argv, '--seeds') ?? 50;
  const seeds = one !== undefined ? [one] : Array.from({ length: count }, (_, i) => i + 1);
  const reports: FaultReport[] = [];
  for (const seed of seeds) {
    const report = await runFaults({ seed, nodes: NODES, requests: REQUESTS });
    reports.push(report);
    process.stderr.write(
      `seed ${seed}: ${report.ok ? 'ok' : 'FAILED'} in ${report.seconds} s, ${report.answered} answered, refused ${JSON.stringify(report.refused)}\n`,
    );
    if (!report.ok) process.stderr.write(`${describeFailures(report)}\n`);
  }
  const sum = (pick: (r: FaultReport) => Record<string, number>) => {
    const total: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(pick(r))) total[k] = (total[k] ?? 0) + v;
    return total;
  };
  const invariants: Record<string, string> = {};
  for (const r of reports)
    for (const i of r.invariants) {
      const failed = reports
        .filter((x) => x.invariants.some((y) => y.name === i.name && !y.ok))
        .map((x) => x.seed);
      invariants[i.name] =
        failed.length === 0 ? `held in ${reports.length} seeds` : `FAILED in seeds ${failed.join(', ')}`;
    }
  return {
    simulation: 'real router in-process, simulated nodes with a fake engine (bench/sim/faults.ts)',
    seeds: seeds.length,
    seedsFailed: reports.filter((r) => !r.ok).map((r) => r.seed),
    nodesPerSeed: NODES,
    requestsPerSeed: REQUESTS,
    requests: reports.reduce((a, r) => a + r.requests, 0),
    answered: reports.reduce((a, r) => a + r.answered, 0),
    refused: sum((r) => r.refused),
    uncheckedLiesDelivered: reports.reduce((a, r) => a + r.uncheckedLiesDelivered, 0),
    clientResends: reports.reduce((a, r) => a + r.resends, 0),
    injected: sum((r) => r.injected),
    failedVerdictsByBehaviour: sum((r) => r.caught),
    invariants,
    seconds: Number(reports.reduce((a, r) => a + r.seconds, 0).toFixed(1)),
  };
}

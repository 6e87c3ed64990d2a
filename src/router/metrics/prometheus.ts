import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BURN, DECIMALS, GENESIS, MINT, TREASURY } from '../../ledger/index.js';
import type { NetworkFigures } from './network-figures.js';

export type PrometheusSources = {
  figures: NetworkFigures;
  queueDepth: () => number;
  /** Connected nodes taking work, by type (desktop-gpu, apple, cpu, other). */
  nodesByType: () => Map<string, number>;
  /** The ledger's balances and commit counts (the narrow part of src/ledger's Ledger it reads). */
  ledger: { balance(account: string): bigint; readonly commits: { entries: number } };
};

const toTokens = (amount: bigint) => Number(amount) / 10 ** DECIMALS;

/**
 * The router's Prometheus registry (its own, not prom-client's global one, so two routers in one process and
 * the tests stay apart). Network-wide series only: per-node figures go through the API (cardinality).
 * Names follow Prometheus conventions: `omnitensor_` prefix, `_total` counters, base units (`_seconds`).
 */
export function createPrometheusRegistry(s: PrometheusSources): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'omnitensor_nodes_online',
    help: 'Connected nodes taking work, by node type.',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, count] of s.nodesByType()) this.set({ type }, count);
    },
  });
  new Gauge({
    name: 'omnitensor_queue_depth',
    help: 'Tasks waiting for a node.',
    registers: [registry],
    collect() {
      this.set(s.queueDepth());
    },
  });
  new Gauge({
    name: 'omnitensor_compute_flops',
    help: "Sum of the connected nodes' measured FLOPS (floating point operations per second).",
    registers: [registry],
    collect() {
      this.set(s.figures.totalFlops());
    },
  });
  const tasks = new Counter({
    name: 'omnitensor_tasks_total',
    help: 'Tasks ended, by outcome (done, or failed with the error kind).',
    labelNames: ['outcome', 'kind'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'omnitensor_output_tokens_total',
    help: 'Output tokens of accepted results.',
    registers: [registry],
  });
  const dispatch = new Histogram({
    name: 'omnitensor_task_dispatch_latency_seconds',
    help: 'Time from a task being accepted by the router to its lease to the node that answered.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const speed = new Histogram({
    name: 'omnitensor_task_output_tokens_per_second',
    help: 'Output tokens per second of each generating task, from its lease to its result.',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'omnitensor_verifications_total',
    help: 'Verdicts on checked results, by check level and outcome.',
    labelNames: ['level', 'outcome'],
    registers: [registry],
  });
  const ledgerGauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  // Issuance accounts run negative by what they issued (see src/ledger/accounts.ts).
  ledgerGauge('omnitensor_ledger_issued_tokens', 'Tokens issued: genesis plus minted.', () =>
    toTokens(-(s.ledger.balance(GENESIS) + s.ledger.balance(MINT))),
  );
  ledgerGauge('omnitensor_ledger_burned_tokens', 'Tokens burned.', () => toTokens(s.ledger.balance(BURN)));
  ledgerGauge('omnitensor_ledger_treasury_tokens', "The treasury's balance (fees).", () =>
    toTokens(s.ledger.balance(TREASURY)),
  );
  new Counter({
    name: 'omnitensor_ledger_entries_total',
    help: 'Ledger entries committed since the router started.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(s.ledger.commits.entries);
    },
  });

  s.figures.onTaskEnd = (end) => {
    if (end.outcome === 'failed') {
      tasks.inc({ outcome: 'failed', kind: end.kind });
      return;
    }
    tasks.inc({ outcome: 'done' });
    tokens.inc(end.tokens);
    if (end.dispatchSeconds !== null) dispatch.observe(end.dispatchSeconds);
    if (end.tokensPerSecond !== null) speed.observe(end.tokensPerSecond);
  };
  s.figures.onVerdict = (event) => verifications.inc({ level: event.level, outcome: event.outcome });
  return registry;
}

import type { Ledger } from '../ledger/index.js';
import type {
  KeyStore,
  ModelRecord,
  ModelStore,
  NodeStore,
  SessionStore,
  TaskStore,
  VerdictStore,
} from '../store/index.js';
import type { RouterMetrics } from './metrics/router-metrics.js';
import type { Gateway } from './nodes/gateway.js';
import type { EpochCloser } from './tasks/epoch-meter.js';
import type { NodeGate } from './tasks/node-gate.js';
import type { Payments } from './tasks/payments.js';
import type { Scheduler } from './tasks/scheduler.js';
import type { TaskManager } from './tasks/task-manager.js';
import type { Verification } from './tasks/verification.js';

/** The services the HTTP routes use; built once in the composition root. */
export type RouterServices = {
  keys: KeyStore;
  models: ModelStore;
  sessions: SessionStore;
  taskStore: TaskStore;
  tasks: TaskManager;
  scheduler: Scheduler;
  gateway: Gateway;
  verification: Verification;
  nodes: NodeStore;
  verdicts: VerdictStore;
  ledger: Ledger;
  payments: Payments;
  epochs: EpochCloser;
  /** Minimum stake to receive work: `gate.canReceiveWork(nodeId)`, `gate.refresh(nodeId)` after a stake moves. */
  gate: NodeGate;
  /** Figures, time series, idle reasons and the Prometheus registry (src/router/metrics). */
  metrics: RouterMetrics;
  defaultMaxTokens: number;
};

export type { ModelRecord };

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
import type { EpochCloser } from './epoch-meter.js';
import type { Gateway } from './gateway.js';
import type { NodeGate } from './node-gate.js';
import type { Payments } from './payments.js';
import type { Scheduler } from './scheduler.js';
import type { TaskManager } from './task-manager.js';
import type { Verification } from './verification.js';

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
  defaultMaxTokens: number;
};

export type { ModelRecord };

import type { KeyStore, ModelRecord, ModelStore, SessionStore, TaskStore } from '../store/index.js';
import type { Gateway } from './gateway.js';
import type { Scheduler } from './scheduler.js';
import type { TaskManager } from './task-manager.js';

/** The services the HTTP routes use; built once in the composition root. */
export type RouterServices = {
  keys: KeyStore;
  models: ModelStore;
  sessions: SessionStore;
  taskStore: TaskStore;
  tasks: TaskManager;
  scheduler: Scheduler;
  gateway: Gateway;
  defaultMaxTokens: number;
};

export type { ModelRecord };

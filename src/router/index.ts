export { createLogger, type Logger } from './log.js';
export { type RouterConfig, type RunningRouter, routerConfig, startRouter } from './main.js';
export { type Lease, type NodeInfo, type QueuedTask, Scheduler } from './tasks/scheduler.js';

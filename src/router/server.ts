import Fastify, { type FastifyInstance } from 'fastify';
import { Ledger } from '../ledger/index.js';
import {
  type Db,
  KeyStore,
  LedgerStore,
  LoginTokenStore,
  ModelStore,
  NodeStore,
  openDatabase,
  PaymentStore,
  SessionStore,
  TaskStore,
  VerdictStore,
} from '../store/index.js';
import { bearerAuth } from './auth.js';
import { batchRoutes } from './batch-routes.js';
import type { RouterServices } from './context.js';
import { EpochCloser, EpochMeter } from './epoch-meter.js';
import { Gateway } from './gateway.js';
import { errorHandler } from './http-errors.js';
import { type LedgerSettings, ledgerConfigOf, ledgerSettings } from './ledger-config.js';
import { ledgerRoutes } from './ledger-routes.js';
import type { Logger } from './log.js';
import { loginRoutes } from './login-routes.js';
import { modelRoutes } from './model-routes.js';
import { networkRoutes } from './network-routes.js';
import { NodeGate } from './node-gate.js';
import { openAiRoutes } from './openai-routes.js';
import { Payments } from './payments.js';
import { Scheduler } from './scheduler.js';
import { SignaturePool } from './signature-pool.js';
import { TaskManager } from './task-manager.js';
import { Verification } from './verification.js';

export type RouterInit = {
  dataDir: string;
  queueLimit: number;
  maxAttempts: number;
  heartbeatMs: number;
  leaseGraceMs: number;
  defaultMaxTokens: number;
  bodyLimitBytes: number;
  /** How long a batch may run before it expires. */
  batchWindowMs: number;
  /** Worker threads that check result signatures; default one per core beyond the first, at most 4. */
  verifyThreads?: number | undefined;
  /** How long a check may wait for a node that can make it when none is connected; default 30 s. */
  checkWaitMs?: number | undefined;
  /** How long a wallet login's token works; default 7 days. */
  loginTokenTtlMs?: number | undefined;
  /** The network's economy: prices, fee, genesis, staking, slashing, rewards (default: free, no genesis). */
  ledger?: LedgerSettings | undefined;
  log: Logger;
};

export type RouterApp = { app: FastifyInstance; services: RouterServices; db: Db; close(): Promise<void> };

/** Wires the store, scheduler, task manager, gateway and HTTP routes into one router. */
export function buildRouter(init: RouterInit): RouterApp {
  const db = openDatabase(init.dataDir);
  const taskStore = new TaskStore(db);
  const models = new ModelStore(db);
  const nodes = new NodeStore(db);
  // The scheduler calls out to the task manager and gateway, which are built right after it.
  let tasks!: TaskManager;
  let gateway!: Gateway;
  const scheduler = new Scheduler({
    queueLimit: init.queueLimit,
    maxAttempts: init.maxAttempts,
    leaseGraceMs: init.leaseGraceMs,
    assign: (lease) => {
      const handle = tasks.handle(lease.task.id);
      if (!handle) {
        queueMicrotask(() => scheduler.cancel(lease.task.id));
        return true;
      }
      tasks.started(lease);
      return gateway.assign(lease, {
        type: 'task',
        taskId: lease.task.id,
        attempt: lease.attempt,
        modelSha256: lease.task.modelSha256,
        input: handle.record.input,
        deadline: lease.deadline,
      });
    },
    giveUp: (task, reason) => {
      init.log('warn', 'task gave up', { task: task.id, attempts: task.attempts, reason });
      tasks.gaveUp(task.id, task.attempts, reason);
    },
  });
  tasks = new TaskManager(taskStore, scheduler);
  const verdicts = new VerdictStore(db);
  const verification = new Verification({
    tasks,
    scheduler,
    models,
    verdicts,
    log: init.log,
    ...(init.checkWaitMs === undefined ? {} : { checkWaitMs: init.checkWaitMs }),
  });
  tasks.setReviewer(verification);
  // First of the admission observers: a check no connected node can make is refused before payment holds.
  tasks.observe(verification);

  // The ledger (issue 5): payments at admission and on accepted results, slashes on failed verdicts, epochs.
  const settings = init.ledger ?? ledgerSettings.parse(undefined);
  const ledger = new Ledger({
    store: new LedgerStore(db),
    config: ledgerConfigOf(settings),
    onCommitError: (error) =>
      init.log('error', 'ledger commit failed; its bookings were dropped', { error: error.message }),
  });
  if (settings.genesis.length > 0) ledger.genesis(settings.genesis);
  const keys = new KeyStore(db);
  const payments = new Payments(
    {
      ledger,
      store: new PaymentStore(db),
      keys,
      tasks: taskStore,
      scheduler,
      nodes,
      verdicts,
      log: init.log,
    },
    settings,
  );
  const meter = new EpochMeter(ledger.epochs.current().startedAt);
  const epochs = new EpochCloser({ ledger, meter, accountOf: (id) => payments.wallet(id), log: init.log });
  const gate = new NodeGate({
    scheduler,
    ledger,
    meter,
    onWallet: (id, wallet) => payments.rememberWallet(id, wallet),
    log: init.log,
  });
  tasks.observe(payments);
  tasks.observe(meter);
  verification.onVerdict((event) => {
    payments.verdict(event);
    if (event.outcome === 'fail') gate.refresh(event.nodeId);
  });
  const signatures = new SignaturePool(init.verifyThreads);
  gateway = new Gateway({
    scheduler,
    tasks,
    nodes,
    models,
    signatures,
    log: init.log,
    heartbeatMs: init.heartbeatMs,
  });

  const services: RouterServices = {
    keys,
    models,
    sessions: new SessionStore(db),
    taskStore,
    tasks,
    scheduler,
    gateway,
    verification,
    nodes,
    verdicts,
    ledger,
    payments,
    epochs,
    gate,
    defaultMaxTokens: init.defaultMaxTokens,
  };

  const app = Fastify({ logger: false, bodyLimit: init.bodyLimitBytes, forceCloseConnections: true });
  app.setErrorHandler(errorHandler);
  // Nodes count once they can take work (their hello verified and their models proven).
  app.get('/health', async () => ({ status: 'ok', nodes: scheduler.nodeCount }));
  // Model catalog and files: public, since nodes fetch models and hold no API key.
  app.register(async (open) => modelRoutes(open, services));
  // Wallet login: public, since it is how a user without an API key gets a credential.
  const loginTokens = new LoginTokenStore(db);
  app.register(async (open) =>
    loginRoutes(open, { keys: services.keys, loginTokens }, { tokenTtlMs: init.loginTokenTtlMs }),
  );
  app.register(async (api) => {
    api.addHook('onRequest', bearerAuth({ keys: services.keys, loginTokens }));
    openAiRoutes(api, services);
    networkRoutes(api, services);
    ledgerRoutes(api, services);
    batchRoutes(api, services, {
      db,
      log: init.log,
      queueLimit: init.queueLimit,
      batchWindowMs: init.batchWindowMs,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: {
        message: `No route ${request.method} ${request.url}.`,
        type: 'invalid_request_error',
        param: null,
        code: 'not_found',
      },
    });
  });
  gateway.attach(app.server);

  const leaseTimer = setInterval(() => {
    for (const lease of scheduler.expireLeases()) {
      init.log('warn', 'lease expired', { task: lease.task.id, node: lease.nodeId, attempt: lease.attempt });
      gateway.cancel(lease.nodeId, lease.task.id, lease.attempt);
    }
  }, 250);
  leaseTimer.unref();
  const ledgerTimer = setInterval(() => epochs.tick(), Math.min(1000, settings.epochMs));
  ledgerTimer.unref();

  // Payments first: it reads which held tasks finished before the task manager queues the rest again.
  const epoch = ledger.epochs.current();
  const payment = payments.recover(epoch.startedAt);
  if (payment.booked + payment.released > 0)
    init.log('info', 'settled payments left from the last run', { ...payment });
  meter.preload(new PaymentStore(db).doneByNodeSince(epoch.startedAt));
  const recovered = tasks.recover();
  if (recovered > 0) init.log('info', 'recovered unfinished tasks from the store', { count: recovered });

  return {
    app,
    services,
    db,
    async close() {
      clearInterval(leaseTimer);
      clearInterval(ledgerTimer);
      await gateway.close();
      await app.close();
      await signatures.stop();
      taskStore.flush();
      ledger.close();
      payments.close();
      db.close();
    },
  };
}

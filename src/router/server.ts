import Fastify, { type FastifyInstance } from 'fastify';
import { ChainLink, type ChainLinkSettings } from '../chain/index.js';
import { Campaigns } from '../data/index.js';
import { Ledger } from '../ledger/index.js';
import type { HealthView } from '../protocol/index.js';
import {
  type Db,
  DEFAULT_TIERS,
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
import { mark } from '../timing/marks.js';
import { bearerAuth } from './api/auth.js';
import { batchRoutes } from './api/batch-routes.js';
import { CampaignPreReview } from './api/campaign-prereview.js';
import { campaignRoutes } from './api/campaign-routes.js';
import { chainAccountRoutes, chainRoutes } from './api/chain-routes.js';
import { dataLeaderboardRoutes } from './api/data-leaderboard-routes.js';
import { createErrorHandler } from './api/http-errors.js';
import { ledgerRoutes } from './api/ledger-routes.js';
import { loginRoutes } from './api/login-routes.js';
import { metricsRoutes } from './api/metrics-routes.js';
import { modelRoutes } from './api/model-routes.js';
import { networkRoutes } from './api/network-routes.js';
import { openAiRoutes } from './api/openai-routes.js';
import { webRoutes } from './api/web-routes.js';
import type { RouterServices } from './context.js';
import { type LedgerSettings, ledgerConfigOf, ledgerSettings } from './ledger-config.js';
import type { Logger } from './log.js';
import { RouterMetrics } from './metrics/router-metrics.js';
import { Gateway } from './nodes/gateway.js';
import { CATALOG_SWEEP_MS, expireAnnouncedModels } from './nodes/model-catalog.js';
import { SignaturePool } from './nodes/signature-pool.js';
import { taskMessageFor } from './nodes/task-message.js';
import { limitByClient, limitByKey, RateLimiter } from './rate-limit.js';
import { EpochCloser, EpochMeter } from './tasks/epoch-meter.js';
import { NodeGate } from './tasks/node-gate.js';
import { Payments } from './tasks/payments.js';
import { Scheduler } from './tasks/scheduler.js';
import { TaskManager } from './tasks/task-manager.js';
import { Verification } from './tasks/verification.js';
import type { TlsMaterial } from './tls.js';

export type RouterInit = {
  dataDir: string;
  queueLimit: number;
  maxAttempts: number;
  heartbeatMs: number;
  /** How often figures are recorded into the metrics series (default 10 s). */
  metricsSampleMs?: number | undefined;
  leaseGraceMs: number;
  /** An unproven node's time to its first piece of a task (src/router/lease-policy.ts). */
  firstTokenMs?: number | undefined;
  /** Least time a lease's stream may go quiet after its first piece (src/router/tasks/lease-policy.ts). */
  quietFloorMs?: number | undefined;
  defaultMaxTokens: number;
  bodyLimitBytes: number;
  /** How long a batch may run before it expires. */
  batchWindowMs: number;
  /** Worker threads that check result signatures; default one per core beyond the first, at most 4. */
  verifyThreads?: number | undefined;
  /** How long a check may wait for a node that can make it when none is connected; default 30 s. */
  checkWaitMs?: number | undefined;
  /** Share of likelihood checks followed by a honeypot task for a validator; default 0.02. */
  honeypotRate?: number | undefined;
  /** How long a wallet login's token works; default 7 days. */
  loginTokenTtlMs?: number | undefined;
  /** Requests per second per account (or key without one); 0: off. Default 1000. */
  rateLimit?: number | undefined;
  /** Requests per second per client address on the public routes (and failed logins); 0: off. Default 100. */
  rateLimitIp?: number | undefined;
  /** Messages per second a node may send before it is rejected and disconnected; 0: off. Default 2000. */
  nodeMessageBudget?: number | undefined;
  /** The network's economy: prices, fee, genesis, staking, slashing, rewards (default: free, no genesis). */
  ledger?: LedgerSettings | undefined;
  /** Certificate and key: the API is served over HTTPS and the node gateway over WSS. */
  https?: TlsMaterial | undefined;
  /** Link to a chain: epoch roots are posted there (docs/chain.md); off chain when absent. */
  chain?: ChainLinkSettings | undefined;
  log: Logger;
};

export type RouterApp = { app: FastifyInstance; services: RouterServices; db: Db; close(): Promise<void> };

/** Wires the store, scheduler, task manager, gateway and HTTP routes into one router. */
export function buildRouter(init: RouterInit): RouterApp {
  const db = openDatabase(init.dataDir);
  const taskStore = new TaskStore(db);
  const models = new ModelStore(db);
  const nodes = new NodeStore(db);
  // Built first, since the task manager and gateway need it; its way out is wired by `start` below.
  const scheduler = new Scheduler({
    queueLimit: init.queueLimit,
    maxAttempts: init.maxAttempts,
    leaseGraceMs: init.leaseGraceMs,
    ...(init.firstTokenMs === undefined ? {} : { firstTokenMs: init.firstTokenMs }),
    ...(init.quietFloorMs === undefined ? {} : { quietFloorMs: init.quietFloorMs }),
  });
  const tasks = new TaskManager(taskStore, scheduler, init.log);
  const verdicts = new VerdictStore(db);
  const verification = new Verification({
    tasks,
    scheduler,
    models,
    verdicts,
    log: init.log,
    ...(init.checkWaitMs === undefined ? {} : { checkWaitMs: init.checkWaitMs }),
    ...(init.honeypotRate === undefined ? {} : { honeypotRate: init.honeypotRate }),
    // Checkers are drawn by bonded stake; the ledger is built below and asked only once checks run.
    stakeOf: (nodeId) => {
      try {
        return ledger.staking.get(nodeId).bonded + (chain?.stakes.bonded(nodeId) ?? 0n);
      } catch {
        return 0n;
      }
    },
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
      models,
      onSlash: (slash) => chain?.slashes.forward(slash),
    },
    settings,
  );
  // Data campaigns (issue 12, src/data): their money moves through the same ledger.
  const campaigns = new Campaigns({ db, ledger, dataDir: init.dataDir, walletOf: (a) => payments.wallet(a) });
  const meter = new EpochMeter(ledger.epochs.current().startedAt);
  const chain = init.chain ? new ChainLink({ ledger, log: init.log, settings: init.chain }) : undefined;
  const epochs = new EpochCloser({
    ledger,
    meter,
    accountOf: (id) => payments.wallet(id),
    chainStake: chain ? (id) => chain.stakes.leastThisEpoch(id) : undefined,
    log: init.log,
  });
  const gate = new NodeGate({
    scheduler,
    ledger,
    meter,
    onWallet: (id, wallet) => payments.rememberWallet(id, wallet),
    log: init.log,
    ...(chain ? { chainStake: (id: string) => chain.stakes.bonded(id) } : {}),
  });
  if (chain) chain.stakes.onChange = (id) => gate.refresh(id);
  tasks.observe(payments);
  tasks.observe(meter);
  verification.onVerdict((event) => {
    payments.verdict(event);
    if (event.outcome === 'fail') gate.refresh(event.nodeId);
  });
  // Metrics (issue 11): counts tasks and verdicts, hears node figures from the gateway; reads the rest.
  const metrics = new RouterMetrics({
    db,
    scheduler,
    gate,
    verification,
    verdicts,
    models,
    ledger,
    walletOf: (id) => payments.wallet(id),
    log: init.log,
    tiers: { ...DEFAULT_TIERS, sampleMs: init.metricsSampleMs ?? DEFAULT_TIERS.sampleMs },
  });
  tasks.observe(metrics.figures);
  verification.onVerdict((event) => metrics.figures.verdict(event));
  const signatures = new SignaturePool(init.verifyThreads);
  const gateway = new Gateway({
    scheduler,
    tasks,
    nodes,
    models,
    signatures,
    log: init.log,
    heartbeatMs: init.heartbeatMs,
    messageBudget: init.nodeMessageBudget,
    figures: metrics.figures,
  });
  // Every peer exists now: leases go to the gateway, and a task out of attempts is given up.
  scheduler.start({
    assign: (lease) => {
      const handle = tasks.handle(lease.task.id);
      if (!handle) {
        queueMicrotask(() => scheduler.cancel(lease.task.id));
        return true;
      }
      tasks.started(lease);
      return gateway.assign(lease, taskMessageFor(lease, handle.record));
    },
    giveUp: (task, reason) => {
      init.log('warn', 'task gave up', { task: task.id, attempts: task.attempts, reason });
      tasks.gaveUp(task.id, task.attempts, reason);
    },
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
    metrics,
    defaultMaxTokens: init.defaultMaxTokens,
  };
  const prereview = new CampaignPreReview(services, campaigns, init.log);

  const perKey = new RateLimiter({ ratePerSecond: init.rateLimit ?? 1000 });
  const perClient = new RateLimiter({ ratePerSecond: init.rateLimitIp ?? 100 });
  const byClient = limitByClient(perClient);
  const app = Fastify({
    logger: false,
    bodyLimit: init.bodyLimitBytes,
    forceCloseConnections: true,
    ...(init.https ? { https: init.https } : {}),
  }) as FastifyInstance;
  app.setErrorHandler(createErrorHandler(init.log));
  app.server.prependListener('request', () => mark('r.http'));
  // Nodes count once they can take work (their hello verified and their models proven).
  app.get('/health', async (): Promise<HealthView> => ({ status: 'ok', nodes: scheduler.nodeCount }));
  // The dashboard's static files at `/`: public; what it shows comes from the API with the user's own key.
  app.register(async (open) => webRoutes(open));
  // Model catalog and files: public, since nodes fetch models and hold no API key.
  app.register(async (open) => {
    open.addHook('onRequest', byClient);
    modelRoutes(open, services);
  });
  // Network and node figures, and Prometheus: public (the network's figures, no user's data).
  app.register(async (open) => {
    open.addHook('onRequest', byClient);
    metricsRoutes(open, services, metrics);
  });
  // Wallet login: public, since it is how a user without an API key gets a credential.
  const loginTokens = new LoginTokenStore(db);
  app.register(async (open) => {
    open.addHook('onRequest', byClient);
    loginRoutes(open, { keys: services.keys, loginTokens }, { tokenTtlMs: init.loginTokenTtlMs });
  });
  app.register(async (open) => {
    open.addHook('onRequest', byClient);
    chainRoutes(open, { ledger, chain });
  });
  const authenticate = bearerAuth({ keys: services.keys, loginTokens });
  app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      // Guessing keys costs the guesser's address its rate; a known key spends its account's.
      try {
        await authenticate(request);
      } catch (error) {
        await byClient(request);
        throw error;
      }
    });
    api.addHook('onRequest', limitByKey(perKey));
    openAiRoutes(api, services);
    networkRoutes(api, services);
    ledgerRoutes(api, services);
    chainAccountRoutes(api, { ledger, chain });
    campaignRoutes(api, campaigns, prereview);
    dataLeaderboardRoutes(api, campaigns);
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
  const catalogTimer = setInterval(() => {
    const dropped = expireAnnouncedModels(models, scheduler);
    if (dropped.length > 0) init.log('info', 'announced models no node serves left the catalog', { dropped });
  }, CATALOG_SWEEP_MS);
  catalogTimer.unref();
  metrics.start();
  chain?.start();

  // Payments first: it reads which held tasks finished before the task manager queues the rest again.
  const epoch = ledger.epochs.current();
  const payment = payments.recover(epoch.startedAt);
  if (payment.booked + payment.released > 0)
    init.log('info', 'settled payments left from the last run', { ...payment });
  meter.preload(new PaymentStore(db).doneByNodeSince(epoch.startedAt));
  const campaignBookings = campaigns.recover();
  if (campaignBookings > 0)
    init.log('info', 'booked campaign payments left from the last run', { campaignBookings });
  const recovered = tasks.recover();
  if (recovered > 0) init.log('info', 'recovered unfinished tasks from the store', { count: recovered });
  const prereviews = prereview.resume();
  if (prereviews > 0) init.log('info', 'resumed machine pre-reviews', { count: prereviews });

  return {
    app,
    services,
    db,
    async close() {
      clearInterval(leaseTimer);
      clearInterval(ledgerTimer);
      clearInterval(catalogTimer);
      metrics.stop();
      await chain?.stop();
      tasks.stop();
      scheduler.stop();
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

import { z } from 'zod';
import { ledgerSettings } from './ledger-config.js';
import { createLogger, type Logger } from './log.js';
import { buildRouter, type RouterApp } from './server.js';
import {
  FIRST_TOKEN_FLOOR_MS,
  FIRST_TOKEN_MS,
  QUIET_FLOOR_MIN_MS,
  QUIET_FLOOR_MS,
} from './tasks/lease-policy.js';
import { readTlsFiles } from './tls.js';

export const routerConfig = z.object({
  port: z.number().int().min(0).max(65535),
  host: z.string().default('127.0.0.1'),
  dataDir: z.string().min(1),
  queueLimit: z.number().int().min(1).default(1000),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  heartbeatMs: z.number().int().min(100).default(2000),
  /** How often node and network figures go into the metrics series (raw tier; see src/store/metric-series.ts). */
  metricsSampleMs: z.number().int().min(100).default(10_000),
  leaseGraceMs: z.number().int().min(100).default(30_000),
  /**
   * How long a node that has not yet delivered work has to send the first piece of a task; the floor keeps a
   * loaded machine's honest nodes from being failed (src/router/lease-policy.ts).
   */
  firstTokenMs: z.number().int().min(FIRST_TOKEN_FLOOR_MS).default(FIRST_TOKEN_MS),
  /**
   * How long a lease's stream may go quiet after its first piece (at least; a slow node gets 20 times its
   * measured gap between pieces) before the task is taken back and run elsewhere (src/router/lease-policy.ts).
   */
  quietFloorMs: z.number().int().min(QUIET_FLOOR_MIN_MS).default(QUIET_FLOOR_MS),
  defaultMaxTokens: z.number().int().min(1).default(256),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  /** A batch's completion window: lines unanswered by then end as `batch_expired` (OpenAI: 24 h). */
  batchWindowMs: z
    .number()
    .int()
    .min(1000)
    .default(24 * 3600_000),
  /** How long a check may wait for a node that can make it (a validator left) before its task ends (503). */
  checkWaitMs: z.number().int().min(100).default(30_000),
  /** Share of likelihood checks followed by a known-answer check (a honeypot) of a validator. */
  honeypotRate: z.number().min(0).max(1).default(0.02),
  /** Threads checking result signatures; default one per core beyond the first, at most 4 (0: inline). */
  verifyThreads: z.number().int().min(0).max(64).optional(),
  /** Requests per second per account, or per key without one (0: off); 429 with Retry-After past it. */
  rateLimit: z.number().min(0).default(1000),
  /** Requests per second per client address on the public routes and failed logins (0: off). */
  rateLimitIp: z.number().min(0).default(100),
  /** Messages per second one node may send before it is rejected and disconnected (0: off). */
  nodeMessageBudget: z.number().min(0).default(2000),
  /** The network's economy (prices, fee, genesis, staking, slashing, rewards): src/router/ledger-config.ts. */
  ledger: ledgerSettings,
  /** Serve HTTPS and WSS with this certificate and key (PEM files); plain HTTP when absent. */
  tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  /** Post epoch roots to this chain's EpochRewards (docs/chain.md); off chain when absent. */
  chain: z
    .object({
      rpc: z.string().url(),
      deploymentFile: z.string().min(1),
      keyFile: z.string().min(1),
      confirmations: z.number().int().min(1).optional(),
    })
    .optional(),
});
export type RouterConfig = z.input<typeof routerConfig>;

export type RunningRouter = RouterApp & { url: string; port: number; stop(): Promise<void> };

/** Starts a router: parses its config (naming any bad setting), opens the store, listens. */
export async function startRouter(
  config: RouterConfig,
  options: { log?: Logger } = {},
): Promise<RunningRouter> {
  const parsed = routerConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Bad router setting '${issue?.path.join('.')}': ${issue?.message}`);
  }
  const settings = parsed.data;
  const log = options.log ?? createLogger('router');
  const https = settings.tls ? readTlsFiles(settings.tls) : undefined;
  const router = buildRouter({ ...settings, log, ...(https ? { https } : {}) });
  await router.app.listen({ port: settings.port, host: settings.host });
  const address = router.app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const url = `${https ? 'https' : 'http'}://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  log('info', 'router listening', { url, data: settings.dataDir });
  return { ...router, url, port, stop: () => router.close() };
}

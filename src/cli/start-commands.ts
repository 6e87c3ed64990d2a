import { resolve } from 'node:path';
/** Runs `stop` once on the first SIGINT or SIGTERM, then exits. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (process.env.OTENSOR_LOG !== 'warn' && process.env.OTENSOR_LOG !== 'error') {
      process.stderr.write(`${signal}: stopping...\n`);
    }
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

export type RouterStartOptions = {
  port: number;
  data: string;
  host: string;
  queueLimit: number;
  batchWindow?: number;
  checkWait?: number;
  metricsSample?: number;
  honeypotRate?: string;
  pricePerToken?: string;
  modelPrice?: string[];
  fee?: string;
  genesis?: string[];
  allowMint?: boolean;
  minimumStake?: string;
  unbonding?: number;
  slash?: string;
  slashValidatorShare?: string;
  epoch?: number;
  rewardFormula?: string;
  basePerHour?: string;
  bonusPerTask?: string;
  alphaPerHour?: string;
  sessionTtl?: number;
  tlsCert?: string;
  tlsKey?: string;
  rateLimit?: string;
  rateLimitIp?: string;
  nodeMessageBudget?: string;
  chainRpc?: string;
  chainDeployment?: string;
  chainKeyFile?: string;
  chainConfirmations?: number;
};

/** `--chain-rpc`, `--chain-deployment` and `--chain-key-file` as the router's chain link: all three, or none. */
export function chainFlags(
  o: Pick<RouterStartOptions, 'chainRpc' | 'chainDeployment' | 'chainKeyFile' | 'chainConfirmations'>,
): {
  chain?: { rpc: string; deploymentFile: string; keyFile: string; confirmations?: number };
} {
  const given = [o.chainRpc, o.chainDeployment, o.chainKeyFile].filter((v) => v !== undefined).length;
  if (given === 0) return {};
  if (o.chainRpc === undefined || o.chainDeployment === undefined || o.chainKeyFile === undefined)
    throw new Error(
      'Linking the router to a chain takes --chain-rpc URL, --chain-deployment FILE and --chain-key-file FILE together.',
    );
  return {
    chain: {
      rpc: o.chainRpc,
      deploymentFile: resolve(o.chainDeployment),
      keyFile: resolve(o.chainKeyFile),
      ...(o.chainConfirmations === undefined ? {} : { confirmations: o.chainConfirmations }),
    },
  };
}

/** `--tls-cert` and `--tls-key` as the router's tls setting: both, or neither (plain HTTP). */
export function tlsFlags(o: Pick<RouterStartOptions, 'tlsCert' | 'tlsKey'>): {
  tls?: { certFile: string; keyFile: string };
} {
  if (o.tlsCert === undefined && o.tlsKey === undefined) return {};
  if (o.tlsCert === undefined || o.tlsKey === undefined)
    throw new Error(
      `--tls-cert and --tls-key go together, but only ${o.tlsCert === undefined ? '--tls-key' : '--tls-cert'} was given: pass both to serve HTTPS and WSS, or neither for plain HTTP.`,
    );
  return { tls: { certFile: resolve(o.tlsCert), keyFile: resolve(o.tlsKey) } };
}

/** `account=tokens` and `name=in[/out]` pairs; the router's config check names what is wrong inside them. */
function pair(text: string, flag: string): [string, string] {
  const at = text.lastIndexOf('=');
  if (at <= 0 || at === text.length - 1) throw new Error(`${flag} takes NAME=VALUE, got '${text}'.`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** The router's ledger settings from `router start` flags; unset flags keep the defaults. */
export function ledgerFlags(o: RouterStartOptions): Record<string, unknown> {
  const defined = (entries: [string, unknown][]) =>
    Object.fromEntries(entries.filter(([, value]) => value !== undefined));
  const rewards = defined([
    ['formula', o.rewardFormula],
    ['basePerHour', o.basePerHour],
    ['bonusPerTask', o.bonusPerTask],
    ['alphaPerHour', o.alphaPerHour],
  ]);
  return defined([
    ['pricePerToken', o.pricePerToken],
    [
      'prices',
      o.modelPrice?.length
        ? Object.fromEntries(
            o.modelPrice.map((p) => {
              const [name, value] = pair(p, '--model-price');
              const [input, output] = value.split('/');
              return [name, { input, output: output ?? input }];
            }),
          )
        : undefined,
    ],
    ['fee', o.fee],
    [
      'genesis',
      o.genesis?.length
        ? o.genesis.map((g) => {
            const [account, amount] = pair(g, '--genesis');
            return { account, amount };
          })
        : undefined,
    ],
    ['allowMint', o.allowMint],
    ['minimumStake', o.minimumStake],
    ['unbondingMs', o.unbonding],
    ['slash', o.slash],
    ['slashValidatorShare', o.slashValidatorShare],
    ['epochMs', o.epoch],
    ['sessionTtlMs', o.sessionTtl],
    ['rewards', Object.keys(rewards).length > 0 ? rewards : undefined],
  ]);
}

/** `router start` */
export async function routerStart(options: RouterStartOptions): Promise<void> {
  const { startRouter } = await import('../router/index.js');
  const { parseRate } = await import('../router/rate-limit.js');
  const rate = (text: string | undefined, flag: string) =>
    text === undefined ? undefined : parseRate(text, flag);
  const limits = Object.fromEntries(
    Object.entries({
      rateLimit: rate(options.rateLimit, '--rate-limit'),
      rateLimitIp: rate(options.rateLimitIp, '--rate-limit-ip'),
      nodeMessageBudget: rate(options.nodeMessageBudget, '--node-message-budget'),
    }).filter(([, value]) => value !== undefined),
  );
  const router = await startRouter({
    ...limits,
    port: options.port,
    host: options.host,
    dataDir: options.data,
    queueLimit: options.queueLimit,
    ...(options.batchWindow === undefined ? {} : { batchWindowMs: options.batchWindow }),
    ...(options.checkWait === undefined ? {} : { checkWaitMs: options.checkWait }),
    ...(options.metricsSample === undefined ? {} : { metricsSampleMs: options.metricsSample }),
    ...(options.honeypotRate === undefined ? {} : { honeypotRate: Number(options.honeypotRate) }),
    ledger: ledgerFlags(options),
    ...tlsFlags(options),
    ...chainFlags(options),
  });
  process.stdout.write(`router: ${router.url}\ndashboard: ${router.url}/\n`);
  stopOnSignal(() => router.stop());
}

/** `node start` */
export async function nodeStart(options: {
  router: string;
  model: string[];
  data: string;
  wallet?: string;
  role?: string;
  threads?: number;
  slots?: number;
  gpu: boolean;
  routerCa?: string;
  routerFingerprint?: string;
  statusPort?: number;
}): Promise<void> {
  const { startNode } = await import('../node/index.js');
  const node = await startNode({
    routerUrl: options.router,
    models: options.model,
    dataDir: options.data,
    ...(options.wallet ? { wallet: options.wallet } : {}),
    roles:
      options.role === 'both'
        ? ['worker', 'validator']
        : options.role === 'validator'
          ? ['validator']
          : ['worker'],
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.slots ? { slots: options.slots } : {}),
    gpu: options.gpu ? 'auto' : false,
    ...(options.routerCa ? { routerCa: resolve(options.routerCa) } : {}),
    ...(options.routerFingerprint ? { routerFingerprint: options.routerFingerprint } : {}),
    ...(options.statusPort === undefined ? {} : { statusPort: options.statusPort }),
  });
  process.stdout.write(`node: ${node.nodeId}\n`);
  // Refused for good (its hello, or the router's certificate): exit non-zero once the node has stopped.
  node.connected.catch(() => node.stop().finally(() => process.exit(1)));
  stopOnSignal(() => node.stop());
  exitWithParent(() => node.stop());
}

/** A node started by `up` stops when `up` is gone (even if it was killed), so no node is left orphaned. */
function exitWithParent(stop: () => Promise<void>): void {
  const parent = Number(process.env.OTENSOR_PARENT_PID);
  if (!parent) return;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(timer);
      stop().finally(() => process.exit(0));
    }
  }, 1000);
  timer.unref();
}

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
};

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
  const router = await startRouter({
    port: options.port,
    host: options.host,
    dataDir: options.data,
    queueLimit: options.queueLimit,
    ...(options.batchWindow === undefined ? {} : { batchWindowMs: options.batchWindow }),
    ...(options.checkWait === undefined ? {} : { checkWaitMs: options.checkWait }),
    ledger: ledgerFlags(options),
  });
  process.stdout.write(`router: ${router.url}\n`);
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
  });
  process.stdout.write(`node: ${node.nodeId}\n`);
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

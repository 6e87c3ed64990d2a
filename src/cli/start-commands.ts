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

/** `router start` */
export async function routerStart(options: {
  port: number;
  data: string;
  host: string;
  queueLimit: number;
  batchWindow: number;
}): Promise<void> {
  const { startRouter } = await import('../router/index.js');
  const router = await startRouter({
    port: options.port,
    host: options.host,
    dataDir: options.data,
    queueLimit: options.queueLimit,
    batchWindowMs: options.batchWindow,
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

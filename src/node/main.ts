import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { benchmarkModel, createLlamaEngine, type Engine, type LoadedModel } from '../engine/index.js';
import { readGgufInfo, sha256File } from '../models/index.js';
import { address, createResultSigner, type ModelAnnouncement, PROTOCOL_VERSION } from '../protocol/index.js';
import { loadIdentity } from './identity.js';
import { RouterLink } from './link.js';
import { probeHardware } from './probe.js';
import { Runner } from './runner.js';

export const nodeConfig = z.object({
  routerUrl: z.string().url(),
  models: z.array(z.string().min(1)).min(1),
  dataDir: z.string().min(1),
  wallet: address.optional(),
  threads: z.number().int().min(1).optional(),
  slots: z.number().int().min(1).max(64).optional(),
  gpu: z.union([z.literal('auto'), z.literal(false)]).default('auto'),
});
export type NodeConfig = z.input<typeof nodeConfig>;

export type RunningNode = { nodeId: string; connected: Promise<void>; stop(): Promise<void> };

/** Picks the thread count by measuring: speed depends on it far more than on anything else on CPU. */
async function chooseThreads(engine: Engine, file: string, gpu: boolean, log: (l: string) => void) {
  const cores = availableParallelism();
  let best = { threads: 1, tokensPerSecond: 0 };
  const tried: string[] = [];
  for (let threads = 1; threads <= cores; threads *= 2) {
    const model = await engine.loadModel(file, { threads, slots: 1, gpu });
    try {
      const { tokensPerSecond } = await benchmarkModel(model, { maxTokens: 32, timeBudgetMs: 600 });
      tried.push(`${threads}: ${tokensPerSecond.toFixed(0)}`);
      if (tokensPerSecond <= best.tokensPerSecond) break;
      best = { threads, tokensPerSecond };
    } finally {
      await model.dispose();
    }
  }
  log(`threads measured (threads: tokens/s) ${tried.join(', ')}; using ${best.threads}`);
  return best.threads;
}

/** Starts a compute node: identity, models (hashed as loaded), benchmark, then the link to the router. */
export async function startNode(
  config: NodeConfig,
  options: { log?: (line: string) => void } = {},
): Promise<RunningNode> {
  const parsed = nodeConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Bad node setting '${issue?.path.join('.')}': ${issue?.message}`);
  }
  const settings = parsed.data;
  const files = settings.models.map((m) => resolve(m));
  for (const file of files) {
    if (!existsSync(file))
      throw new Error(
        `Model file not found: ${file}. Pass a GGUF file to --model (or create one with \`otensor-cli model create-tiny --out FILE\`).`,
      );
  }
  const { account, privateKey } = loadIdentity(settings.dataDir);
  const prefix = `[node ${account.address.slice(0, 10)}]`;
  const log =
    options.log ??
    ((line: string) => process.stderr.write(`${new Date().toISOString()} ${prefix} ${line}\n`));
  const quiet = process.env.OTENSOR_LOG === 'warn' || process.env.OTENSOR_LOG === 'error';
  const info = quiet ? () => {} : log;

  const engine = await createLlamaEngine({ gpu: settings.gpu });
  const gpu = settings.gpu !== false;
  const threads = settings.threads ?? (await chooseThreads(engine, files[0] as string, gpu, info));
  const models = new Map<string, LoadedModel>();
  const announcements: ModelAnnouncement[] = [];
  for (const file of files) {
    // The node proves what it serves by hashing the very file it loads.
    const [sha256, gguf] = await Promise.all([sha256File(file), readGgufInfo(file)]);
    const model = await engine.loadModel(file, { threads, slots: settings.slots ?? 1, gpu });
    const { tokensPerSecond } = await benchmarkModel(model, { maxTokens: 32, timeBudgetMs: 1500 });
    models.set(sha256, model);
    announcements.push({
      ...gguf,
      sha256,
      contextLength: model.contextLength,
      tokensPerSecond,
      slots: model.slots,
    });
    info(
      `serving ${gguf.name} (${sha256.slice(0, 12)}, ${gguf.quantization}) at ${tokensPerSecond.toFixed(0)} tokens/s`,
    );
  }
  const hardware = await probeHardware(engine, threads);

  let link!: RouterLink;
  const signResult = createResultSigner(privateKey, account.publicKey);
  const runner = new Runner({ account, signResult, models, send: (m) => link.send(m), log: info });
  link = new RouterLink({
    routerUrl: settings.routerUrl,
    account,
    hello: {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      nodeId: account.address,
      ...(settings.wallet ? { wallet: settings.wallet } : {}),
      hardware,
      models: announcements,
    },
    onMessage: (message) => {
      if (message.type === 'task') runner.run(message);
      else if (message.type === 'cancel') runner.cancel(message.taskId, message.attempt);
    },
    onDown: () => runner.abortAll(),
    running: () => runner.running,
    log,
  });
  link.start();

  let stopping: Promise<void> | undefined;
  return {
    nodeId: account.address,
    connected: link.connected,
    stop: () => {
      stopping ??= (async () => {
        await runner.drain(5000);
        await link.stop();
        for (const model of models.values()) await model.dispose();
        await engine.dispose();
        info('stopped');
      })();
      return stopping;
    },
  };
}

import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { benchmarkModel, createLlamaEngine, type Engine, type LoadedModel } from '../engine/index.js';
import { possessionDigest, readGgufInfo, sha256File } from '../models/index.js';
import {
  address,
  createResultKey,
  type ModelAnnouncement,
  PROTOCOL_VERSION,
  routerBaseUrl,
} from '../protocol/index.js';
import { loadIdentity } from './identity.js';
import { RouterLink } from './link.js';
import { startNodeMetrics } from './metrics/index.js';
import { resolveModelSources } from './model-source.js';
import { probeHardware } from './probe.js';
import { loadRouterTrust, type RouterTrust, routerFetch } from './router-tls.js';
import { Runner, type RunnerInit } from './runner.js';
import { chooseThreads } from './threads.js';

export const nodeConfig = z.object({
  routerUrl: z
    .string()
    .url()
    .refine((u) => /^(https?|wss?):\/\//i.test(u), 'must start with http://, https://, ws:// or wss://')
    .transform(routerBaseUrl),
  /** A CA certificate (PEM file) the node trusts for an https router, besides the system's roots. */
  routerCa: z.string().min(1).optional(),
  /** The SHA-256 fingerprint of the router's certificate: the node accepts that certificate only. */
  routerFingerprint: z.string().optional(),
  /** GGUF files, or names (or sha256) of models registered on the router, fetched from it when not held. */
  models: z.array(z.string().min(1)).min(1, 'name at least one GGUF model file'),
  dataDir: z.string().min(1),
  /** Payout wallet, separate from the node's own (hot) key. */
  wallet: address.optional(),
  /** Generate answers (worker), check other nodes' answers (validator), or both. */
  roles: z
    .array(z.enum(['worker', 'validator']))
    .min(1)
    .default(['worker']),
  threads: z.number().int().min(1).max(1024).optional(),
  slots: z.number().int().min(1).max(64).optional(),
  gpu: z.union([z.literal('auto'), z.literal(false)]).default('auto'),
  /** A label for this node's log lines. */
  name: z.string().min(1).max(100).optional(),
  /** Local port of `GET /status` (the CLI's default is 8080); 0 or absent: no status server. */
  statusPort: z.number().int().min(0).max(65535).optional(),
});
export type NodeConfig = z.input<typeof nodeConfig>;

export type NodeOptions = {
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Fault injection for tests and benchmarks only (see RunnerInit.tamper): makes this node cheat. */
  tamper?: RunnerInit['tamper'];
  /** Fault injection as `tamper`, for streamed text (see RunnerInit.tamperText). */
  tamperText?: RunnerInit['tamperText'];
};

export type RunningNode = {
  nodeId: string;
  /** Resolves on the first welcome from the router; rejects if the router refuses this node for good. */
  connected: Promise<void>;
  stop(): Promise<void>;
};

/** Parses the config, failing with a message that names the bad setting and what to do. */
function parseConfig(config: NodeConfig): z.output<typeof nodeConfig> & {
  files: string[];
  registered: Map<string, string>;
  trust: RouterTrust | undefined;
} {
  const parsed = nodeConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Bad node setting '${issue?.path.join('.') || 'config'}': ${issue?.message}`);
  }
  const files = parsed.data.models.map((m) => resolve(m));
  for (const file of files) {
    // Anything else that is not a file is a model name or sha256 to fetch from the router.
    if (file.endsWith('.gguf') && (!existsSync(file) || !statSync(file).isFile()))
      throw new Error(
        `Model file not found: ${file}. Pass a GGUF file to --model (or create one with \`otensor-cli model create-tiny --out FILE\`), or the name of a model registered on the router.`,
      );
  }
  return { ...parsed.data, files, registered: new Map(), trust: loadRouterTrust(parsed.data) };
}

/** Starts a compute node: identity, models (hashed as loaded), benchmark, then the link to the router. */
export async function startNode(config: NodeConfig, options: NodeOptions = {}): Promise<RunningNode> {
  const settings = parseConfig(config);
  const { account, privateKey } = loadIdentity(settings.dataDir);
  const prefix = `[node ${settings.name ? `${settings.name} ` : ''}${account.address.slice(0, 10)}]`;
  const log =
    options.log ??
    ((line: string) => process.stderr.write(`${new Date().toISOString()} ${prefix} ${line}\n`));
  const quiet = process.env.OTENSOR_LOG === 'warn' || process.env.OTENSOR_LOG === 'error';
  const info = quiet ? () => {} : log;

  // Model names become files: stored ones from earlier runs, others downloaded from the router.
  const sources = await resolveModelSources(settings.models, {
    routerUrl: settings.routerUrl,
    dataDir: settings.dataDir,
    log: info,
    progress: !quiet,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(settings.trust ? { fetch: routerFetch(settings.trust) } : {}),
  });
  settings.files = sources.map((s) => s.file);
  for (const source of sources) if (source.sha256) settings.registered.set(source.file, source.sha256);

  const engine = await createLlamaEngine({ gpu: settings.gpu });
  const models = new Map<string, LoadedModel>();
  try {
    const { threads, announcements } = await loadModels(engine, settings, models, info);
    options.signal?.throwIfAborted();
    const hardware = await probeHardware(engine, threads);
    return connect(
      settings,
      { account, privateKey, engine, models, announcements, hardware, log, info },
      options,
    );
  } catch (error) {
    for (const model of models.values()) await model.dispose().catch(() => {});
    await engine.dispose().catch(() => {});
    throw error;
  }
}

type Settings = ReturnType<typeof parseConfig>;

/** Chooses threads (unless given), then loads, hashes and benchmarks every model. */
async function loadModels(
  engine: Engine,
  settings: Settings,
  models: Map<string, LoadedModel>,
  info: (line: string) => void,
): Promise<{ threads: number; announcements: ModelAnnouncement[] }> {
  const gpu = settings.gpu !== false;
  const slots = settings.slots ?? 1;
  let threads = settings.threads;
  let preloaded: LoadedModel | undefined;
  if (threads === undefined) {
    const start = performance.now();
    const choice = await chooseThreads(engine, settings.files[0] as string, availableParallelism(), {
      slots,
      gpu,
    });
    threads = choice.threads;
    preloaded = choice.model;
    info(
      `threads measured (threads: tokens/s) ${choice.tried.join(', ')}; using ${threads} (${(performance.now() - start).toFixed(0)} ms)`,
    );
  }
  const announcements: ModelAnnouncement[] = [];
  for (const [i, file] of settings.files.entries()) {
    // The node proves what it serves by hashing the very file it loads.
    const model = i === 0 && preloaded ? preloaded : await engine.loadModel(file, { threads, slots, gpu });
    const [sha256, gguf] = await Promise.all([sha256File(file), readGgufInfo(file)]).catch(
      async (error: unknown) => {
        await model.dispose();
        throw error;
      },
    );
    const registered = settings.registered.get(file);
    if (registered && registered !== sha256) {
      await model.dispose();
      await rm(file, { force: true });
      throw new Error(
        `The stored model file ${file} hashes to ${sha256}, not ${registered} as the router registered it, so it was deleted; start the node again to download it anew.`,
      );
    }
    if (models.has(sha256)) {
      await model.dispose();
      info(`skipping ${file}: the same model (${sha256.slice(0, 12)}) is already loaded`);
      continue;
    }
    models.set(sha256, model);
    const { tokensPerSecond } = await benchmarkModel(model, { maxTokens: 32, timeBudgetMs: 1500 });
    announcements.push({
      ...gguf,
      name: gguf.name.slice(0, 200),
      sha256,
      contextLength: model.contextLength,
      tokensPerSecond,
      slots: model.slots,
    });
    info(
      `serving ${gguf.name} (${sha256.slice(0, 12)}, ${gguf.quantization}) at ${tokensPerSecond.toFixed(0)} tokens/s, ${model.slots} slot(s), ${threads} thread(s)`,
    );
  }
  return { threads, announcements };
}

type Loaded = {
  account: ReturnType<typeof loadIdentity>['account'];
  privateKey: ReturnType<typeof loadIdentity>['privateKey'];
  engine: Engine;
  models: Map<string, LoadedModel>;
  announcements: ModelAnnouncement[];
  hardware: Awaited<ReturnType<typeof probeHardware>>;
  log: (line: string) => void;
  info: (line: string) => void;
};

/** Wires the runner to the link, opens it, and returns the handle whose stop() drains and releases. */
function connect(settings: Settings, loaded: Loaded, options: NodeOptions): RunningNode {
  const { account, engine, models, log, info } = loaded;
  let link!: RouterLink;
  // A fresh result key per start; the signed hello certifies it for this node id.
  const resultKey = createResultKey();
  let connected = false;
  const metrics = startNodeMetrics({
    nodeId: account.address,
    name: settings.name ?? null,
    routerUrl: settings.routerUrl,
    announcements: loaded.announcements,
    statusPort: settings.statusPort ?? 0,
    running: () => runner.running,
    connected: () => connected,
    log: info,
  });
  const runner = new Runner({
    account,
    signResult: resultKey.sign,
    models,
    send: (m) => link.send(m),
    log: info,
    tamper: options.tamper,
    tamperText: options.tamperText,
    metrics: metrics.metrics,
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await runner.drain(5000);
      await metrics.stop();
      await link.stop();
      for (const model of models.values()) await model.dispose().catch(() => {});
      await engine.dispose().catch(() => {});
      info('stopped');
    })();
    return stopping;
  };
  link = new RouterLink({
    routerUrl: settings.routerUrl,
    account,
    hello: {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      nodeId: account.address,
      resultKey: resultKey.publicKey,
      ...(settings.wallet ? { wallet: settings.wallet } : {}),
      roles: settings.roles,
      hardware: loaded.hardware,
      models: loaded.announcements,
    },
    onMessage: (message) => {
      if (message.type === 'task') runner.run(message);
      else if (message.type === 'cancel') runner.cancel(message.taskId, message.attempt);
      else if (message.type === 'prove') {
        // Proof of possession: hash the byte range the router picked from the file this node loaded.
        const path = models.get(message.sha256)?.path;
        if (!path) return;
        possessionDigest(path, message.offset, message.length, message.nonce).then(
          (digest) => link.send({ type: 'proof', sha256: message.sha256, nonce: message.nonce, digest }),
          (error: unknown) => log(`could not answer a proof request: ${String(error)}`),
        );
      }
    },
    onUp: () => {
      connected = true;
    },
    onDown: () => {
      connected = false;
      runner.abortAll();
    },
    // The router refused this node for good: nothing left to do, so free the engine.
    onFatal: () => void stop(),
    running: () => runner.running,
    metrics: () => metrics.metrics.sample(),
    log,
    trust: settings.trust,
  });
  link.start();
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  return { nodeId: account.address, connected: link.connected, stop };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAmount } from '../ledger/index.js';
import { writeTinyModel } from '../models/index.js';
import { type RunningRouter, startRouter } from '../router/index.js';
import { OmniClient } from '../sdk/index.js';
import { createAccountKey, registerModel } from './local-admin.js';
import { startLocalChain } from './local-chain.js';
import { stopOnSignal } from './start-commands.js';

const cliEntry = resolve(fileURLToPath(import.meta.url), '../../../bin/otensor-cli.js');

export type NetworkOptions = {
  nodes: number;
  port: number;
  dataDir: string;
  model?: string | undefined;
  /** Log level of the router and the node processes. */
  logLevel?: string;
  /** Price per token of the local network (default 0.0001 tokens); '0' makes work free. */
  pricePerToken?: string | undefined;
  /** Tokens minted to the printed key's account (default 1000). */
  fund?: string | undefined;
  /** Also run a local chain in this process, deploy the contracts and link the router (docs/chain.md). */
  chain?: boolean | undefined;
  onProgress?: (line: string) => void;
};

/** A local network's economy: work costs a little, the user is funded, the reward pool is full, minting is on. */
const LOCAL_PRICE = '0.0001';
const LOCAL_FUND = '1000';
const LOCAL_REWARD_POOL = '1000000';

export type LocalNetwork = {
  url: string;
  apiKey: string;
  /** An operator key of the same account (closes epochs, mints, settles withdrawals). */
  operatorKey: string;
  /** The account the keys belong to, funded with `fund` tokens. */
  account: string;
  router: RunningRouter;
  /** The local chain's JSON-RPC URL, with `--chain`. */
  chainUrl?: string;
  modelName: string;
  children: ChildProcess[];
  stop(): Promise<void>;
};

/** Starts a router in this process and N node processes on loopback, and waits until all nodes joined. */
export async function startNetwork(options: NetworkOptions): Promise<LocalNetwork> {
  const progress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let modelFile = options.model ? resolve(options.model) : join(dataDir, 'tiny.gguf');
  let modelName = options.model ? basename(modelFile).replace(/\.gguf$/i, '') : 'tiny';
  if (!options.model && !existsSync(modelFile)) {
    progress(`creating the tiny model at ${modelFile}`);
    await writeTinyModel(modelFile, { seed: 1 });
  }
  modelFile = resolve(modelFile);
  const record = await registerModel(join(dataDir, 'router'), modelFile, modelName);
  modelName = record.name;
  const { key: apiKey, account } = createAccountKey(join(dataDir, 'router'), { label: 'up' });
  const { key: operatorKey } = createAccountKey(join(dataDir, 'router'), {
    label: 'up-operator',
    account,
    operator: true,
  });
  if (options.logLevel) process.env.OTENSOR_LOG = options.logLevel;
  const chain = options.chain ? await startLocalChain(dataDir, progress) : undefined;
  const router = await startRouter({
    ...(chain ? { chain: chain.link } : {}),
    port: options.port,
    dataDir: join(dataDir, 'router'),
    ledger: {
      allowMint: true,
      pricePerToken: options.pricePerToken ?? LOCAL_PRICE,
      genesis: [{ account: 'rewards', amount: LOCAL_REWARD_POOL }],
    },
  });
  // A test network: mint the printed key's account its funds (once per account), so local work just runs.
  const fund = options.fund ?? LOCAL_FUND;
  router.services.ledger.mint({
    to: account,
    amount: parseAmount(fund, 'fund'),
    key: `mint:local:${account}`,
  });
  await router.services.ledger.sync();
  progress(
    `router listening on ${router.url}; account ${account} has ${fund} tokens; starting ${options.nodes} node(s)`,
  );

  const children: ChildProcess[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const child = spawn(
      process.execPath,
      [
        cliEntry,
        'node',
        'start',
        '--router',
        router.url,
        '--model',
        modelFile,
        '--data',
        join(dataDir, `node-${i + 1}`),
        // Every node works and validates, so every validation level (likelihood and embedding need a
        // validator other than the worker) can be checked on a local network of two or more nodes.
        '--role',
        'both',
        // Each node's GET /status beside the router's port (`node status --port`).
        '--status-port',
        String(options.port === 0 ? 0 : options.port + 1 + i),
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, OTENSOR_PARENT_PID: String(process.pid) },
      },
    );
    children.push(child);
  }

  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGINT');
          }),
      ),
    );
    await router.stop();
    await chain?.dev.close();
  };

  try {
    await waitForNodes(new OmniClient({ baseUrl: router.url }), options.nodes, children, progress);
    if (chain)
      await chain.fundNodes(Array.from({ length: options.nodes }, (_, i) => join(dataDir, `node-${i + 1}`)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: router.url,
    apiKey,
    operatorKey,
    account,
    router,
    ...(chain ? { chainUrl: chain.dev.url } : {}),
    modelName,
    children,
    stop,
  };
}

async function waitForNodes(
  client: OmniClient,
  count: number,
  children: ChildProcess[],
  progress: (l: string) => void,
) {
  const deadline = Date.now() + 120_000;
  let last = -1;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead)
      throw new Error(`a node process exited with code ${dead.exitCode} before joining; see its log above.`);
    const { nodes } = await client.health();
    if (nodes !== last) progress(`nodes connected: ${nodes}/${count}`);
    last = nodes;
    if (nodes >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`only ${last} of ${count} nodes joined within 120 s.`);
}

/** `up` */
export async function upCommand(options: {
  nodes: number;
  port: number;
  data: string;
  model?: string;
  pricePerToken?: string;
  fund?: string;
  chain?: boolean;
}): Promise<void> {
  const network = await startNetwork({
    nodes: options.nodes,
    port: options.port,
    dataDir: options.data,
    model: options.model,
    pricePerToken: options.pricePerToken,
    fund: options.fund,
    chain: options.chain,
  });
  process.stdout.write(
    `router: ${network.url}\napi key: ${network.apiKey}\noperator key: ${network.operatorKey}\naccount: ${network.account}\nmodel: ${network.modelName}\ndashboard: ${network.url}/\n`,
  );
  if (network.chainUrl) process.stdout.write(`chain: ${network.chainUrl}\n`);
  stopOnSignal(() => network.stop());
}

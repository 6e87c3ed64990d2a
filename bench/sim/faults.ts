/**
 * Fault injection (issue 9). A SIMULATION: one real router in this process (startRouter, real store, real
 * ledger, real WebSockets and signatures) and simulated nodes (bench/sim/fault-node.ts, FAKE engine) beside
 * it. A seeded PRNG sets everything injected: which nodes lie and how, the network faults on every node's
 * sends (drop, duplicate, reorder, delay), slow nodes, node crashes and one router restart, each keyed to how
 * many requests have finished. Clients send chat requests under `checksum`, `redundant:3` or `none`, each
 * with an Idempotency-Key, and re-send it when the router is down. Then the whole history is checked
 * (fault-check.ts). The plan is fixed by the seed; the interleaving of sockets and timers is not, so a failing
 * seed replays the same faults, on the same nodes, at the same points of the run.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccountKey } from '../../src/cli/account-commands.js';
import { type RouterConfig, type RunningRouter, startRouter } from '../../src/router/index.js';
import { checkHistory, type Delivery, type FaultReport } from './fault-check.js';
import {
  type Behaviour,
  FaultNode,
  honestText,
  type InjectedCounts,
  LIARS,
  type NetworkFaults,
  type TaskBoard,
} from './fault-node.js';
import { SIM_MODEL, SIM_MODEL_SHA256 } from './harness.js';

export type FaultOptions = {
  seed: number;
  nodes?: number;
  requests?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** A request still unanswered this long after it was first sent fails the run. */
  answerWithinMs?: number;
  network?: NetworkFaults;
};

/** mulberry32: a small seeded PRNG, enough to make a run's plan repeatable. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_NETWORK: NetworkFaults = {
  drop: 0.02,
  duplicate: 0.03,
  reorder: 0.03,
  delay: 0.05,
  maxDelayMs: 300,
};
const MAX_TOKENS = 8;

/** Behaviours for a run: 40 % liars (kinds rotated by the seed, so a few consecutive seeds cover them all), one slow. */
export function planBehaviours(seed: number, nodes: number, random: () => number): Behaviour[] {
  const liars = Math.max(1, Math.floor(nodes * 0.4));
  const plan: Behaviour[] = [];
  // The extra step keeps the rotation from repeating every two seeds when `liars` divides the kinds.
  const first = seed * liars + Math.floor((seed * liars) / LIARS.length);
  for (let j = 0; j < liars; j++) plan.push(LIARS[(first + j) % LIARS.length] as Behaviour);
  plan.push('slow');
  while (plan.length < nodes) plan.push('honest');
  // Which node index gets which behaviour is the seed's too.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as Behaviour, plan[i] as Behaviour];
  }
  return plan;
}

/** Runs one seed and checks its history; the report says which invariants held. */
export async function runFaults(options: FaultOptions): Promise<FaultReport> {
  const { seed } = options;
  const nodeCount = options.nodes ?? 8;
  const requestCount = options.requests ?? 60;
  const random = prng(seed);
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), `otensor-faults-${seed}-`));
  const dataDir = join(dir, 'router');
  const client = createAccountKey(dataDir, { label: 'faults' });
  const routerErrors: string[] = [];
  const crashes: string[] = [];
  const onCrash = (error: unknown) => crashes.push(String((error as Error)?.stack ?? error));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const config: RouterConfig = {
    port: 0,
    dataDir,
    heartbeatMs: 1000,
    leaseGraceMs: 1500,
    firstTokenMs: 1000,
    maxAttempts: 6,
    rateLimit: 0,
    rateLimitIp: 0,
    ledger: {
      genesis: [{ account: client.account, amount: '1000' }],
      pricePerToken: '0.001',
      fee: '0.1',
    },
  };
  const log = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (level === 'error') routerErrors.push(`${message} ${JSON.stringify(fields ?? {})}`);
    if (process.env.OTENSOR_FAULT_LOG)
      appendFileSync(
        process.env.OTENSOR_FAULT_LOG,
        `${Date.now()} ${level} ${message} ${JSON.stringify(fields ?? {})}\n`,
      );
  };
  let router: RunningRouter = await startRouter(config, { log });
  router.services.models.add({ ...SIM_MODEL, addedAt: Date.now() });

  const behaviours = planBehaviours(seed, nodeCount, random);
  const injected: InjectedCounts = {};
  const board: TaskBoard = new Set();
  const nodes = behaviours.map(
    (behaviour, index) =>
      new FaultNode({
        index,
        behaviour,
        network: options.network ?? DEFAULT_NETWORK,
        random: prng(seed * 7919 + index + 1),
        url: () => router.url,
        modelSha256: SIM_MODEL_SHA256,
        slots: 2,
        slowMs: 2500,
        board,
        injected,
      }),
  );
  for (const node of nodes) node.start();
  while (router.services.scheduler.nodeCount < nodeCount) await new Promise((r) => setTimeout(r, 20));

  // The plan of events, keyed to how many requests have finished.
  const events = new Map<number, () => Promise<void>>();
  const crashCount = Math.max(1, Math.floor(nodeCount / 4));
  for (let c = 0; c < crashCount; c++) {
    const at = Math.floor(requestCount * (0.1 + 0.8 * random()));
    const node = nodes[Math.floor(random() * nodes.length)] as FaultNode;
    const downMs = 200 + Math.floor(random() * 1300);
    const before = events.get(at);
    events.set(at, async () => {
      await before?.();
      injected['node-crash'] = (injected['node-crash'] ?? 0) + 1;
      node.crash(downMs);
    });
  }
  const restartAt = Math.floor(requestCount * (0.3 + 0.4 * random()));
  let restarting: Promise<void> | undefined;
  const restart = async () => {
    injected['router-restart'] = (injected['router-restart'] ?? 0) + 1;
    const port = router.port;
    const stopping = router.stop();
    // A restart drops the clients' connections as well (a stop does not wait for requests still running).
    const cut = setInterval(() => router.app.server.closeAllConnections(), 5);
    await stopping.finally(() => clearInterval(cut));
    router = await startRouter({ ...config, port }, { log });
  };

  const deliveries: Delivery[] = [];
  let finished = 0;
  let next = 0;
  const send = async (i: number) => {
    const prompt = `fault run ${seed} request ${i}`;
    const r = random();
    const validation = r < 0.4 ? 'checksum' : r < 0.75 ? 'redundant:3' : 'none';
    const delivery: Delivery = {
      index: i,
      validation,
      honest: honestText(prompt, i),
      maxTokens: MAX_TOKENS,
      taskIds: [],
      sends: 0,
      retried503: 0,
      status: 0,
      body: undefined,
      headers: {},
    };
    deliveries.push(delivery);
    const body = JSON.stringify({
      model: 'sim',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: MAX_TOKENS,
      temperature: 0,
      seed: i,
      validation,
    });
    const deadline = Date.now() + (options.answerWithinMs ?? 60_000);
    while (Date.now() < deadline) {
      await restarting;
      delivery.sends++;
      log('debug', 'client send', { request: i, send: delivery.sends });
      try {
        const response = await fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${client.key}`,
            'content-type': 'application/json',
            'idempotency-key': `faults-${seed}-${i}`,
          },
          body,
          signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        });
        const text = await response.text();
        log('debug', 'client answer', {
          request: i,
          status: response.status,
          task: response.headers.get('x-omnitensor-task-id'),
          ...(response.ok ? {} : { body: text.slice(0, 300) }),
        });
        // No node yet (after a restart, before they reconnect) or busy: a client retries these, same key.
        if ((response.status === 503 || response.status === 429) && Date.now() + 200 < deadline) {
          delivery.retried503++;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const task = response.headers.get('x-omnitensor-task-id');
        if (task && !delivery.taskIds.includes(task)) delivery.taskIds.push(task);
        delivery.status = response.status;
        delivery.headers = Object.fromEntries(response.headers);
        delivery.body = JSON.parse(text);
        return;
      } catch (error) {
        log('debug', 'client send failed', { request: i, error: String(error) });
        // The router is restarting, or cut this connection: send the same request again under the same key.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const worker = async () => {
    while (next < requestCount) {
      const i = next++;
      await send(i);
      finished++;
      await events.get(finished)?.();
      if (finished === restartAt) {
        restarting = restart();
        await restarting;
        restarting = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  for (const node of nodes) node.stop();
  await router.stop();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  try {
    return checkHistory({
      seed,
      nodes: behaviours.map((behaviour, i) => ({ nodeId: (nodes[i] as FaultNode).nodeId, behaviour })),
      dataDir,
      deliveries,
      injected,
      crashes,
      routerErrors,
      seconds: (performance.now() - started) / 1000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

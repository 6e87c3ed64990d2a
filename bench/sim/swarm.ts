/**
 * A swarm of simulated compute nodes in one process, for benchmarks only. Each node is a real WebSocket
 * client speaking the real protocol to a real router: a signed hello (EIP-191 over helloClaimText), answers to
 * pings, heartbeats, and results signed exactly like a real node's (createResultKey over resultClaimText,
 * outputHash, createNonceSource). The engine is FAKE: every task is answered at once with a fixed output, no
 * model runs. Started by bench/sim/harness.ts with fork(); talks to its parent over IPC.
 */
import { createHash } from 'node:crypto';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import {
  type BatchedResult,
  createNonceSource,
  createResultKey,
  type HelloMessage,
  helloClaimText,
  type NodeMessage,
  outputHash,
  PROTOCOL_VERSION,
  type RouterMessage,
  resultClaimText,
  resultsClaimText,
  signText,
  type TaskOutput,
} from '../../src/protocol/index.js';

export type SwarmConfig = {
  url: string;
  first: number;
  count: number;
  slots: number;
  modelSha256: string;
  /** Hellos in flight at once while connecting. */
  connectConcurrency: number;
  /** Send results finished in the same turn as one `results` message under one signature (as real nodes do). */
  batchResults: boolean;
};

export type SwarmStats = {
  connected: number;
  tasks: number;
  /** Result signatures made: one per result, or one per group when results are batched. */
  signatures: number;
  /** CPU time this swarm process has used, ms (user + system). */
  cpuMs: number;
  /** [taskId, receivedAt (ms, performance.timeOrigin + now)] for every task received. */
  received: [string, number][];
  /** Delay from a router ping's sentAt to its arrival at a node, ms. */
  pingDelays: number[];
  rejects: string[];
};

const config = JSON.parse(process.argv[2] ?? '{}') as SwarmConfig;
const now = () => performance.timeOrigin + performance.now();
const OUTPUT: TaskOutput = {
  text: 'fake engine',
  promptTokens: 1,
  completionTokens: 2,
  finishReason: 'stop',
};
const OUTPUT_SHA = outputHash(OUTPUT);

const stats: SwarmStats = {
  connected: 0,
  tasks: 0,
  signatures: 0,
  cpuMs: 0,
  received: [],
  pingDelays: [],
  rejects: [],
};
let record = true;
const sockets: WebSocket[] = [];

function send(socket: WebSocket, message: NodeMessage): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

async function startNode(index: number): Promise<void> {
  const privateKey = `0x${createHash('sha256').update(`omnitensor-sim-node-${index}`).digest('hex')}` as Hex;
  const account = privateKeyToAccount(privateKey);
  const resultKey = createResultKey();
  const signResult = resultKey.sign;
  const nonce = createNonceSource();
  const nodeId = account.address.toLowerCase();
  const hello: Omit<HelloMessage, 'challenge' | 'signature'> = {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    nodeId: account.address,
    resultKey: resultKey.publicKey,
    hardware: { nodeType: 'other', cpuCores: 1, cpuModel: 'simulated', memoryBytes: 0, gpus: [], threads: 1 },
    models: [
      {
        sha256: config.modelSha256,
        name: 'sim',
        architecture: 'fake',
        quantization: 'none',
        parameterCount: 0,
        contextLength: 4096,
        sizeBytes: 0,
        tokensPerSecond: 1000,
        slots: config.slots,
      },
    ],
  };
  let finished: BatchedResult[] = [];
  const flush = () => {
    const batch = finished;
    finished = [];
    if (!config.batchResults || batch.length === 1) {
      stats.signatures += batch.length;
      for (const r of batch)
        send(socket, { type: 'result', ...r, signature: signResult(resultClaimText({ ...r, nodeId })) });
      return;
    }
    for (let i = 0; i < batch.length; i += 256) {
      const part = batch.slice(i, i + 256);
      stats.signatures++;
      const claims = part.map((r) => ({ ...r, nodeId }));
      send(socket, {
        type: 'results',
        results: part,
        signature: signResult(resultsClaimText(nodeId, claims)),
      });
    }
  };
  const socket = new WebSocket(`${config.url.replace(/^http/, 'ws')}/nodes/ws`, { perMessageDeflate: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', (code, reason) => {
      if (code !== 1000 && code !== 1001 && code !== 1005) stats.rejects.push(`close ${code} ${reason}`);
      reject(new Error(`closed ${code}`));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as RouterMessage;
      switch (message.type) {
        case 'challenge': {
          const body = { ...hello, challenge: message.challenge };
          signText(account, helloClaimText(body)).then((signature) =>
            socket.send(JSON.stringify({ ...body, signature } satisfies HelloMessage)),
          );
          return;
        }
        case 'welcome': {
          stats.connected++;
          // One periodic heartbeat in five (10 s) carries the node's figures, as a real node's does (src/node/link.ts).
          let beats = 0;
          const timer = setInterval(
            () =>
              send(socket, {
                type: 'heartbeat',
                sentAt: Date.now(),
                running: 0,
                ...(beats++ % 5 !== 0
                  ? {}
                  : {
                      metrics: {
                        tokensPerSecond: Math.random() * 100,
                        flops: 1e9 + Math.random() * 1e9,
                        gpuUtilization: null,
                        cpuUtilization: Math.random() * 100,
                        memoryUsedBytes: 4e9,
                        powerWatts: null,
                        temperatureC: null,
                        tasksDone: stats.tasks,
                        tasksFailed: 0,
                      },
                    }),
              }),
            message.heartbeatMs,
          );
          timer.unref();
          socket.on('close', () => clearInterval(timer));
          resolve();
          return;
        }
        case 'ping':
          if (record) stats.pingDelays.push(Date.now() - message.sentAt);
          send(socket, { type: 'heartbeat', sentAt: Date.now(), running: 0, pingEcho: message.sentAt });
          return;
        case 'task': {
          stats.tasks++;
          if (record) stats.received.push([message.taskId, now()]);
          // Fake engine: the answer is ready at once.
          finished.push({
            taskId: message.taskId,
            attempt: message.attempt,
            modelSha256: message.modelSha256,
            outputSha256: OUTPUT_SHA,
            nonce: nonce(),
            output: OUTPUT,
          });
          if (finished.length > 1) return;
          if (holding) held.add(flush);
          // As a real node does: results finished in the same turn share one signature.
          else setImmediate(flush);
          return;
        }
        case 'reject':
          if (stats.rejects.length < 20) stats.rejects.push(message.reason);
          return;
        default:
          return;
      }
    });
  });
}

async function connectAll(): Promise<void> {
  let next = config.first;
  const end = config.first + config.count;
  const worker = async () => {
    while (next < end) {
      const index = next++;
      await startNode(index);
    }
  };
  await Promise.all(Array.from({ length: config.connectConcurrency }, worker));
}

/** While holding, tasks are received and recorded but not answered (to time dispatch alone). */
let holding = false;
const held = new Set<() => void>();

process.on('message', (raw) => {
  const message = raw as { cmd: string };
  if (message.cmd === 'stats') {
    const cpu = process.cpuUsage();
    stats.cpuMs = (cpu.user + cpu.system) / 1000;
    process.send?.({ type: 'stats', stats });
    stats.received = [];
    stats.pingDelays = [];
  } else if (message.cmd === 'record') {
    record = true;
  } else if (message.cmd === 'pause') {
    record = false;
  } else if (message.cmd === 'batch-on' || message.cmd === 'batch-off') {
    config.batchResults = message.cmd === 'batch-on';
  } else if (message.cmd === 'hold') {
    holding = true;
  } else if (message.cmd === 'release') {
    holding = false;
    for (const flush of held) flush();
    held.clear();
  } else if (message.cmd === 'reset') {
    stats.received = [];
    stats.pingDelays = [];
    stats.tasks = 0;
    stats.signatures = 0;
  } else if (message.cmd === 'stop') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});

connectAll().then(
  () => process.send?.({ type: 'ready', connected: stats.connected }),
  (error: unknown) => {
    process.send?.({ type: 'failed', error: String(error), rejects: stats.rejects });
    process.exit(1);
  },
);

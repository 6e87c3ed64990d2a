import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import { possessionDigest } from '../../src/models/index.js';
import {
  createNonceSource,
  createResultKey,
  type HelloMessage,
  helloClaimText,
  outputHash,
  type ProveMessage,
  type RouterMessage,
  resultClaimText,
  signText,
  type TaskMessage,
  type TaskOutput,
} from '../../src/protocol/index.js';

export type HandNodeOptions = {
  url: string;
  modelSha256: string;
  /** The model file, to answer the router's proof-of-possession challenge. */
  modelFile: string;
  /** What the hello claims (a liar claims a lot). */
  tokensPerSecond?: number;
  slots?: number;
};

/**
 * A node driven by hand from a test: a real WebSocket with a signed hello and a real possession proof, whose
 * every other message the test writes. It records what the router sends, so tests wait on messages.
 */
export async function handNode(options: HandNodeOptions) {
  const account = privateKeyToAccount(generatePrivateKey());
  const resultKey = createResultKey();
  const nonces = createNonceSource();
  const socket = new WebSocket(`${options.url.replace('http', 'ws')}/nodes/ws`);
  const received: RouterMessage[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    received.push(JSON.parse(data.toString()) as RouterMessage);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
  await new Promise((done) => socket.on('open', done));
  const send = (m: unknown) => socket.send(JSON.stringify(m));
  /** The next message of this type from the router (waiting for it, up to timeoutMs). */
  const next = async <T extends RouterMessage['type']>(type: T, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = received.find((m) => m.type === type);
      if (found) {
        received.splice(received.indexOf(found), 1);
        return found as Extract<RouterMessage, { type: T }>;
      }
      await new Promise<void>((done) => {
        waiters.push(done);
        setTimeout(done, 200);
      });
    }
    throw new Error(`no '${type}' message from the router`);
  };
  const challenge = await next('challenge');
  const body: Omit<HelloMessage, 'signature'> = {
    type: 'hello',
    protocol: 1,
    nodeId: account.address,
    challenge: challenge.challenge,
    resultKey: resultKey.publicKey,
    hardware: { nodeType: 'cpu', cpuCores: 2, cpuModel: 'test', memoryBytes: 1, gpus: [], threads: 1 },
    models: [
      {
        sha256: options.modelSha256,
        name: 'tiny',
        architecture: 'llama',
        quantization: 'Q8_0',
        parameterCount: 1,
        contextLength: 2048,
        sizeBytes: 1,
        tokensPerSecond: options.tokensPerSecond ?? 1000,
        slots: options.slots ?? 4,
      },
    ],
  };
  send({ ...body, signature: await signText(account, helloClaimText(body)) });
  await next('welcome');
  const prove = (await next('prove')) as ProveMessage;
  const digest = await possessionDigest(options.modelFile, prove.offset, prove.length, prove.nonce);
  send({ type: 'proof', sha256: prove.sha256, nonce: prove.nonce, digest });
  return {
    id: account.address.toLowerCase(),
    socket,
    closed,
    received,
    next,
    send,
    /** Answers a task with a correctly signed result. */
    answer(task: TaskMessage, output: TaskOutput) {
      const claim = {
        nodeId: account.address,
        taskId: task.taskId,
        attempt: task.attempt,
        modelSha256: task.modelSha256,
        outputSha256: outputHash(output),
        nonce: nonces(),
      };
      send({ type: 'result', ...claim, output, signature: resultKey.sign(resultClaimText(claim)) });
    },
  };
}

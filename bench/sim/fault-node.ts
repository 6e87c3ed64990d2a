/**
 * A SIMULATED compute node for the fault-injection run (bench/sim/faults.ts), in the runner's own process:
 * a real WebSocket client speaking the real protocol (signed hello, Ed25519-signed results, rising nonces),
 * with a FAKE engine that answers every chat task with `honestText` of its input, and two layers of faults
 * the seed sets: a network layer on its sends (drop, duplicate, reorder, delay) and a behaviour (a liar of
 * one kind, a slow node, or honest). It can be crashed (its socket cut) and comes back with a new connection.
 */
import { createHash } from 'node:crypto';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import {
  createNonceSource,
  createResultKey,
  type HelloMessage,
  helloClaimText,
  outputHash,
  PROTOCOL_VERSION,
  type RouterMessage,
  resultClaimText,
  signText,
  type TaskMessage,
  type TaskOutput,
} from '../../src/protocol/index.js';

/** What a node does with its tasks; every kind but `honest` and `slow` is a liar. */
export const BEHAVIOURS = [
  'honest',
  'slow',
  /** Other text, signed validly (the signature covers the lie). */
  'wrong-text',
  /** Honest text, 1,000,000 prompt and completion tokens claimed. */
  'inflate',
  /** Answers its own tasks, and sends `task_error` for tasks leased to other nodes. */
  'foreign-error',
  /** Answers its own tasks, and sends signed results for tasks leased to other nodes. */
  'unleased-result',
  /** Re-sends an earlier result message verbatim, and answers every task after its first with its first text. */
  'replay',
  /** Takes leases and never answers. */
  'black-hole',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];
export const LIARS: Behaviour[] = BEHAVIOURS.filter((b) => b !== 'honest' && b !== 'slow');

/** Probabilities, per message sent after the hello, of each network fault. */
export type NetworkFaults = {
  drop: number;
  duplicate: number;
  reorder: number;
  delay: number;
  maxDelayMs: number;
};

/** Counts of what was injected, by kind (shared by all nodes of a run). */
export type InjectedCounts = Record<string, number>;

/**
 * Every task a simulated node is given is posted here as it arrives, so liars can name other nodes' tasks
 * while those are leased (a stronger adversary than a real one, which would have to guess 128-bit ids).
 */
export type TaskBoard = Set<(taskId: string, attempt: number, node: number) => void>;

/** The answer an honest node gives: a function of the prompt and the seed alone, so a client can check it. */
export function honestText(prompt: string, seed: number | undefined): string {
  return `honest ${createHash('sha256')
    .update(`${prompt}\n${seed ?? ''}`)
    .digest('hex')
    .slice(0, 16)}`;
}

const honestOutput = (task: TaskMessage): TaskOutput => {
  const input = task.input;
  const prompt =
    input.kind === 'chat'
      ? (input.messages.at(-1)?.content ?? '')
      : input.kind === 'completion'
        ? input.prompt
        : '';
  const seed = input.kind === 'chat' || input.kind === 'completion' ? input.params.seed : undefined;
  return { text: honestText(prompt, seed), promptTokens: 3, completionTokens: 4, finishReason: 'stop' };
};

export type FaultNodeInit = {
  index: number;
  behaviour: Behaviour;
  network: NetworkFaults;
  /** This node's own stream of the run's seeded PRNG. */
  random: () => number;
  url: () => string;
  modelSha256: string;
  slots: number;
  slowMs: number;
  board: TaskBoard;
  injected: InjectedCounts;
};

export class FaultNode {
  readonly nodeId: string;
  readonly #init: FaultNodeInit;
  readonly #account;
  readonly #nonce = createNonceSource();
  #socket: WebSocket | undefined;
  #stopped = false;
  #connected = false;
  #heldBack: string | undefined;
  #first: TaskOutput | undefined;
  #sent: string[] = [];
  #sign: ((text: string) => string) | undefined;

  constructor(init: FaultNodeInit) {
    this.#init = init;
    const key =
      `0x${createHash('sha256').update(`omnitensor-fault-node-${init.index}`).digest('hex')}` as Hex;
    this.#account = privateKeyToAccount(key);
    this.nodeId = this.#account.address.toLowerCase();
    if (init.behaviour === 'foreign-error' || init.behaviour === 'unleased-result')
      init.board.add((taskId, attempt, node) => {
        if (node !== init.index && this.#rand() < 0.5) this.#forge(taskId, attempt);
      });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Connects, and keeps reconnecting after a close until stopped (a crash, a router restart, a rejection). */
  start(): void {
    if (this.#stopped) return;
    const resultKey = createResultKey();
    const socket = new WebSocket(`${this.#init.url().replace(/^http/, 'ws')}/nodes/ws`, {
      perMessageDeflate: false,
    });
    this.#socket = socket;
    this.#sign = resultKey.sign;
    let heartbeat: NodeJS.Timeout | undefined;
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(heartbeat);
      this.#connected = false;
      if (this.#socket === socket && !this.#stopped) setTimeout(() => this.start(), 100 + this.#rand() * 300);
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as RouterMessage;
      if (message.type === 'challenge') {
        const body = this.#hello(resultKey.publicKey, message.challenge);
        signText(this.#account, helloClaimText(body)).then((signature) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ ...body, signature }));
        });
      } else if (message.type === 'welcome') {
        this.#connected = true;
        heartbeat = setInterval(
          () => this.#send(socket, { type: 'heartbeat', sentAt: Date.now(), running: 0 }),
          message.heartbeatMs,
        );
      } else if (message.type === 'ping') {
        this.#send(socket, { type: 'heartbeat', sentAt: Date.now(), running: 0, pingEcho: message.sentAt });
      } else if (message.type === 'task') {
        this.#onTask(socket, message, resultKey.sign);
      }
    });
  }

  /** Cuts the connection as a crashed process would; it comes back after `downMs`. */
  crash(downMs: number): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    socket?.terminate();
    setTimeout(() => this.start(), downMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.terminate();
  }

  #rand(): number {
    return this.#init.random();
  }

  #count(kind: string): void {
    this.#init.injected[kind] = (this.#init.injected[kind] ?? 0) + 1;
  }

  #hello(resultKey: string, challenge: string): Omit<HelloMessage, 'signature'> {
    return {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      nodeId: this.#account.address,
      resultKey,
      challenge,
      hardware: {
        nodeType: 'other',
        cpuCores: 1,
        cpuModel: 'simulated',
        memoryBytes: 0,
        gpus: [],
        threads: 1,
      },
      models: [
        {
          sha256: this.#init.modelSha256,
          name: 'sim',
          architecture: 'fake',
          quantization: 'none',
          parameterCount: 0,
          contextLength: 4096,
          sizeBytes: 0,
          tokensPerSecond: 1000,
          slots: this.#init.slots,
        },
      ],
    };
  }

  #onTask(socket: WebSocket, task: TaskMessage, sign: (text: string) => string): void {
    const { board, behaviour, index } = this.#init;
    for (const watcher of board) watcher(task.taskId, task.attempt, index);
    const result = (taskId: string, attempt: number, output: TaskOutput) =>
      this.#result(sign, task.modelSha256, taskId, attempt, output);
    const honest = honestOutput(task);
    let output = honest;
    switch (behaviour) {
      case 'black-hole':
        this.#count('lie:black-hole');
        return;
      case 'wrong-text':
        this.#count('lie:wrong-text');
        output = { ...honest, text: `lie ${this.#rand().toString(36).slice(2, 14)}` };
        break;
      case 'inflate':
        this.#count('lie:inflate');
        output = { ...honest, promptTokens: 1_000_000, completionTokens: 1_000_000 };
        break;
      case 'replay':
        if (this.#first && honest.text !== this.#first.text) {
          this.#count('lie:replay');
          output = this.#first;
        }
        this.#first ??= honest;
        break;
      default:
        break;
    }
    const message = result(task.taskId, task.attempt, output);
    const answer = () => {
      this.#send(socket, message);
      if (behaviour === 'replay' && this.#sent.length > 1) {
        this.#count('lie:replay-verbatim');
        this.#sendRaw(socket, this.#sent[0] as string);
      }
    };
    if (behaviour === 'slow') {
      this.#count('slow');
      setTimeout(answer, this.#rand() * this.#init.slowMs);
    } else setImmediate(answer);
  }

  #result(
    sign: (text: string) => string,
    modelSha256: string,
    taskId: string,
    attempt: number,
    output: TaskOutput,
  ) {
    const claim = {
      taskId,
      attempt,
      modelSha256,
      outputSha256: outputHash(output),
      nonce: this.#nonce(),
      output,
    };
    return {
      type: 'result' as const,
      ...claim,
      signature: sign(resultClaimText({ ...claim, nodeId: this.nodeId })),
    };
  }

  /** A liar's message about another node's task, sent while that node holds it. */
  #forge(taskId: string, attempt: number): void {
    const socket = this.#socket;
    if (!socket || !this.#sign || !this.#connected) return;
    const { behaviour } = this.#init;
    this.#count(`lie:${behaviour}`);
    if (behaviour === 'foreign-error') {
      const final = this.#rand() < 0.5;
      this.#send(socket, { type: 'task_error', taskId, attempt, code: 'oom', message: 'forged', final });
      return;
    }
    const output = {
      text: `forged for ${taskId}`,
      promptTokens: 3,
      completionTokens: 4,
      finishReason: 'stop' as const,
    };
    this.#send(socket, this.#result(this.#sign, this.#init.modelSha256, taskId, attempt, output));
  }

  /** Sends through the network fault layer. */
  #send(socket: WebSocket, message: object): void {
    const raw = JSON.stringify(message);
    if ((message as { type: string }).type === 'result' && this.#sent.length < 4) this.#sent.push(raw);
    const { drop, duplicate, reorder, delay, maxDelayMs } = this.#init.network;
    const r = this.#rand();
    if (r < drop) {
      this.#count('net:drop');
      return;
    }
    if (r < drop + duplicate) {
      this.#count('net:duplicate');
      this.#sendRaw(socket, raw);
      this.#sendRaw(socket, raw);
      return;
    }
    if (r < drop + duplicate + reorder && this.#heldBack === undefined) {
      // Held back until the next message has gone (or a moment passes): the two arrive swapped.
      this.#count('net:reorder');
      this.#heldBack = raw;
      setTimeout(() => this.#releaseHeld(socket), 50);
      return;
    }
    if (r < drop + duplicate + reorder + delay) {
      this.#count('net:delay');
      setTimeout(() => this.#sendRaw(socket, raw), this.#rand() * maxDelayMs);
      return;
    }
    this.#sendRaw(socket, raw);
    this.#releaseHeld(socket);
  }

  #releaseHeld(socket: WebSocket): void {
    const held = this.#heldBack;
    this.#heldBack = undefined;
    if (held !== undefined) this.#sendRaw(socket, held);
  }

  #sendRaw(socket: WebSocket, raw: string): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(raw);
  }
}

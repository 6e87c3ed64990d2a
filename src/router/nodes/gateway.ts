import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type HelloMessage,
  helloClaimText,
  type NodeMessage,
  type NodeMetricsSample,
  outputHash,
  parseNodeMessage,
  type RouterMessage,
  resultClaimText,
  resultPublicKey,
  resultsClaimText,
  type TaskResultMessage,
  type TaskResultsMessage,
  verifySigner,
} from '../../protocol/index.js';
import type { ModelStore, NodeStore } from '../../store/index.js';
import { mark } from '../../timing/marks.js';
import { addressGroup } from '../../verify/index.js';
import type { Logger } from '../log.js';
import { RateLimiter } from '../rate-limit.js';
import type { Lease, NodeRole, Scheduler } from '../tasks/scheduler.js';
import type { TaskManager } from '../tasks/task-manager.js';
import { announceModels } from './model-catalog.js';
import { possessionChallenges } from './possession.js';
import type { SignaturePool } from './signature-pool.js';

export type GatewayInit = {
  scheduler: Scheduler;
  tasks: TaskManager;
  nodes: NodeStore;
  models: ModelStore;
  log: Logger;
  heartbeatMs: number;
  /** Messages per second one connection may send (0: off); past it the node is rejected and disconnected. */
  messageBudget?: number | undefined;
  /** Checks result signatures (on worker threads). */
  signatures: SignaturePool;
  /** A node that has not said hello in this time is dropped. */
  helloTimeoutMs?: number;
  /** Told of verified hellos, heartbeat figures and departures (the router's metrics, src/router/metrics). */
  figures?: {
    hello(nodeId: string, hello: HelloMessage): void;
    heartbeat(nodeId: string, metrics: NodeMetricsSample): void;
    left(nodeId: string): void;
  };
};

function uncork(connection: Connection): void {
  connection.corked = false;
  connection.raw.uncork();
}

/** A node connection after its hello was verified. */
type Connection = {
  socket: WebSocket;
  /** The TCP socket under `socket`, corked while one turn's messages to the node are written. */
  raw: Socket;
  corked: boolean;
  nodeId: string | null;
  /** The node's Ed25519 result key (base64url), certified by its signed hello; results are verified with it. */
  resultKey: string | null;
  challenge: string;
  lastNonce: bigint;
  /** Messages are handled one at a time per node so nonces are checked in order. */
  chain: Promise<void>;
  badMessages: number;
  /** The connection's message budget: a node flooding the router is cut off before its messages queue up. */
  budget: RateLimiter;
  /** Possession proofs awaited, by nonce; the node gets work once they are settled. */
  pendingProofs: Map<string, { sha256: string; expected: Promise<string> }>;
  /** Announced models (sha256 -> tokens/s) not yet given to the scheduler, and the node's slots. */
  announced: {
    models: Map<string, number>;
    slots: number;
    names: string;
    type: string;
    wallet: string | null;
    roles: Set<NodeRole>;
  } | null;
  proofTimer: NodeJS.Timeout | undefined;
  /**
   * Attempts recently leased to this node (`task#attempt`, oldest first): a message about one whose lease has
   * since ended is late, not hostile, and is dropped without counting against the node.
   */
  recent: Set<string>;
};

/** How many ended leases per node are remembered as the node's own (late messages about them are dropped). */
const RECENT_LEASES = 4096;

const PROOF_TIMEOUT_MS = 15_000;

const MAX_BAD_MESSAGES = 20;

/**
 * Backpressure: a node whose socket holds more than this many bytes unsent is not reading; it gets no more
 * tasks and is disconnected (its tasks go elsewhere) rather than letting the router buffer without bound.
 */
export const NODE_SEND_BUFFER_LIMIT = 8 * 1024 * 1024;

/** The WebSocket endpoint nodes dial out to (so nodes behind NAT work). Every message is validated. */
export class Gateway {
  readonly #init: GatewayInit;
  readonly #byNode = new Map<string, Connection>();
  #server: WebSocketServer | undefined;
  #pinger: NodeJS.Timeout | undefined;

  constructor(init: GatewayInit) {
    this.#init = init;
  }

  get connectedCount(): number {
    return this.#byNode.size;
  }

  attach(server: Server): void {
    this.#server = new WebSocketServer({ server, path: '/nodes/ws', maxPayload: 16 * 1024 * 1024 });
    this.#server.on('connection', (socket, request) => this.#accept(socket, request.socket));
    this.#pinger = setInterval(() => this.#ping(), this.#init.heartbeatMs);
    this.#pinger.unref();
  }

  /** Sends a leased task to its node; false when the node is gone. */
  assign(lease: Lease, message: RouterMessage): boolean {
    const connection = this.#byNode.get(lease.nodeId);
    if (connection) {
      connection.recent.add(`${lease.task.id}#${lease.attempt}`);
      if (connection.recent.size > RECENT_LEASES) {
        const [oldest] = connection.recent;
        if (oldest !== undefined) connection.recent.delete(oldest);
      }
    }
    mark('r.assign');
    return this.#send(lease.nodeId, message);
  }

  cancel(nodeId: string, taskId: string, attempt: number): void {
    this.#send(nodeId, { type: 'cancel', taskId, attempt });
  }

  async close(): Promise<void> {
    clearInterval(this.#pinger);
    for (const connection of this.#byNode.values()) connection.socket.close(1001, 'router shutting down');
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #send(nodeId: string, message: RouterMessage): boolean {
    const connection = this.#byNode.get(nodeId);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) return false;
    if (this.#overLimit(connection)) return false;
    // Messages to one node in one turn (a burst of tasks) leave in one write instead of one syscall each.
    if (!connection.corked) {
      connection.corked = true;
      connection.raw.cork();
      process.nextTick(uncork, connection);
    }
    connection.socket.send(JSON.stringify(message));
    return true;
  }

  /** True (and the node is dropped, with a log) when the node has stopped reading what it is sent. */
  #overLimit(connection: Connection): boolean {
    const buffered = connection.socket.bufferedAmount;
    if (buffered <= NODE_SEND_BUFFER_LIMIT) return false;
    this.#init.log('warn', 'node is not reading its socket; disconnecting it', {
      node: connection.nodeId ?? 'unauthenticated',
      bufferedBytes: buffered,
    });
    if (connection.nodeId && this.#byNode.get(connection.nodeId) === connection) {
      this.#byNode.delete(connection.nodeId);
      this.#init.scheduler.removeNode(connection.nodeId);
      this.#init.figures?.left(connection.nodeId);
    }
    connection.socket.terminate();
    return true;
  }

  #ping(): void {
    const message = JSON.stringify({ type: 'ping', sentAt: Date.now() } satisfies RouterMessage);
    for (const connection of [...this.#byNode.values()])
      if (!this.#overLimit(connection)) connection.socket.send(message);
  }

  #accept(socket: WebSocket, raw: Socket): void {
    const connection: Connection = {
      socket,
      raw,
      corked: false,
      nodeId: null,
      resultKey: null,
      challenge: randomBytes(24).toString('hex'),
      lastNonce: 0n,
      chain: Promise.resolve(),
      badMessages: 0,
      budget: new RateLimiter({ ratePerSecond: this.#init.messageBudget ?? 2000, maxKeys: 1 }),
      pendingProofs: new Map(),
      announced: null,
      proofTimer: undefined,
      recent: new Set(),
    };
    const helloTimer = setTimeout(() => {
      if (!connection.nodeId) socket.close(4001, 'no hello in time');
    }, this.#init.helloTimeoutMs ?? 15_000);
    socket.send(
      JSON.stringify({ type: 'challenge', challenge: connection.challenge } satisfies RouterMessage),
    );
    socket.on('message', (data, isBinary) => {
      if (connection.budget.take('') > 0) return this.#overBudget(connection);
      const raw = isBinary ? '' : data.toString();
      connection.chain = connection.chain
        .then(() => this.#handle(connection, raw))
        .catch((error: unknown) => this.#reject(connection, `handler failed: ${String(error)}`));
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      clearTimeout(connection.proofTimer);
      const nodeId = connection.nodeId;
      if (nodeId && this.#byNode.get(nodeId) === connection) {
        this.#byNode.delete(nodeId);
        this.#init.scheduler.removeNode(nodeId);
        this.#init.figures?.left(nodeId);
        this.#init.log('info', 'node disconnected', { node: nodeId });
      }
    });
    socket.on('error', (error) => this.#init.log('warn', 'node socket error', { error: error.message }));
  }

  /** Logs and answers a bad message; a node that keeps sending them is disconnected. */
  #reject(connection: Connection, reason: string): void {
    connection.badMessages++;
    this.#init.log('warn', 'rejected node message', { node: connection.nodeId ?? 'unauthenticated', reason });
    if (connection.socket.readyState === connection.socket.OPEN) {
      connection.socket.send(JSON.stringify({ type: 'reject', reason } satisfies RouterMessage));
      if (connection.badMessages >= MAX_BAD_MESSAGES) connection.socket.close(4002, 'too many bad messages');
    }
  }

  /** A node past its message budget is told why, logged, and disconnected; what it sent after is dropped. */
  #overBudget(connection: Connection): void {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    const reason = `message budget exceeded: more than ${connection.budget.ratePerSecond} messages/s`;
    this.#init.log('warn', 'node over its message budget; disconnecting', {
      node: connection.nodeId ?? 'unauthenticated',
      budget: connection.budget.ratePerSecond,
    });
    connection.socket.send(JSON.stringify({ type: 'reject', reason } satisfies RouterMessage));
    connection.socket.close(4008, 'message budget exceeded');
  }

  async #handle(connection: Connection, raw: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.#reject(connection, 'malformed JSON');
    }
    const parsed = parseNodeMessage(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#reject(
        connection,
        `invalid message: ${issue?.path.join('.') || 'message'} ${issue?.message ?? ''}`,
      );
    }
    const message: NodeMessage = parsed.data;
    if (message.type === 'hello') return this.#hello(connection, message);
    const nodeId = connection.nodeId;
    if (!nodeId) return this.#reject(connection, `'${message.type}' before a verified hello`);
    switch (message.type) {
      case 'heartbeat':
        if (message.pingEcho !== undefined)
          this.#init.scheduler.setRoundTrip(nodeId, Date.now() - message.pingEcho);
        if (message.metrics) this.#init.figures?.heartbeat(nodeId, message.metrics);
        return;
      case 'chunk':
        mark('r.chunk');
        if (!this.#holds(connection, nodeId, message.taskId, message.attempt, 'text')) return;
        this.#init.scheduler.heard(message.taskId, nodeId, message.attempt);
        this.#init.tasks.text(message.taskId, message.attempt, nodeId, message.text);
        return;
      case 'result':
        return this.#result(connection, nodeId, message);
      case 'results':
        return this.#results(connection, nodeId, message);
      case 'task_error':
        if (!this.#holds(connection, nodeId, message.taskId, message.attempt, 'an error')) return;
        this.#init.log('warn', 'node reported a task error', {
          node: nodeId,
          task: message.taskId,
          code: message.code,
        });
        this.#init.tasks.nodeError(message.taskId, nodeId, message);
        return;
      case 'release':
        for (const task of message.tasks)
          if (this.#holds(connection, nodeId, task.taskId, task.attempt, 'a release'))
            this.#init.scheduler.handBack(task.taskId, nodeId);
        return;
      case 'proof':
        return this.#proof(connection, message.sha256, message.nonce, message.digest);
    }
  }

  async #hello(connection: Connection, hello: HelloMessage): Promise<void> {
    if (connection.nodeId) return this.#reject(connection, 'second hello on one connection');
    const { signature, ...body } = hello;
    if (hello.challenge !== connection.challenge) {
      this.#reject(connection, 'hello answers another challenge (replayed?)');
      connection.socket.close(4003, 'bad hello');
      return;
    }
    // The hello's signature certifies the result key it carries; results are then checked with that key.
    const publicKey = resultPublicKey(hello.resultKey);
    if (!publicKey || !(await verifySigner(helloClaimText(body), signature, hello.nodeId))) {
      this.#reject(connection, 'hello signature does not match the node id');
      connection.socket.close(4003, 'bad hello');
      return;
    }
    const nodeId = hello.nodeId.toLowerCase();
    // A node that reconnects replaces its old connection.
    const previous = this.#byNode.get(nodeId);
    if (previous) {
      this.#byNode.delete(nodeId);
      this.#init.scheduler.removeNode(nodeId);
      previous.socket.close(4004, 'replaced by a new connection');
    }
    connection.nodeId = nodeId;
    connection.resultKey = hello.resultKey;
    this.#init.nodes.seen(nodeId, hello.wallet, hello.hardware);
    this.#init.nodes.recordHello(nodeId, hello.resultKey, hello);
    connection.lastNonce = this.#init.nodes.lastNonce(nodeId);
    const models = new Map<string, number>();
    let slots = 0;
    announceModels(this.#init.models, hello.models, nodeId, this.#init.log);
    for (const model of hello.models) {
      models.set(model.sha256, model.tokensPerSecond);
      slots += model.slots;
    }
    this.#byNode.set(nodeId, connection);
    this.#init.figures?.hello(nodeId, hello);
    connection.socket.send(
      JSON.stringify({
        type: 'welcome',
        nodeId,
        heartbeatMs: this.#init.heartbeatMs,
      } satisfies RouterMessage),
    );
    connection.announced = {
      models,
      slots,
      names: hello.models.map((m) => `${m.name}@${m.tokensPerSecond.toFixed(0)}tok/s`).join(','),
      type: hello.hardware.nodeType,
      wallet: hello.wallet?.toLowerCase() ?? null,
      roles: new Set(hello.roles ?? ['worker']),
    };
    const challenges = possessionChallenges(this.#init.models, hello.models);
    for (const challenge of challenges) {
      connection.pendingProofs.set(challenge.message.nonce, {
        sha256: challenge.message.sha256,
        expected: challenge.expected,
      });
      connection.socket.send(JSON.stringify(challenge.message satisfies RouterMessage));
    }
    if (challenges.length === 0) return this.#register(connection);
    connection.proofTimer = setTimeout(() => {
      for (const { sha256 } of connection.pendingProofs.values()) {
        connection.announced?.models.delete(sha256);
        this.#init.log('warn', 'node did not prove it holds a model in time', {
          node: nodeId,
          model: sha256,
        });
      }
      connection.pendingProofs.clear();
      this.#register(connection);
    }, PROOF_TIMEOUT_MS);
  }

  async #proof(connection: Connection, sha256: string, nonce: string, digest: string): Promise<void> {
    const pending = connection.pendingProofs.get(nonce);
    if (!pending || pending.sha256 !== sha256) return this.#reject(connection, 'proof for no open challenge');
    connection.pendingProofs.delete(nonce);
    if ((await pending.expected) !== digest) {
      connection.announced?.models.delete(sha256);
      this.#reject(
        connection,
        `proof for model ${sha256} does not match the file: the model will not be served by this node`,
      );
    }
    if (connection.pendingProofs.size === 0) {
      clearTimeout(connection.proofTimer);
      this.#register(connection);
    }
  }

  /** Hands the node to the scheduler with the models it proved (or that could not be checked). */
  #register(connection: Connection): void {
    const nodeId = connection.nodeId;
    const announced = connection.announced;
    if (!nodeId || !announced || this.#byNode.get(nodeId) !== connection) return;
    connection.announced = null;
    if (announced.models.size === 0) {
      connection.socket.close(4005, 'no model proven');
      return;
    }
    this.#init.scheduler.addNode({
      id: nodeId,
      slots: announced.slots,
      models: announced.models,
      wallet: announced.wallet,
      roles: announced.roles,
      // Measured, not claimed: where the node's connection comes from (checks never stay in one network).
      addressGroup: addressGroup(connection.raw.remoteAddress),
    });
    this.#init.log('info', 'node connected', {
      node: nodeId,
      type: announced.type,
      roles: [...announced.roles].join('+'),
      models: announced.names,
    });
  }

  /**
   * Whether the node holds the lease of this task's attempt. A message about any other attempt changes
   * nothing: about one the node held before it is late and dropped quietly; about one it never held it is
   * rejected (and counted), since no honest node names a task it was not given.
   */
  #holds(connection: Connection, nodeId: string, taskId: string, attempt: number, what: string): boolean {
    const lease = this.#init.scheduler.lease(taskId);
    if (lease && lease.nodeId === nodeId && lease.attempt === attempt) return true;
    if (connection.recent.has(`${taskId}#${attempt}`)) {
      this.#init.log('debug', 'late node message about an ended lease', {
        node: nodeId,
        task: taskId,
        attempt,
      });
      return false;
    }
    this.#reject(connection, `${what} for task ${taskId} attempt ${attempt} not leased to this node`);
    return false;
  }

  /** Why a result cannot be taken for its lease, or undefined when it can (signature aside). */
  #leaseProblem(
    nodeId: string,
    message: Omit<TaskResultMessage, 'type' | 'signature'>,
    hashChecked = false,
  ): string | undefined {
    const lease = this.#init.scheduler.lease(message.taskId);
    if (!lease || lease.nodeId !== nodeId || lease.attempt !== message.attempt) {
      return `result for task ${message.taskId} attempt ${message.attempt} not leased to this node`;
    }
    if (message.modelSha256 !== lease.task.modelSha256) {
      return `result claims model ${message.modelSha256}, task needs ${lease.task.modelSha256}`;
    }
    if (!hashChecked && outputHash(message.output) !== message.outputSha256)
      return 'output hash does not match the output';
    return undefined;
  }

  async #result(connection: Connection, nodeId: string, message: TaskResultMessage): Promise<void> {
    mark('r.result');
    const problem = this.#leaseProblem(nodeId, message);
    if (problem) return this.#reject(connection, problem);
    const nonce = BigInt(message.nonce);
    if (nonce <= connection.lastNonce)
      return this.#reject(connection, `stale nonce ${message.nonce} (replayed?)`);
    const claim = resultClaimText({ ...message, nodeId });
    if (!(await this.#verified(connection, claim, message.signature))) {
      return this.#reject(connection, 'result signature does not match the node id');
    }
    connection.lastNonce = nonce;
    mark('r.verified');
    this.#init.scheduler.heard(message.taskId, nodeId, message.attempt);
    // The lease may have moved while the signature was checked (the node left and the task was requeued):
    // then this result belongs to no attempt the router is waiting for, and must not be taken unchecked.
    // (The output's hash was checked above, on this same message: only the lease can have changed.)
    if (this.#leaseProblem(nodeId, message, true)) {
      this.#init.nodes.setLastNonce(nodeId, nonce);
      return;
    }
    this.#store(connection, nodeId, message, message.signature, nonce);
  }

  #verified(connection: Connection, claim: string, signature: string): Promise<boolean> | false {
    return (
      connection.resultKey !== null && this.#init.signatures.verify(connection.resultKey, claim, signature)
    );
  }

  /**
   * Several results under one signature: the signature and the nonces are checked for the whole batch
   * (once), then each result is taken or rejected on its own lease.
   */
  async #results(connection: Connection, nodeId: string, message: TaskResultsMessage): Promise<void> {
    const nonces = message.results.map((r) => BigInt(r.nonce));
    let previous = connection.lastNonce;
    for (const [i, nonce] of nonces.entries()) {
      if (nonce <= previous)
        return this.#reject(connection, `stale nonce ${message.results[i]?.nonce} in a batch (replayed?)`);
      previous = nonce;
    }
    const claim = resultsClaimText(
      nodeId,
      message.results.map((r) => ({ ...r, nodeId })),
    );
    if (!(await this.#verified(connection, claim, message.signature))) {
      return this.#reject(connection, 'results batch signature does not match the node id');
    }
    connection.lastNonce = previous;
    for (const result of message.results) this.#init.scheduler.heard(result.taskId, nodeId, result.attempt);
    for (const [i, result] of message.results.entries()) {
      const problem = this.#leaseProblem(nodeId, result);
      if (problem) this.#reject(connection, problem);
      else this.#store(connection, nodeId, result, message.signature, nonces[i] as bigint);
    }
  }

  /**
   * Stores a verified result through the group commit. A result from a batch keeps the batch's signature:
   * the node's results sharing one signature, in nonce order, are the batch it signed (resultsClaimText).
   */
  #store(
    connection: Connection,
    nodeId: string,
    message: Omit<TaskResultMessage, 'type' | 'signature'>,
    signature: string,
    nonce: bigint,
  ): void {
    const record = {
      taskId: message.taskId,
      nodeId,
      attempt: message.attempt,
      output: message.output,
      outputSha256: message.outputSha256,
      signature,
      nonce: message.nonce,
    };
    // One transaction: the result, the task's state and the node's nonce move together or not at all.
    this.#init.tasks.acceptSoon(
      record,
      () => this.#init.nodes.recordResult(nodeId, nonce),
      // A duplicate still spends its nonce. Callbacks run after the whole group commit, so store the highest
      // nonce verified on this link (never lower than one a later result in the same commit recorded).
      () =>
        this.#init.nodes.setLastNonce(nodeId, connection.lastNonce > nonce ? connection.lastNonce : nonce),
    );
  }
}

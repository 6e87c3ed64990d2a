import { QueueFullError } from '../protocol/index.js';

/** What the scheduler knows of a connected node. */
export type NodeInfo = {
  id: string;
  /** Concurrent tasks the node accepts in all. */
  slots: number;
  /** Measured tokens/s per model sha256 the node has proved it holds. */
  models: Map<string, number>;
};

type NodeState = NodeInfo & {
  running: Set<string>;
  rttMs: number;
  successes: number;
  failures: number;
};

export type QueuedTask = {
  id: string;
  modelSha256: string;
  /** Expected output tokens, used to size the lease. */
  maxTokens: number;
  /** Attempts already made, ever (0 for a new task); numbers each attempt uniquely across restarts. */
  attempts: number;
  /** Attempts made by this router process; bounded by maxAttempts (a router crash is not the task's fault). */
  tries?: number;
};

export type Lease = { task: QueuedTask; nodeId: string; attempt: number; deadline: number };

export type SchedulerInit = {
  queueLimit: number;
  maxAttempts: number;
  /** Fixed part of every lease, on top of the time the node's throughput predicts. */
  leaseGraceMs: number;
  /** Hands a lease to the gateway; false when the node cannot be reached (the task is requeued). */
  assign: (lease: Lease) => boolean;
  /** Called when a task has used all its attempts. */
  giveUp: (task: QueuedTask, reason: string) => void;
  now?: () => number;
};

/**
 * Gives each task to the best node that holds its model and has a free slot. Pure bookkeeping, no I/O:
 * the gateway and the task manager call in, and `assign` calls out.
 */
export class Scheduler {
  readonly #init: SchedulerInit;
  readonly #now: () => number;
  readonly #nodes = new Map<string, NodeState>();
  /** Waiting tasks per model; retries go to the front. */
  readonly #queues = new Map<string, QueuedTask[]>();
  readonly #leases = new Map<string, Lease>();
  #queued = 0;

  constructor(init: SchedulerInit) {
    this.#init = init;
    this.#now = init.now ?? Date.now;
  }

  get queuedCount(): number {
    return this.#queued;
  }

  get nodeCount(): number {
    return this.#nodes.size;
  }

  canServe(modelSha256: string): boolean {
    for (const node of this.#nodes.values()) if (node.models.has(modelSha256)) return true;
    return false;
  }

  servableModels(): Set<string> {
    const models = new Set<string>();
    for (const node of this.#nodes.values()) for (const sha of node.models.keys()) models.add(sha);
    return models;
  }

  /** How many connected nodes serve each model sha256. */
  nodesPerModel(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const node of this.#nodes.values())
      for (const sha of node.models.keys()) counts.set(sha, (counts.get(sha) ?? 0) + 1);
    return counts;
  }

  lease(taskId: string): Lease | undefined {
    return this.#leases.get(taskId);
  }

  addNode(info: NodeInfo): void {
    this.#nodes.set(info.id, { ...info, running: new Set(), rttMs: 1, successes: 0, failures: 0 });
    for (const sha of info.models.keys()) this.#pump(sha);
  }

  /** Forgets a node; its running tasks go back to the queue. */
  removeNode(nodeId: string): void {
    const node = this.#nodes.get(nodeId);
    if (!node) return;
    this.#nodes.delete(nodeId);
    for (const taskId of node.running) this.#retry(taskId, `node ${nodeId} disconnected`);
  }

  setRoundTrip(nodeId: string, rttMs: number): void {
    const node = this.#nodes.get(nodeId);
    if (node) node.rttMs = node.rttMs * 0.8 + rttMs * 0.2;
  }

  /** Throws QueueFullError when no more tasks may wait; call before accepting one. */
  assertRoom(alsoWaiting = 0): void {
    const queued = this.#queued + alsoWaiting;
    if (queued >= this.#init.queueLimit) {
      throw new QueueFullError(Math.max(1, Math.ceil(queued / Math.max(1, this.#totalSlots()) / 2)));
    }
  }

  /** Puts an accepted (or recovered) task in the queue and hands it out if a node is free. */
  enqueue(task: QueuedTask): void {
    this.#push(task, false);
    this.#pump(task.modelSha256);
  }

  /** A node finished a task (the task manager has already accepted the result). */
  complete(taskId: string): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#leases.delete(taskId);
    const node = this.#nodes.get(lease.nodeId);
    if (node) {
      node.running.delete(taskId);
      node.successes++;
      this.#pumpNode(node);
    }
  }

  /** A task's attempt failed on its node: retry elsewhere unless `final` or out of attempts. */
  fail(taskId: string, nodeId: string, reason: string, final: boolean): void {
    const lease = this.#leases.get(taskId);
    if (!lease || lease.nodeId !== nodeId) return;
    const node = this.#nodes.get(nodeId);
    if (node && !final) node.failures++;
    if (final) {
      this.#release(lease);
      return;
    }
    this.#retry(taskId, reason);
  }

  /** The node handed a task back unfinished (it is shutting down): queue it again without blaming anyone. */
  handBack(taskId: string, nodeId: string): void {
    const lease = this.#leases.get(taskId);
    if (!lease || lease.nodeId !== nodeId) return;
    this.#release(lease);
    lease.task.tries = Math.max(0, (lease.task.tries ?? 1) - 1);
    this.#push(lease.task, true);
    this.#pump(lease.task.modelSha256);
  }

  /** Drops a task wherever it is (queued or leased), e.g. when it was answered by an earlier attempt. */
  cancel(taskId: string): void {
    const lease = this.#leases.get(taskId);
    if (lease) this.#release(lease);
    for (const queue of this.#queues.values()) {
      const index = queue.findIndex((t) => t.id === taskId);
      if (index >= 0) {
        queue.splice(index, 1);
        this.#queued--;
      }
    }
  }

  /** Requeues every task whose lease deadline has passed; returns the expired leases. */
  expireLeases(): Lease[] {
    const now = this.#now();
    const expired = [...this.#leases.values()].filter((l) => l.deadline <= now);
    for (const lease of expired) {
      const node = this.#nodes.get(lease.nodeId);
      if (node) node.failures++;
      this.#retry(lease.task.id, `node ${lease.nodeId} missed its deadline`);
    }
    return expired;
  }

  #release(lease: Lease): void {
    this.#leases.delete(lease.task.id);
    const node = this.#nodes.get(lease.nodeId);
    if (node) {
      node.running.delete(lease.task.id);
      this.#pumpNode(node);
    }
  }

  #retry(taskId: string, reason: string): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#release(lease);
    if ((lease.task.tries ?? 0) >= this.#init.maxAttempts) {
      this.#init.giveUp(lease.task, reason);
      return;
    }
    this.#push(lease.task, true);
    this.#pump(lease.task.modelSha256);
  }

  #push(task: QueuedTask, front: boolean): void {
    let queue = this.#queues.get(task.modelSha256);
    if (!queue) {
      queue = [];
      this.#queues.set(task.modelSha256, queue);
    }
    if (front) queue.unshift(task);
    else queue.push(task);
    this.#queued++;
  }

  #pumpNode(node: NodeState): void {
    for (const sha of node.models.keys()) {
      if (node.running.size >= node.slots) return;
      this.#pump(sha);
    }
  }

  /** Hands out queued tasks of one model while some node has a free slot for it. */
  #pump(modelSha256: string): void {
    const queue = this.#queues.get(modelSha256);
    while (queue && queue.length > 0) {
      const node = this.#best(modelSha256);
      if (!node) return;
      const task = queue.shift() as QueuedTask;
      this.#queued--;
      task.attempts++;
      task.tries = (task.tries ?? 0) + 1;
      const tokensPerSecond = node.models.get(modelSha256) ?? 1;
      const expectedMs = (task.maxTokens / Math.max(tokensPerSecond, 1)) * 1000;
      const lease: Lease = {
        task,
        nodeId: node.id,
        attempt: task.attempts,
        deadline: this.#now() + this.#init.leaseGraceMs + expectedMs * 4,
      };
      this.#leases.set(task.id, lease);
      node.running.add(task.id);
      if (!this.#init.assign(lease)) {
        // The link is gone: forget the node (its close will be reported too) and try the task elsewhere.
        this.removeNode(node.id);
      }
    }
  }

  /** The node with a free slot that should finish this model's task soonest and most reliably. */
  #best(modelSha256: string): NodeState | undefined {
    let best: NodeState | undefined;
    let bestScore = -1;
    for (const node of this.#nodes.values()) {
      const tokensPerSecond = node.models.get(modelSha256);
      if (tokensPerSecond === undefined || node.running.size >= node.slots) continue;
      const successRate = (node.successes + 1) / (node.successes + node.failures + 2);
      const freeShare = 1 - node.running.size / node.slots;
      const score = (Math.max(tokensPerSecond, 1) * successRate * (0.5 + freeShare)) / (1 + node.rttMs / 50);
      if (score > bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }

  #totalSlots(): number {
    let slots = 0;
    for (const node of this.#nodes.values()) slots += node.slots;
    return slots;
  }
}

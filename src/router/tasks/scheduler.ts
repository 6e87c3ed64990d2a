import { QueueFullError } from '../../protocol/index.js';
import { drawByStake } from '../../verify/index.js';
import type { Checkers } from './checker-set.js';
import { FreeNodes } from './free-nodes.js';
import {
  backoffMs,
  believedSlots,
  blend,
  FIRST_TOKEN_MS,
  leaseRate,
  observedRate,
  promptMs,
  QUIET_FLOOR_MS,
  quietLimitMs,
} from './lease-policy.js';

/**
 * How many free nodes a dispatch looks at when a model has more than that: the best of a random sample
 * ("power of d choices", as Sparrow does) instead of a scan of every node, so a dispatch costs the same with
 * 10 or 10,000 nodes. With this many or fewer free nodes the choice is exact.
 */
const SAMPLE = 16;

/** What the scheduler knows of a connected node. */
export type NodeInfo = {
  id: string;
  /** Concurrent tasks the node accepts in all. */
  slots: number;
  /** Tokens/s per model sha256 the node has proved it holds, as its hello claims (a claim, see lease-policy). */
  models: Map<string, number>;
  /** The payout wallet its owner named; two nodes with the same wallet are never independent. */
  wallet?: string | null;
  /** What the node does: generate (worker), check others' results (validator), or both. Default worker. */
  roles?: ReadonlySet<NodeRole>;
  /** The /24 or /48 the node connects from (src/verify addressGroup); null when not comparable (loopback). */
  addressGroup?: string | null;
};

export type NodeRole = 'worker' | 'validator';

/** See Scheduler.activity(). Pools are `role/modelSha256`. */
export type SchedulerActivity = {
  pools: Map<string, { queued: number; dispatched: boolean }>;
  nodes: {
    id: string;
    pools: readonly string[];
    running: number;
    slots: number;
    backoffUntil: number;
    misses: number;
  }[];
};

/** Queues and free-node sets are per pool: a role and a model. */
const poolOf = (role: NodeRole, modelSha256: string) => `${role}/${modelSha256}`;
const WORKER_ONLY: ReadonlySet<NodeRole> = new Set(['worker']);

type NodeState = NodeInfo & {
  pools: string[];
  running: Set<string>;
  rttMs: number;
  successes: number;
  failures: number;
  /** Tokens/s per model as the router measured it (lease to result); the scheduler believes these. */
  measured: Map<string, number>;
  /** Tasks delivered since the node last missed a lease: 0 means unproven (short leases, few slots). */
  delivered: number;
  /** Leases missed in a row, and until when the node gets no work for it. */
  misses: number;
  backoffUntil: number;
  /** Time between pieces of a task as the router saw them arrive (averaged): how long a stream may pause. */
  pieceGapMs: number | undefined;
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
  /** The role a node needs to take it (default worker); checks of results go to validators. */
  role?: NodeRole;
  /** Nodes that must not get this task (e.g. the node whose result it checks, or its wallet's other nodes). */
  avoid?: { nodes?: ReadonlySet<string>; wallets?: ReadonlySet<string>; groups?: ReadonlySet<string> };
  /**
   * A check's checkers: only these nodes may take it, drawn at random among the free ones in proportion
   * to the weight (bonded stake) rather than by speed, so who checks whom cannot be arranged.
   */
  checkers?: Checkers;
  /** Characters of prompt: an unproven node's first-piece window allows for evaluating it. */
  promptChars?: number;
};

export type Lease = {
  task: QueuedTask;
  nodeId: string;
  attempt: number;
  deadline: number;
  /** When the lease began. */
  startedAt: number;
  /** An unproven node loses the lease unless it sends something about the task by then; null once heard. */
  firstPieceBy: number | null;
  /** When the node last sent something about the task; null before its first piece. */
  lastPieceAt: number | null;
};

export type SchedulerInit = {
  queueLimit: number;
  maxAttempts: number;
  /** Fixed part of every lease, on top of the time the node's throughput predicts. */
  leaseGraceMs: number;
  /** An unproven node's time to first piece (default FIRST_TOKEN_MS), before allowing for its prompt. */
  firstTokenMs?: number;
  /** Least time a stream may go quiet after its first piece (default QUIET_FLOOR_MS; see lease-policy). */
  quietFloorMs?: number;
  now?: () => number;
};

/** Where leases go once the scheduler is started: its one way out (the router wires it to the gateway). */
export type Dispatcher = {
  /** Hands a lease to the gateway; false when the node cannot be reached (the task is requeued). */
  assign(lease: Lease): boolean;
  /** Called when a task has used all its attempts. */
  giveUp(task: QueuedTask, reason: string): void;
};

/**
 * Gives each task to the best node that holds its model and has a free slot. Pure bookkeeping, no I/O:
 * the gateway and the task manager call in, and its dispatcher (given at `start`) is the one way out.
 */
const taskPool = (task: QueuedTask) => poolOf(task.role ?? 'worker', task.modelSha256);

export class Scheduler {
  readonly #init: SchedulerInit;
  readonly #now: () => number;
  /** Null until started: tasks queue, none is handed out. */
  #dispatcher: Dispatcher | null = null;
  readonly #nodes = new Map<string, NodeState>();
  /** Waiting tasks per pool; retries go to the front. */
  readonly #queues = new Map<string, QueuedTask[]>();
  readonly #leases = new Map<string, Lease>();
  /** Per pool: the nodes with a free slot. */
  readonly #free = new Map<string, FreeNodes<NodeState>>();
  /** Per pool: how many connected nodes are in it. */
  readonly #holders = new Map<string, number>();
  /** Per pool: its connected nodes (to find one independent of a given node). */
  readonly #members = new Map<string, Set<NodeState>>();
  #queued = 0;
  /** Per model: tokens/s the router measured over all nodes, the prior for a node not yet measured. */
  readonly #networkRate = new Map<string, number>();
  /** Nodes kept from work after a missed lease, until their backoff ends. */
  readonly #backedOff = new Set<NodeState>();
  #reputation: ((nodeId: string, modelSha256: string) => number) | null = null;
  /** Wallets of nodes that left: a check of a departed node's result must still avoid its wallet. */
  readonly #departedWallets = new Map<string, string>();
  /** Pools given work since the last `activity()` call; null (no cost on dispatch) until someone asks. */
  #dispatchedPools: Set<string> | null = null;

  constructor(init: SchedulerInit) {
    this.#init = init;
    this.#now = init.now ?? Date.now;
  }

  /**
   * Starts handing out leases through `dispatcher`. The scheduler is built before the services it dispatches
   * to (they need it), so the composition root wires its way out once, here, when they all exist.
   */
  start(dispatcher: Dispatcher): void {
    this.#dispatcher = dispatcher;
    for (const pool of this.#queues.keys()) this.#pump(pool);
  }

  /** Stops handing out leases (the router is closing); queued tasks stay where they are. */
  stop(): void {
    this.#dispatcher = null;
  }

  /** Where verified reputation (0..1 per node and model) comes from; reputable nodes are preferred. */
  useReputation(source: (nodeId: string, modelSha256: string) => number): void {
    this.#reputation = source;
  }

  get maxAttempts(): number {
    return this.#init.maxAttempts;
  }

  /** Whether a node (any letter case of its address) is connected and taking work. */
  /** Whether the node is kept from work for now, after missing a lease (see lease-policy backoffMs). */
  isBackedOff(nodeId: string): boolean {
    const node = this.#nodes.get(nodeId);
    return node !== undefined && node.backoffUntil > this.#now();
  }

  isConnected(nodeId: string): boolean {
    const id = nodeId.toLowerCase();
    for (const key of this.#nodes.keys()) if (key.toLowerCase() === id) return true;
    return false;
  }

  /** The payout wallet a node named (connected, or seen since this router started), if any. */
  walletOf(nodeId: string): string | null {
    return this.#nodes.get(nodeId)?.wallet ?? this.#departedWallets.get(nodeId) ?? null;
  }

  get queuedCount(): number {
    return this.#queued;
  }

  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** Slots the scheduler fills across all nodes now (unproven nodes count only the slots believed of them). */
  get believedSlotCount(): number {
    return this.#totalSlots();
  }

  /** True when a connected node in `role` (default worker) holds the model. */
  canServe(modelSha256: string, role: NodeRole = 'worker'): boolean {
    return (this.#holders.get(poolOf(role, modelSha256)) ?? 0) > 0;
  }

  servableModels(): Set<string> {
    return new Set(this.nodesPerModel().keys());
  }

  /** Whether a connected node in `role` holds the model and shares neither `nodeId`, its wallet nor its network. */
  hasIndependent(role: NodeRole, modelSha256: string, nodeId: string): boolean {
    const wallet = this.#nodes.get(nodeId)?.wallet ?? null;
    const group = this.#nodes.get(nodeId)?.addressGroup ?? null;
    for (const node of this.#members.get(poolOf(role, modelSha256)) ?? [])
      if (
        node.id !== nodeId &&
        !(wallet && node.wallet === wallet) &&
        !(group && node.addressGroup === group)
      )
        return true;
    return false;
  }

  /** The address group a connected node connects from (null: not comparable, or not connected). */
  addressGroupOf(nodeId: string): string | null {
    return this.#nodes.get(nodeId.toLowerCase())?.addressGroup ?? null;
  }

  /**
   * What the scheduler did since the last call, for the "why is my node idle" sweep (src/router/metrics): pools
   * that were given work or have tasks waiting, and each connected node's pools and load. Read-only; the
   * first call turns on the (one Set.add per dispatch) tracking of pools given work.
   */
  activity(): SchedulerActivity {
    const dispatched = this.#dispatchedPools ?? new Set<string>();
    this.#dispatchedPools = new Set();
    const pools = new Map<string, { queued: number; dispatched: boolean }>();
    for (const pool of dispatched) pools.set(pool, { queued: 0, dispatched: true });
    for (const [pool, queue] of this.#queues)
      if (queue.length > 0) pools.set(pool, { queued: queue.length, dispatched: dispatched.has(pool) });
    const now = this.#now();
    const nodes = [...this.#nodes.values()].map((n) => ({
      id: n.id,
      pools: n.pools,
      running: n.running.size,
      slots: this.#slotsOf(n),
      backoffUntil: n.backoffUntil > now ? n.backoffUntil : 0,
      misses: n.misses,
    }));
    return { pools, nodes };
  }

  /** The connected nodes in `role` that hold the model, with their payout wallets (null: none named). */

  members(
    role: NodeRole,
    modelSha256: string,
  ): { nodeId: string; wallet: string | null; addressGroup: string | null }[] {
    return [...(this.#members.get(poolOf(role, modelSha256)) ?? [])].map((n) => ({
      nodeId: n.id,
      wallet: n.wallet ?? null,
      addressGroup: n.addressGroup ?? null,
    }));
  }

  /** How many connected workers serve each model sha256. */
  nodesPerModel(role: NodeRole = 'worker'): Map<string, number> {
    const counts = new Map<string, number>();
    const prefix = `${role}/`;
    for (const [pool, count] of this.#holders)
      if (pool.startsWith(prefix)) counts.set(pool.slice(prefix.length), count);
    return counts;
  }

  lease(taskId: string): Lease | undefined {
    return this.#leases.get(taskId);
  }

  addNode(info: NodeInfo): void {
    const old = this.#nodes.get(info.id);
    if (old) this.#forget(old);
    const pools: string[] = [];
    for (const role of info.roles ?? WORKER_ONLY)
      for (const sha of info.models.keys()) pools.push(poolOf(role, sha));
    const node: NodeState = {
      ...info,
      pools,
      running: new Set(),
      rttMs: 1,
      successes: 0,
      failures: 0,
      measured: new Map(),
      delivered: 0,
      misses: 0,
      backoffUntil: 0,
      pieceGapMs: undefined,
    };
    this.#nodes.set(info.id, node);
    for (const pool of pools) {
      this.#holders.set(pool, (this.#holders.get(pool) ?? 0) + 1);
      let members = this.#members.get(pool);
      if (!members) {
        members = new Set();
        this.#members.set(pool, members);
      }
      members.add(node);
    }
    this.#refresh(node);
    for (const pool of pools) {
      this.#refillChecks(pool);
      this.#pump(pool);
    }
  }

  /** Forgets a node; its running tasks go back to the queue. */
  removeNode(nodeId: string): void {
    const node = this.#nodes.get(nodeId);
    if (!node) return;
    this.#forget(node);
    for (const taskId of node.running) this.#retry(taskId, `node ${nodeId} disconnected`);
  }

  setRoundTrip(nodeId: string, rttMs: number): void {
    const node = this.#nodes.get(nodeId);
    if (node) node.rttMs = node.rttMs * 0.8 + rttMs * 0.2;
  }

  /** Throws QueueFullError when no more tasks may wait; call before accepting one. */
  assertRoom(alsoWaiting = 0): void {
    // Accepted tasks not yet committed (`alsoWaiting`) that idle slots will take at once do not wait: a burst
    // arriving in one turn would otherwise be refused as if a free node were busy.
    // (The scan of idle slots runs only near the limit: it reads every node.)
    let queued = this.#queued + alsoWaiting;
    if (queued >= this.#init.queueLimit && alsoWaiting > 0)
      queued = this.#queued + Math.max(0, alsoWaiting - this.#idleSlots());
    if (queued >= this.#init.queueLimit) {
      throw new QueueFullError(Math.max(1, Math.ceil(queued / Math.max(1, this.#totalSlots()) / 2)));
    }
  }

  /** Puts an accepted (or recovered) task in the queue and hands it out if a node is free. */
  enqueue(task: QueuedTask): void {
    this.#push(task, false);
    this.#pump(taskPool(task));
  }

  /**
   * A node finished a task (the task manager has already accepted the result). `outputTokens` (0 for tasks
   * that generate nothing) measures the node's speed.
   */
  complete(taskId: string, outputTokens = 0): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#leases.delete(taskId);
    const node = this.#nodes.get(lease.nodeId);
    if (node) {
      node.running.delete(taskId);
      node.successes++;
      node.delivered++;
      node.misses = 0;
      if (outputTokens > 0) this.#measure(node, lease, outputTokens);
      this.#refresh(node);
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
    this.#pump(taskPool(lease.task));
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

  /** The node holding this lease sent something about the task: it is working on it. */
  heard(taskId: string, nodeId: string, attempt: number): void {
    const lease = this.#leases.get(taskId);
    if (!lease || lease.nodeId !== nodeId || lease.attempt !== attempt) return;
    const now = this.#now();
    const node = this.#nodes.get(nodeId);
    if (node && lease.lastPieceAt !== null) node.pieceGapMs = blend(node.pieceGapMs, now - lease.lastPieceAt);
    lease.lastPieceAt = now;
    lease.firstPieceBy = null;
  }

  /**
   * A node's answer turned out false after its lease ended (another node ran the task it said it could not):
   * count it like a missed lease, so it is kept from work for a while and unproven again.
   */
  blame(nodeId: string): void {
    const node = this.#nodes.get(nodeId);
    if (node) this.#missed(node, this.#now());
  }

  /**
   * Requeues every task whose lease deadline (or first-piece deadline) has passed, or whose stream has gone
   * quiet for longer than its quiet limit after its first piece; returns the expired leases. A node that missed one is kept from work for a while and is unproven again, so the retry goes
   * elsewhere. Nodes whose backoff ended take work again.
   */
  expireLeases(): Lease[] {
    const now = this.#now();
    const expired = [...this.#leases.values()].filter(
      (l) => l.deadline <= now || (l.firstPieceBy !== null && l.firstPieceBy <= now) || this.#quiet(l, now),
    );
    for (const lease of expired) {
      const node = this.#nodes.get(lease.nodeId);
      if (node) this.#missed(node, now);
      this.#retry(lease.task.id, `node ${lease.nodeId} missed its deadline`);
    }
    for (const node of this.#backedOff) {
      if (node.backoffUntil > now) continue;
      this.#backedOff.delete(node);
      this.#refresh(node);
      for (const pool of node.pools) this.#refillChecks(pool);
      this.#pumpNode(node);
    }
    return expired;
  }

  /** Whether a lease's stream has gone quiet for longer than its node is allowed to pause. */
  #quiet(lease: Lease, now: number): boolean {
    if (lease.lastPieceAt === null) return false;
    const node = this.#nodes.get(lease.nodeId);
    let otherPromptsMs = 0;
    for (const taskId of node?.running ?? []) {
      const other = this.#leases.get(taskId);
      if (other && other !== lease && other.lastPieceAt === null)
        otherPromptsMs += promptMs(other.task.promptChars ?? 0);
    }
    const limit = quietLimitMs(this.#init.quietFloorMs ?? QUIET_FLOOR_MS, node?.pieceGapMs, otherPromptsMs);
    return now - lease.lastPieceAt > limit;
  }

  #missed(node: NodeState, now: number): void {
    node.failures++;
    node.misses++;
    node.delivered = 0;
    node.backoffUntil = now + backoffMs(node.misses);
    this.#backedOff.add(node);
    this.#refresh(node);
    // Checks waiting for this node among their checkers go to others rather than wait out its backoff.
    for (const pool of node.pools) {
      for (const task of this.#queues.get(pool) ?? []) task.checkers?.passOver?.(node.id);
      this.#pump(pool);
    }
  }

  #measure(node: NodeState, lease: Lease, outputTokens: number): void {
    const sha = lease.task.modelSha256;
    const rate = observedRate(outputTokens, lease.task.maxTokens, this.#now() - lease.startedAt);
    node.measured.set(sha, blend(node.measured.get(sha), rate));
    this.#networkRate.set(sha, blend(this.#networkRate.get(sha), rate));
  }

  #release(lease: Lease): void {
    this.#leases.delete(lease.task.id);
    const node = this.#nodes.get(lease.nodeId);
    if (node) {
      node.running.delete(lease.task.id);
      this.#refresh(node);
      this.#pumpNode(node);
    }
  }

  #forget(node: NodeState): void {
    this.#nodes.delete(node.id);
    this.#backedOff.delete(node);
    if (node.wallet) this.#departedWallets.set(node.id, node.wallet);
    for (const pool of node.pools) {
      this.#free.get(pool)?.delete(node);
      this.#members.get(pool)?.delete(node);
      const left = (this.#holders.get(pool) ?? 1) - 1;
      if (left > 0) this.#holders.set(pool, left);
      else this.#holders.delete(pool);
    }
  }

  /** Puts the node in (or takes it out of) its models' free sets after its running count changed. */
  #refresh(node: NodeState): void {
    const free =
      this.#nodes.get(node.id) === node &&
      node.running.size < this.#slotsOf(node) &&
      node.backoffUntil <= this.#now();
    for (const pool of node.pools) {
      let set = this.#free.get(pool);
      if (!set) {
        set = new FreeNodes();
        this.#free.set(pool, set);
      }
      if (free) set.add(node);
      else set.delete(node);
    }
  }

  #retry(taskId: string, reason: string): void {
    const lease = this.#leases.get(taskId);
    if (!lease) return;
    this.#release(lease);
    // A checker that let its lease of a check lapse (or failed it) is passed over: the check goes to another.
    lease.task.checkers?.passOver?.(lease.nodeId);
    if ((lease.task.tries ?? 0) >= this.#init.maxAttempts) {
      this.#dispatcher?.giveUp(lease.task, reason);
      return;
    }
    this.#push(lease.task, true);
    this.#pump(taskPool(lease.task));
  }

  #push(task: QueuedTask, front: boolean): void {
    const pool = taskPool(task);
    let queue = this.#queues.get(pool);
    if (!queue) {
      queue = [];
      this.#queues.set(pool, queue);
    }
    if (front) queue.unshift(task);
    else queue.push(task);
    this.#queued++;
  }

  /** Checks waiting in the pool whose checkers were all passed over may draw again (a node is back). */
  #refillChecks(pool: string): void {
    for (const task of this.#queues.get(pool) ?? []) task.checkers?.refill?.();
  }

  #pumpNode(node: NodeState): void {
    for (const pool of node.pools) {
      if (node.running.size >= this.#slotsOf(node)) return;
      this.#pump(pool);
    }
  }

  /**
   * Hands out queued tasks of one model while some node has a free slot for it. A task whose constraints no
   * free node meets stays in place and the ones behind it go first.
   */
  #pump(pool: string): void {
    const queue = this.#queues.get(pool);
    if (!queue || !this.#dispatcher) return;
    let position = 0;
    while (position < queue.length) {
      if ((this.#free.get(pool)?.size ?? 0) === 0) return;
      const task = queue[position] as QueuedTask;
      const node = this.#best(pool, task);
      if (!node) {
        position++;
        continue;
      }
      if (position === 0) queue.shift();
      else queue.splice(position, 1);
      this.#queued--;
      this.#dispatchedPools?.add(pool);
      this.#give(task, node);
    }
  }

  #give(task: QueuedTask, node: NodeState): void {
    task.attempts++;
    task.tries = (task.tries ?? 0) + 1;
    const sha = task.modelSha256;
    const tokensPerSecond = leaseRate(
      node.measured.get(sha),
      node.models.get(sha) ?? 1,
      this.#networkRate.get(sha),
    );
    const expectedMs = (task.maxTokens / tokensPerSecond) * 1000;
    const now = this.#now();
    const prompt = promptMs(task.promptChars ?? 0);
    const deadline = now + this.#init.leaseGraceMs + prompt + expectedMs * 4;
    // A node that has delivered nothing yet (or missed its last lease) must show it is working, quickly.
    const firstPieceBy =
      node.delivered > 0
        ? null
        : Math.min(deadline, now + (this.#init.firstTokenMs ?? FIRST_TOKEN_MS) + prompt);
    const lease: Lease = {
      task,
      nodeId: node.id,
      attempt: task.attempts,
      deadline,
      startedAt: now,
      firstPieceBy,
      lastPieceAt: null,
    };
    this.#leases.set(task.id, lease);
    node.running.add(task.id);
    if (node.running.size >= this.#slotsOf(node)) this.#refresh(node);
    if (!this.#dispatcher?.assign(lease)) {
      // The link is gone: forget the node (its close will be reported too) and try the task elsewhere.
      this.removeNode(node.id);
    }
  }

  /**
   * The free node that should finish this task soonest and most reliably: exact among up to SAMPLE free
   * nodes, the best of a random SAMPLE beyond that (a full scan only when no sampled node may take it).
   */
  #best(pool: string, task: QueuedTask): NodeState | undefined {
    const free = this.#free.get(pool);
    if (!free || free.size === 0) return undefined;
    if (task.checkers) return this.#draw(free.values(), task);
    let best: NodeState | undefined;
    let bestScore = -1;
    const consider = (node: NodeState) => {
      if (!this.#allowed(node, task)) return;
      const score = this.#score(node, task.modelSha256);
      if (score > bestScore) {
        best = node;
        bestScore = score;
      }
    };
    if (free.size <= SAMPLE) {
      for (const node of free.values()) consider(node);
      return best;
    }
    for (let i = 0; i < SAMPLE; i++) consider(free.at(Math.floor(Math.random() * free.size)));
    if (!best && task.avoid) for (const node of free.values()) consider(node);
    return best;
  }

  #allowed(node: NodeState, task: QueuedTask): boolean {
    if (task.checkers && !task.checkers.has(node.id)) return false;
    if (!task.avoid) return true;
    if (task.avoid.nodes?.has(node.id)) return false;
    if (node.addressGroup && task.avoid.groups?.has(node.addressGroup)) return false;
    return !(node.wallet && task.avoid.wallets?.has(node.wallet));
  }

  /** A check's node: drawn among its allowed free checkers in proportion to their stake (see `checkers`). */
  #draw(free: readonly NodeState[], task: QueuedTask): NodeState | undefined {
    const pool = free
      .filter((node) => this.#allowed(node, task))
      .map((node) => ({ node, stake: task.checkers?.get(node.id) ?? 0n }));
    return drawByStake(pool, Math.random)?.node;
  }

  #score(node: NodeState, modelSha256: string): number {
    // Measured speed only: a claim would let any node make itself first in line.
    const tokensPerSecond = node.measured.get(modelSha256) ?? this.#networkRate.get(modelSha256) ?? 1;
    const successRate = (node.successes + 1) / (node.successes + node.failures + 2);
    const freeShare = 1 - node.running.size / this.#slotsOf(node);
    // Verified reputation counts for up to half: a new node still gets work (and builds a record).
    const reputation = 0.5 + 0.5 * (this.#reputation?.(node.id, modelSha256) ?? 0);
    return (
      (Math.max(tokensPerSecond, 1) * successRate * reputation * (0.5 + freeShare)) / (1 + node.rttMs / 50)
    );
  }

  /** Slots of nodes taking work now (not backed off) that no lease holds. */
  #idleSlots(): number {
    const now = this.#now();
    let idle = 0;
    for (const node of this.#nodes.values()) {
      if (node.backoffUntil > now) continue;
      idle += Math.max(0, this.#slotsOf(node) - node.running.size);
    }
    return idle;
  }

  #totalSlots(): number {
    let slots = 0;
    for (const node of this.#nodes.values()) slots += this.#slotsOf(node);
    return slots;
  }

  /** Slots believed of a node: its announcement, capped until it has delivered work. */
  #slotsOf(node: NodeState): number {
    return believedSlots(node.slots, node.delivered);
  }
}

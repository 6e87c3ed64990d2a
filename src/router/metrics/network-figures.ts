import type { HelloMessage, NodeMetricsSample, OmniError } from '../../protocol/index.js';
import type { ResultRecord, TaskRecord } from '../../store/index.js';
import type { VerdictEvent } from '../../verify/index.js';
import type { TaskHandle, TaskObserver } from '../tasks/task-manager.js';

/** What the router keeps of a connected node for its metrics: fixed size (a few hundred bytes). */
export type NodeFigure = {
  type: string;
  /** Model names the hello announced (at most 64, as the hello allows). */
  models: string[];
  connectedAt: number;
  sample: NodeMetricsSample | null;
  sampleAt: number;
};

/** A task that ended, as the Prometheus registry counts it. */
export type TaskEnd =
  | { outcome: 'done'; dispatchSeconds: number | null; tokensPerSecond: number | null; tokens: number }
  | { outcome: 'failed'; kind: string };

/** Seconds of per-second counts kept for the "per minute" and "per second" figures. */
const WINDOW = 60;

/**
 * The router's running figures: each connected node's latest sample (from its heartbeats), tasks done and
 * failed, tokens and verdicts over the last minute. One writer each: the gateway's heartbeats, the task
 * manager (as an observer) and verification's verdicts; the routes, recorder and Prometheus only read.
 */
export class NetworkFigures implements TaskObserver {
  readonly nodes = new Map<string, NodeFigure>();
  /** Told of each task's end (the Prometheus registry counts it). */
  onTaskEnd: ((end: TaskEnd) => void) | null = null;
  onVerdict: ((event: VerdictEvent) => void) | null = null;
  readonly #now: () => number;
  readonly #tasks = new Float64Array(WINDOW);
  readonly #tokens = new Float64Array(WINDOW);
  readonly #passes = new Float64Array(WINDOW);
  readonly #fails = new Float64Array(WINDOW);
  #second = 0;
  passesTotal = 0;
  failsTotal = 0;
  enabled = true;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  hello(nodeId: string, hello: HelloMessage): void {
    this.nodes.set(nodeId.toLowerCase(), {
      type: hello.hardware.nodeType,
      models: hello.models.map((m) => m.name),
      connectedAt: this.#now(),
      sample: null,
      sampleAt: 0,
    });
  }

  heartbeat(nodeId: string, sample: NodeMetricsSample): void {
    const figure = this.nodes.get(nodeId.toLowerCase());
    if (!figure) return;
    figure.sample = sample;
    figure.sampleAt = this.#now();
  }

  left(nodeId: string): void {
    this.nodes.delete(nodeId.toLowerCase());
  }

  accepted(result: ResultRecord, handle: TaskHandle | undefined): void {
    if (!this.enabled) return;
    const tokens = result.output.completionTokens;
    this.#slot(this.#tasks, 1);
    this.#slot(this.#tokens, tokens);
    let dispatchSeconds: number | null = null;
    let tokensPerSecond: number | null = null;
    if (handle && handle.startedAt > 0) {
      dispatchSeconds = Math.max(0, handle.startedAt - handle.record.createdAt) / 1000;
      const ms = handle.resultAt - handle.startedAt;
      if (tokens > 0 && ms > 0) tokensPerSecond = tokens / (ms / 1000);
    }
    this.onTaskEnd?.({ outcome: 'done', dispatchSeconds, tokensPerSecond, tokens });
  }

  failed(_record: TaskRecord, error: OmniError): void {
    if (!this.enabled) return;
    this.onTaskEnd?.({ outcome: 'failed', kind: error.kind });
  }

  verdict(event: VerdictEvent): void {
    if (!this.enabled) return;
    if (event.outcome === 'pass') {
      this.passesTotal++;
      this.#slot(this.#passes, 1);
    } else {
      this.failsTotal++;
      this.#slot(this.#fails, 1);
    }
    this.onVerdict?.(event);
  }

  /** Tasks done in the last minute. */
  tasksPerMinute(): number {
    return this.#sum(this.#tasks);
  }

  /** Output tokens per second over the last minute, network-wide. */
  tokensPerSecond(): number {
    return this.#sum(this.#tokens) / WINDOW;
  }

  /** Share of verdicts that passed in the last minute; null when there were none. */
  passRate(): number | null {
    const passes = this.#sum(this.#passes);
    const total = passes + this.#sum(this.#fails);
    return total > 0 ? passes / total : null;
  }

  /** Sum of the connected nodes' latest FLOPS. */
  totalFlops(): number {
    let total = 0;
    for (const figure of this.nodes.values()) total += figure.sample?.flops ?? 0;
    return total;
  }

  /** Adds to this second's slot, clearing the slots of seconds that passed without events. */
  #slot(slots: Float64Array, value: number): void {
    this.#advance();
    slots[this.#second % WINDOW] = (slots[this.#second % WINDOW] ?? 0) + value;
  }

  #sum(slots: Float64Array): number {
    this.#advance();
    let total = 0;
    for (const v of slots) total += v;
    return total;
  }

  #advance(): void {
    const second = Math.floor(this.#now() / 1000);
    if (second === this.#second) return;
    const gap = Math.min(WINDOW, second - this.#second);
    for (let i = 1; i <= gap; i++)
      for (const slots of [this.#tasks, this.#tokens, this.#passes, this.#fails])
        slots[(this.#second + i) % WINDOW] = 0;
    this.#second = second;
  }
}

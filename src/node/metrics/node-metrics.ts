import type { NodeMetricsSample } from '../../protocol/index.js';
import type { HardwareReading } from './hardware-sampler.js';

/** A model as the node measured it: FLOPs per token are about twice its parameter count (one multiply-add each). */
export type MeasuredModel = { sha256: string; name: string; parameterCount: number; tokensPerSecond: number };

export type NodeMetricsInit = {
  models: MeasuredModel[];
  sampler: { read(): Promise<HardwareReading> };
  /** Rates are measured over this window (default one minute). */
  windowMs?: number;
  now?: () => number;
};

type Totals = { at: number; tokens: number; flop: number; busyMs: number };

export const flopsPerToken = (parameterCount: number) => 2 * parameterCount;

/**
 * The node's own figures: tasks done and failed, throughput and FLOPS measured from its live work (its
 * benchmark's figure while idle), and what the hardware sampler reads. One writer: the runner reports tasks,
 * the sampler timer refreshes; the link and the status server only read `sample()`.
 */
export class NodeMetrics {
  readonly #init: NodeMetricsInit;
  readonly #now: () => number;
  readonly #flopsPerToken = new Map<string, number>();
  readonly #benchmarkFlops: number;
  #tasksDone = 0;
  #tasksFailed = 0;
  #tokens = 0;
  #flop = 0;
  #busyMs = 0;
  #active = 0;
  #busySince = 0;
  /** Cumulative totals at each refresh within the window, oldest first (a few dozen entries at most). */
  #history: Totals[] = [];
  #hardware: HardwareReading = {
    gpuUtilization: null,
    cpuUtilization: null,
    memoryUsedBytes: null,
    powerWatts: null,
    temperatureC: null,
  };
  #latest: NodeMetricsSample;

  constructor(init: NodeMetricsInit) {
    this.#init = init;
    this.#now = init.now ?? Date.now;
    let best = 0;
    for (const model of init.models) {
      const perToken = flopsPerToken(model.parameterCount);
      this.#flopsPerToken.set(model.sha256, perToken);
      best = Math.max(best, model.tokensPerSecond * perToken);
    }
    this.#benchmarkFlops = best;
    this.#latest = this.#compute();
  }

  get benchmarkFlops(): number {
    return this.#benchmarkFlops;
  }

  taskStarted(): void {
    if (this.#active++ === 0) this.#busySince = this.#now();
  }

  /**
   * A task ended: `tokens` generated (0 for embeddings and scores). `failed` counts the node's own failures
   * (engine errors); `other` (cancelled, handed back, bad input) counts toward neither.
   */
  taskEnded(modelSha256: string, tokens: number, outcome: 'done' | 'failed' | 'other'): void {
    if (this.#active > 0 && --this.#active === 0) this.#busyMs += this.#now() - this.#busySince;
    if (outcome === 'done') this.#tasksDone++;
    else if (outcome === 'failed') this.#tasksFailed++;
    this.#tokens += tokens;
    this.#flop += tokens * (this.#flopsPerToken.get(modelSha256) ?? 0);
  }

  /** Reads the hardware and recomputes the rates; the node calls it on a timer. */
  async refresh(): Promise<NodeMetricsSample> {
    this.#hardware = await this.#init.sampler.read();
    this.#latest = this.#compute();
    return this.#latest;
  }

  /** The latest figures (as sent with heartbeats). */
  sample(): NodeMetricsSample {
    return this.#latest;
  }

  /** FLOPS per watt, where power is known. */
  flopsPerWatt(): number | null {
    const { powerWatts, flops } = this.#latest;
    return powerWatts && powerWatts > 0 ? flops / powerWatts : null;
  }

  #compute(): NodeMetricsSample {
    const now = this.#now();
    const busyMs = this.#busyMs + (this.#active > 0 ? now - this.#busySince : 0);
    const totals: Totals = { at: now, tokens: this.#tokens, flop: this.#flop, busyMs };
    const windowMs = this.#init.windowMs ?? 60_000;
    this.#history.push(totals);
    while (this.#history.length > 2 && (this.#history[1] as Totals).at <= now - windowMs)
      this.#history.shift();
    if (this.#history.length > 64) this.#history.shift();
    const oldest = this.#history[0] as Totals;
    const seconds = (now - oldest.at) / 1000;
    const tokens = totals.tokens - oldest.tokens;
    const busySeconds = (totals.busyMs - oldest.busyMs) / 1000;
    // Speed while working (compute, not how busy the node was); the benchmark's when no work was measured.
    const flops =
      tokens > 0 && busySeconds > 0 ? (totals.flop - oldest.flop) / busySeconds : this.#benchmarkFlops;
    return {
      tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
      flops,
      ...this.#hardware,
      tasksDone: this.#tasksDone,
      tasksFailed: this.#tasksFailed,
    };
  }
}

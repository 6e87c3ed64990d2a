import type { PrivateKeyAccount } from 'viem/accounts';
import { ContextLengthExceededError, type LoadedModel } from '../engine/index.js';
import {
  type BatchedResult,
  createNonceSource,
  InvalidParameterError,
  type NodeMessage,
  OmniError,
  outputHash,
  resultClaimText,
  resultsClaimText,
  type TaskMessage,
  type TaskOutput,
} from '../protocol/index.js';
import { mark } from '../timing/marks.js';
import { TextBatcher } from './batcher.js';

export type RunnerInit = {
  account: PrivateKeyAccount;
  /** Signs a result claim text (see protocol's createResultSigner). */
  signResult: (text: string) => string;
  /** Loaded models by the sha256 the node computed from the file it loaded. */
  models: Map<string, LoadedModel>;
  send: (message: NodeMessage) => boolean;
  log: (line: string) => void;
  chunkIntervalMs?: number;
  /**
   * Results finishing within this many ms go out together under one signature (`results`). Default 0:
   * only results finishing in the same turn of the event loop are grouped, so no result waits.
   */
  resultBatchMs?: number;
  /**
   * Fault injection for tests and the adversarial benchmark ONLY: rewrites an output before it is hashed
   * and signed, as a cheating node would. Never set by the CLI.
   */
  tamper?: ((task: TaskMessage, output: TaskOutput) => Promise<TaskOutput> | TaskOutput) | undefined;
  /** Fault injection as `tamper`, for streamed text: rewrites each piece before it is sent. */
  tamperText?: ((task: TaskMessage, text: string) => string) | undefined;
  /** Told when a task starts and ends, for the node's metrics (src/node/metrics). */
  metrics?: {
    taskStarted(): void;
    taskEnded(modelSha256: string, tokens: number, outcome: 'done' | 'failed' | 'other'): void;
  };
};

type Job = { task: TaskMessage; abort: AbortController; started: boolean; done: Promise<void> | null };

/** Errors the engine raises because of what the task asked for, not because of this node. */
function isBadInput(error: unknown): boolean {
  return (
    error instanceof InvalidParameterError ||
    (error instanceof OmniError && (error.code === 'bad_input' || error.code === 'invalid_parameter'))
  );
}

const keyOf = (taskId: string, attempt: number) => `${taskId}#${attempt}`;

/** Runs tasks from the router on the engine, at most `slots` per model at once, and signs their results. */
export class Runner {
  readonly #init: RunnerInit;
  readonly #jobs = new Map<string, Job>();
  readonly #nonce = createNonceSource();
  #accepting = true;
  /** Finished results waiting (at most resultBatchMs) to be signed and sent together. */
  #finished: BatchedResult[] = [];
  #resultTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(init: RunnerInit) {
    this.#init = init;
  }

  get running(): number {
    let count = 0;
    for (const job of this.#jobs.values()) if (job.started) count++;
    return count;
  }

  run(task: TaskMessage): void {
    const model = this.#init.models.get(task.modelSha256);
    if (!this.#accepting || !model) {
      this.#init.send({
        type: 'task_error',
        taskId: task.taskId,
        attempt: task.attempt,
        code: model ? 'node_stopping' : 'model_not_loaded',
        message: model ? 'the node is shutting down' : `this node does not hold model ${task.modelSha256}`,
        final: false,
      });
      return;
    }
    const key = keyOf(task.taskId, task.attempt);
    // The router may resend a task after a hiccup; running it twice would only waste a slot.
    if (this.#jobs.has(key)) return;
    this.#jobs.set(key, {
      task,
      abort: new AbortController(),
      started: false,
      done: null,
    });
    this.#pump(task.modelSha256);
  }

  cancel(taskId: string, attempt: number): void {
    const key = keyOf(taskId, attempt);
    const job = this.#jobs.get(key);
    if (!job) return;
    job.abort.abort(new Error('cancelled by the router'));
    if (!job.started) this.#jobs.delete(key);
  }

  /** The link dropped: the router has already requeued everything, so stop all work. */
  abortAll(): void {
    for (const [key, job] of this.#jobs) {
      job.abort.abort(new Error('link to the router lost'));
      if (!job.started) this.#jobs.delete(key);
    }
  }

  /** Stops taking tasks, hands back those not started, gives running ones `graceMs` to finish, then aborts and hands them back. */
  async drain(graceMs: number): Promise<void> {
    this.#accepting = false;
    const waiting = [...this.#jobs.values()].filter((j) => !j.started);
    for (const job of waiting) this.#jobs.delete(keyOf(job.task.taskId, job.task.attempt));
    if (waiting.length > 0) {
      this.#init.send({
        type: 'release',
        tasks: waiting.map((j) => ({ taskId: j.task.taskId, attempt: j.task.attempt })),
      });
    }
    const running = [...this.#jobs.values()];
    const finished = Promise.all(running.map((j) => j.done));
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
    ]);
    if (timedOut) {
      const left = [...this.#jobs.values()];
      for (const job of left) job.abort.abort(new Error('node shutting down'));
      this.#init.send({
        type: 'release',
        tasks: left.map((j) => ({ taskId: j.task.taskId, attempt: j.task.attempt })),
      });
      await finished;
    }
    this.flushResults();
  }

  /** Sends finished results: one alone as a signed `result`, several as one `results` under one signature. */
  flushResults(): void {
    if (this.#resultTimer !== undefined) {
      clearTimeout(this.#resultTimer as NodeJS.Timeout);
      clearImmediate(this.#resultTimer as NodeJS.Immediate);
    }
    this.#resultTimer = undefined;
    const batch = this.#finished;
    this.#finished = [];
    const nodeId = this.#init.account.address;
    for (let i = 0; i < batch.length; i += 256) {
      const part = batch.slice(i, i + 256);
      const [first] = part;
      if (part.length === 1 && first) {
        const signature = this.#init.signResult(resultClaimText({ ...first, nodeId }));
        // Marked before the send: a write to the router may hand it the CPU before the send returns.
        mark('n.result');
        this.#init.send({ type: 'result', ...first, signature });
      } else {
        const signature = this.#init.signResult(
          resultsClaimText(
            nodeId,
            part.map((r) => ({ ...r, nodeId })),
          ),
        );
        this.#init.send({ type: 'results', results: part, signature });
      }
    }
  }

  #queueResult(result: BatchedResult): void {
    this.#finished.push(result);
    if (this.#resultTimer !== undefined) return;
    const waitMs = this.#init.resultBatchMs ?? 0;
    // Alone (no other task running) nothing can finish in this turn to share the signature: send it now,
    // right behind the last text, rather than after the event loop's next turn.
    if (waitMs === 0 && this.running <= 1) {
      this.flushResults();
      return;
    }
    this.#resultTimer =
      waitMs > 0 ? setTimeout(() => this.flushResults(), waitMs) : setImmediate(() => this.flushResults());
  }

  #pump(modelSha256: string): void {
    const model = this.#init.models.get(modelSha256);
    if (!model) return;
    let active = 0;
    for (const job of this.#jobs.values()) if (job.started && job.task.modelSha256 === modelSha256) active++;
    for (const job of this.#jobs.values()) {
      if (active >= model.slots) return;
      if (job.started || job.task.modelSha256 !== modelSha256) continue;
      job.started = true;
      active++;
      job.done = this.#execute(job, model).finally(() => {
        this.#jobs.delete(keyOf(job.task.taskId, job.task.attempt));
        this.#pump(modelSha256);
      });
    }
  }

  async #execute(job: Job, model: LoadedModel): Promise<void> {
    const metrics = this.#init.metrics;
    metrics?.taskStarted();
    let ended: { tokens: number; outcome: 'done' | 'failed' | 'other' } = { tokens: 0, outcome: 'other' };
    try {
      ended = await this.#work(job, model);
    } finally {
      metrics?.taskEnded(job.task.modelSha256, ended.tokens, ended.outcome);
    }
  }

  /** Runs one task; says how it ended, for the node's metrics. */
  async #work(
    job: Job,
    model: LoadedModel,
  ): Promise<{ tokens: number; outcome: 'done' | 'failed' | 'other' }> {
    const { task } = job;
    mark('n.work');
    const start = performance.now();
    let seq = 0;
    const batcher = new TextBatcher((text) => {
      // The first piece goes at once, so the first chunk's mark is the engine's first text.
      mark('n.chunk');
      this.#init.send({ type: 'chunk', taskId: task.taskId, attempt: task.attempt, seq: seq++, text });
    }, this.#init.chunkIntervalMs ?? 20);
    try {
      let output: TaskOutput;
      const input = task.input;
      if (input.kind === 'embedding') {
        const result = await model.embed(input.input, job.abort.signal);
        output = { embeddings: result.vectors, promptTokens: result.promptTokens, completionTokens: 0 };
      } else if (input.kind === 'score') {
        const scores = await model.score(input.target, input.output, {
          stop: input.stop,
          signal: job.abort.signal,
          ...(input.greedy === undefined ? {} : { greedy: input.greedy }),
        });
        output = { scores, promptTokens: scores.promptTokens, completionTokens: 0 };
      } else {
        const { seed, ...rest } = input.params;
        const params = { ...rest, ...(seed === undefined ? {} : { seed }), signal: job.abort.signal };
        // A task handed back (cancelled, released) sends no more text: the router no longer holds its lease.
        job.abort.signal.addEventListener('abort', () => batcher.discard(), { once: true });
        const onText = (text: string) => {
          if (job.abort.signal.aborted) return;
          batcher.push(this.#init.tamperText ? this.#init.tamperText(task, text) : text);
        };
        const result =
          input.kind === 'chat'
            ? await model.chat(input.messages, params, onText)
            : await model.complete(input.prompt, params, onText);
        mark('n.generated');
        if (!job.abort.signal.aborted) batcher.flush();
        output = {
          text: result.text,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          finishReason: result.finishReason,
        };
      }
      if (this.#init.tamper) output = await this.#init.tamper(task, output);
      if (job.abort.signal.aborted) return { tokens: 0, outcome: 'other' };
      const outputSha256 = outputHash(output);
      const nonce = this.#nonce();
      this.#queueResult({
        taskId: task.taskId,
        attempt: task.attempt,
        modelSha256: task.modelSha256,
        outputSha256,
        nonce,
        output,
      });
      const ms = performance.now() - start;
      const rate =
        output.completionTokens > 0 ? ` ${((output.completionTokens / ms) * 1000).toFixed(0)} tokens/s` : '';
      this.#init.log(
        `task ${task.taskId} done: ${output.completionTokens} tokens in ${ms.toFixed(0)} ms${rate}`,
      );
      return { tokens: output.completionTokens, outcome: 'done' };
    } catch (error) {
      batcher.discard();
      if (job.abort.signal.aborted) return { tokens: 0, outcome: 'other' };
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ContextLengthExceededError) {
        this.#init.send({
          type: 'task_error',
          taskId: task.taskId,
          attempt: task.attempt,
          code: 'context_length_exceeded',
          message: message.slice(0, 2000),
          final: true,
          promptTokens: error.promptTokens,
          contextLength: error.contextLength,
        });
        return { tokens: 0, outcome: 'other' };
      }
      const badInput = isBadInput(error);
      this.#init.log(`task ${task.taskId} failed: ${message}`);
      this.#init.send({
        type: 'task_error',
        taskId: task.taskId,
        attempt: task.attempt,
        code: badInput ? 'bad_input' : 'engine_error',
        message: message.slice(0, 2000),
        // Another node would reject the same input the same way; anything else may be this node's fault.
        final: badInput,
      });
      return { tokens: 0, outcome: badInput ? 'other' : 'failed' };
    }
  }
}

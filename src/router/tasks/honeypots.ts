import { randomUUID } from 'node:crypto';
import type { TaskInput } from '../../protocol/index.js';
import type { ResultRecord } from '../../store/index.js';
import { judgeLikelihood } from '../../verify/index.js';
import type { Logger } from '../log.js';
import type { CheckRunner, Party } from './check-runner.js';
import { CHECK_KEY_PREFIX } from './idempotency.js';
import type { Lease } from './scheduler.js';
import { scoreInputFor } from './stream-resume.js';
import type { ScoreSession } from './stream-score.js';
import type { TaskHandle } from './task-manager.js';
import type { VerdictBook } from './verdict-book.js';

/**
 * Known-answer tasks for validators (honeypots). After a likelihood check passes, the router may send a
 * validator a `score` task of the same prompt with an output it knows is wrong: this task's own answer,
 * reversed, judged as a greedy check. Reversed text is never the model's greedy choice, so an honest
 * validator's scores always fail it. It has the same shape as any check and a fresh task id. A validator
 * whose scores pass it did not compute them (or lies), and gets a fault verdict of its own.
 *
 * An earlier version swapped in another prompt's answer (reversed) to be harder to spot; that showed one
 * user's words to a validator checking another user's task, so only the task's own answer is used. A
 * validator could learn to spot reversed text; docs/verification.md lists that limit.
 */

/** A known-wrong output for `output`: the text reversed; null when that changes nothing. */
export function corruptOutput(output: string): string | null {
  const reversed = Array.from(output).reverse().join('');
  return reversed !== output && reversed.trim() !== '' ? reversed : null;
}

export const DEFAULT_HONEYPOT_RATE = 0.02;

export type HoneypotsInit = {
  runner: CheckRunner;
  book: VerdictBook;
  log: Logger;
  /** [0, 1): whether a honeypot follows, and in which form. */
  random: () => number;
  /** Share of passed likelihood checks followed by a honeypot; DEFAULT_HONEYPOT_RATE. */
  rate?: number | undefined;
};

/** Sends validators honeypots after passed likelihood checks and records a fault for each one passed. */
export class Honeypots {
  readonly #init: HoneypotsInit;

  constructor(init: HoneypotsInit) {
    this.#init = init;
  }

  /**
   * Now and then (the rate), a known-wrong output of the same prompt for a validator to score, judged
   * as a greedy check: passing it is a fault of the validator's. It runs after the answer went out, under a
   * key no user's hold knows (`check:honeypot_...`): the network pays for it, never a user.
   */
  maybe(handle: TaskHandle, lease: Lease, result: ResultRecord, worker: Party, session?: ScoreSession): void {
    const { input } = handle.record;
    if (input.kind !== 'chat' && input.kind !== 'completion') return;
    const text = result.output.text ?? '';
    const rate = this.#init.rate ?? DEFAULT_HONEYPOT_RATE;
    if (rate <= 0 || (rate < 1 && this.#init.random() >= rate)) return;
    // A validator must not learn to tell honeypots by their form: after a verified stream, half of them
    // resume its session, as a chunk check of a stream that went wrong after the passed text would.
    if (session && session.tokens.length > 0 && this.#init.random() < 0.5) {
      this.#resumed(handle, lease, input, text, worker, session);
      return;
    }
    // Only this task's own answer, reversed: another user's answer would show that user's words to a validator.
    const wrong = corruptOutput(text);
    if (wrong === null) return;
    const id = `honeypot_${randomUUID().replaceAll('-', '')}`;
    const run = async () => {
      const score = await this.#init.runner.run(
        handle,
        lease,
        'validator',
        [worker],
        {
          kind: 'score',
          target: input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt },
          output: wrong,
          stop: input.params.stop,
          greedy: true,
        },
        `${CHECK_KEY_PREFIX}${id}:0:0`,
      );
      this.#judge(score, wrong, input, lease, 'validator failed a honeypot, as it should', {});
    };
    run().catch((error: unknown) =>
      this.#init.log('info', 'honeypot not judged', { task: handle.record.id, error: String(error) }),
    );
  }

  /** A honeypot in the resumed form: the session's passed text, then the rest of the answer reversed. */
  #resumed(
    handle: TaskHandle,
    lease: Lease,
    input: Extract<TaskInput, { kind: 'chat' | 'completion' }>,
    text: string,
    worker: Party,
    session: ScoreSession,
  ): void {
    const wrong = corruptOutput(text.slice(session.text.length));
    if (wrong === null) return;
    const id = `honeypot_${randomUUID().replaceAll('-', '')}`;
    const run = async () => {
      const task = scoreInputFor(input, session.text + wrong, session, true);
      const key = `${CHECK_KEY_PREFIX}${id}:0:0`;
      const score = await this.#init.runner.run(
        handle,
        lease,
        'validator',
        [worker],
        task,
        key,
        undefined,
        session.validatorId,
      );
      // Only the wrong rest is judged: the passed text before it need not be greedy (a sampled answer).
      this.#judge(score, wrong, input, lease, 'validator failed a resumed honeypot, as it should', {
        resumedChars: session.text.length,
      });
    };
    run().catch((error: unknown) =>
      this.#init.log('info', 'honeypot not judged', { task: handle.record.id, error: String(error) }),
    );
  }

  /** Judges a validator's scores of the known-wrong `wrong` as a greedy check: passing it is its fault. */
  #judge(
    score: ResultRecord,
    wrong: string,
    input: Extract<TaskInput, { kind: 'chat' | 'completion' }>,
    lease: Lease,
    failedAsItShould: string,
    details: Record<string, unknown>,
  ): void {
    const scores = score.output.scores;
    if (!scores) throw new Error('the validator returned no scores');
    const n = scores.tokens.length;
    const judgment = judgeLikelihood({
      scores,
      params: { maxTokens: Math.max(n, 1), temperature: 0, topP: 1, stop: input.params.stop },
      claim: { finishReason: 'stop', completionTokens: n, text: wrong },
    });
    const { book } = this.#init;
    if (judgment.evidence.invalidScores !== undefined)
      book.fault(score, lease.task.modelSha256, 'invalid-scores', judgment);
    else if (judgment.outcome === 'pass') book.fault(score, lease.task.modelSha256, 'honeypot', judgment);
    else this.#init.log('debug', failedAsItShould, { validator: score.nodeId, ...details });
  }
}

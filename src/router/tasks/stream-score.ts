import type { TokenScores } from '../../protocol/index.js';
import { type DecodingParams, judgeLikelihood } from '../../verify/index.js';

/**
 * Verified streaming for `likelihood` (docs/verification.md, "Verified streaming"): while the worker
 * streams, a validator scores the text so far (teacher-forced over prompt plus that text, a `score` task
 * like the final check's), and the router releases the part whose tokens passed. The final check of the
 * whole answer is made as before and alone decides the verdict and payments; these chunk checks only gate
 * what the client sees early.
 *
 * Each chunk check scores the whole text so far again (the validator's context is not kept between
 * tasks), so chunks grow with the text: a check starts once the text is FIRST_CHARS long, the next once it
 * has grown by half of what was last checked (at least STEP_CHARS), and only one runs at a time. The
 * output's tokens are then scored about three times over in all, plus the prompt once per chunk (measured:
 * docs/benchmarks.md).
 */
export const FIRST_CHARS = 32;
export const STEP_CHARS = 32;
/** The last tokens of a chunk are not judged (nor released): the text that follows may split them anew. */
export const HELD_TOKENS = 2;

/** Length of the streamed text at which the next chunk check starts, after one of `checked` characters. */
export function nextCheckAt(checked: number): number {
  return checked === 0 ? FIRST_CHARS : checked + Math.max(STEP_CHARS, Math.ceil(checked / 2));
}

export type PrefixJudgment = { outcome: 'pass' | 'fail' | 'undecided'; verified: string; reason: string };

/**
 * Judges the scores of a prefix of the output (`text`, as the worker streamed it so far): its tokens but
 * the last HELD_TOKENS, as the whole-answer check judges tokens (greedy: each the model's choice; sampled:
 * inside top-k/top-p and plausible), without an end (the output goes on). `verified` is the text those
 * tokens spell, a prefix of `text`; a byte-fallback piece (part of a character) ends it.
 */
export function judgePrefix(scores: TokenScores, text: string, params: DecodingParams): PrefixJudgment {
  const kept = scores.tokens.slice(0, Math.max(0, scores.tokens.length - HELD_TOKENS));
  const cut = kept.findIndex((t) => t.text.includes('\uFFFD'));
  const tokens = cut >= 0 ? kept.slice(0, cut) : kept;
  const verified = tokens.map((t) => t.text).join('');
  if (!text.startsWith(verified))
    return { outcome: 'undecided', verified: '', reason: 'the scores do not spell the streamed text' };
  if (tokens.length === 0) return { outcome: 'pass', verified: '', reason: 'nothing to judge yet' };
  const n = tokens.length;
  const judgment = judgeLikelihood({
    scores: { ...scores, tokens },
    // No end is claimed: as if the output had been cut at max_tokens right here.
    params: { ...params, maxTokens: n },
    claim: { finishReason: 'length', completionTokens: n, text: verified },
  });
  return {
    outcome: judgment.outcome,
    verified: judgment.outcome === 'pass' ? verified : '',
    reason: judgment.reason,
  };
}

/**
 * Runs one chunk check: the scores of the output so far from each validator that must pass it (one, or two
 * for a worker without a clean record, as the final check); rejects when it cannot be made.
 */
export type ScoreChunk = (text: string, watch: (taskId: string) => void) => Promise<TokenScores[]>;

/** The chunk checks of one attempt's stream. */
export class ChunkChecks {
  /** Score tasks run, and tokens the validators evaluated for them (the extra cost of streaming). */
  readonly cost = { calls: 0, tokens: 0 };
  #checked = 0;
  #running = false;
  #stopped = false;
  readonly #taskIds: string[] = [];

  constructor(
    /** The attempt these checks are of. */
    readonly attempt: number,
    readonly params: DecodingParams,
    /** The attempt's text streamed so far; null once its result is in (the final check takes over). */
    readonly current: () => string | null,
    readonly score: ScoreChunk,
    /** Text that passed: the router releases what goes beyond what the client has. */
    readonly release: (verified: string) => void,
    readonly onStop: (reason: string) => void = () => {},
  ) {}

  /** The attempt streamed more text: starts a chunk check when enough has come and none is running. */
  streamed(): void {
    if (this.#stopped || this.#running) return;
    const text = this.current();
    if (text === null || text.length < nextCheckAt(this.#checked)) return;
    this.#running = true;
    this.#checked = text.length;
    this.cost.calls++;
    this.score(text, (id) => this.#taskIds.push(id))
      .then((all) => {
        const judged = all.map((scores) => {
          this.cost.tokens += scores.evaluatedTokens;
          return judgePrefix(scores, text, this.params);
        });
        const failed = judged.find((j) => j.outcome !== 'pass');
        if (failed || judged.length === 0) {
          this.stop(`chunk check ${failed?.outcome ?? 'not made'}: ${failed?.reason ?? 'no scores'}`);
          return;
        }
        // Every validator passed its tokens: the shorter of their verified texts goes out.
        const verified = judged.map((j) => j.verified).reduce((a, b) => (a.length <= b.length ? a : b));
        this.release(verified);
      })
      .catch((error: unknown) => this.stop(`chunk check not made: ${String(error)}`))
      .finally(() => {
        this.#running = false;
        this.streamed();
      });
  }

  /** No more chunk checks for this attempt: what was released stays, the rest waits for the final check. */
  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.onStop(reason);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Ids of the score tasks started (to call off one left running when the attempt ends). */
  get taskIds(): string[] {
    return [...this.#taskIds];
  }
}

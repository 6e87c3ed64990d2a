import type { TokenScores } from '../../protocol/index.js';
import { type DecodingParams, judgeLikelihood } from '../../verify/index.js';

/**
 * Verified streaming for `likelihood` (docs/verification.md, "Verified streaming"): while the worker
 * streams, validators score the text so far (teacher-forced over prompt plus that text, a `score` task like
 * the final check's), and the router releases the part whose tokens passed.
 *
 * Each validator keeps a session for the attempt (ScoreSession): the tokens of the stream it scored and
 * that passed. The next chunk check goes to the same validator with those tokens (`resume`), so it scores
 * only the new text, its context still holding prompt and earlier chunks; the first task (with no text)
 * places the validators and evaluates the prompt while the worker starts generating. The final check then
 * scores only what follows the last passed chunk, on the same validators, and judges the whole answer from
 * the sessions' tokens plus that rest (verification.ts).
 *
 * Chunks grow: the first is FIRST_CHARS long (a few tokens, so the first text goes out soon), each next one
 * starts once STEP_CHARS more have come and takes what has, up to as much as everything before it; only
 * one check runs at a time.
 */
export const FIRST_CHARS = 16;
export const STEP_CHARS = 32;
/** The last tokens of a chunk are not judged (nor released): the text that follows may split them anew. */
export const HELD_TOKENS = 2;

/** The most text the next chunk check scores, after one of `checked` characters. */
export function nextCheckAt(checked: number): number {
  return checked === 0 ? FIRST_CHARS : checked + Math.max(STEP_CHARS, checked);
}

/**
 * Where the next chunk check ends, with `available` characters streamed and `checked` checked; null to wait
 * for more. It starts once STEP_CHARS more have come (a slow stream is released every few tokens) and takes
 * what has come up to nextCheckAt (a fast one in growing chunks, a few round trips in all).
 */
export function nextChunkEnd(checked: number, available: number): number | null {
  const least = checked === 0 ? FIRST_CHARS : checked + STEP_CHARS;
  return available < least ? null : Math.min(available, nextCheckAt(checked));
}

/**
 * One validator's scores of one attempt's stream: the tokens that passed (they spell `text`) and what it
 * evaluated for them. Bound to the attempt (ChunkChecks belongs to one) and to one validator: its tokens are
 * the router's own copy of what that validator returned, so nothing another node says enters them.
 */
export type ScoreSession = {
  validatorId: string;
  tokens: TokenScores['tokens'];
  text: string;
  evaluatedTokens: number;
};

export type PrefixJudgment = {
  outcome: 'pass' | 'fail' | 'undecided';
  verified: string;
  /** How many of the scored tokens spell `verified`. */
  kept: number;
  reason: string;
};

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
    return {
      outcome: 'undecided',
      verified: '',
      kept: 0,
      reason: 'the scores do not spell the streamed text',
    };
  if (tokens.length === 0) return { outcome: 'pass', verified: '', kept: 0, reason: 'nothing to judge yet' };
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
    kept: judgment.outcome === 'pass' ? n : 0,
    reason: judgment.reason,
  };
}

/**
 * Runs one chunk check: `text` (a prefix of the stream) scored by each session's validator from where its
 * session ends, or, with no sessions yet, by newly placed validators (one, or two for a worker without a
 * clean record, as the final check) from the start; rejects when it cannot be made.
 */
export type ScoreChunk = (
  text: string,
  sessions: readonly ScoreSession[],
  watch: (taskId: string) => void,
) => Promise<{ validatorId: string; scores: TokenScores }[]>;

/** The chunk checks of one attempt's stream. */
export class ChunkChecks {
  /** Score tasks run, and tokens the validators evaluated for them (the extra cost of streaming). */
  readonly cost = { calls: 0, tokens: 0 };
  #sent = 0;
  #running: Promise<void> | null = null;
  #stopped = false;
  #sessions: ScoreSession[] = [];
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

  /** Places the validators and has them evaluate the prompt, before any text has come. */
  open(): void {
    if (this.#sessions.length === 0 && this.#running === null && !this.#stopped) this.#check('');
  }

  /** The attempt streamed more text: starts a chunk check when enough has come and none is running. */
  streamed(): void {
    if (this.#stopped || this.#running) return;
    const text = this.current();
    if (text === null) return;
    const end = nextChunkEnd(this.#sent, text.length);
    if (end === null) return;
    this.#sent = end;
    this.#check(text.slice(0, end));
  }

  #check(text: string): void {
    this.cost.calls++;
    this.#running = this.score(text, this.#sessions, (id) => this.#taskIds.push(id))
      .then((all) => {
        const before = new Map(this.#sessions.map((s) => [s.validatorId, s]));
        const judged = all.map(({ validatorId, scores }) => {
          this.cost.tokens += scores.evaluatedTokens;
          const session = before.get(validatorId);
          const tokens = [...(session?.tokens ?? []), ...scores.tokens];
          const judgment = judgePrefix({ ...scores, tokens }, text, this.params);
          const evaluatedTokens = (session?.evaluatedTokens ?? 0) + scores.evaluatedTokens;
          const next = {
            validatorId,
            tokens: tokens.slice(0, judgment.kept),
            text: judgment.verified,
            evaluatedTokens,
          };
          return { judgment, next };
        });
        const failed = judged.find((j) => j.judgment.outcome !== 'pass');
        if (failed || judged.length === 0 || (before.size > 0 && judged.length !== before.size)) {
          this.stop(
            `chunk check ${failed?.judgment.outcome ?? 'not made'}: ${failed?.judgment.reason ?? 'no scores'}`,
          );
          return;
        }
        this.#sessions = judged.map((j) => j.next);
        // Every validator passed its tokens: the shorter of their verified texts goes out.
        const verified = judged
          .map((j) => j.judgment.verified)
          .reduce((a, b) => (a.length <= b.length ? a : b));
        if (verified !== '') this.release(verified);
      })
      .catch((error: unknown) => this.stop(`chunk check not made: ${String(error)}`))
      .finally(() => {
        this.#running = null;
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

  /** The sessions once no chunk check is running (the final check resumes them). */
  async settled(): Promise<readonly ScoreSession[]> {
    while (this.#running) await this.#running;
    return this.#sessions;
  }

  /** The validators holding this stream's sessions. */
  get validatorIds(): string[] {
    return this.#sessions.map((s) => s.validatorId);
  }

  /** Ids of the score tasks started (to call off one left running when the attempt ends). */
  get taskIds(): string[] {
    return [...this.#taskIds];
  }
}

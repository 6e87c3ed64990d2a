/**
 * Coalesces streamed text so a fast model is not slowed by one message per token: the first piece goes at
 * once (time to first token), the rest of the first `eagerChars` in one message the moment they have all
 * come (the first words, which a verified stream's first chunk check needs: docs/verification.md); other
 * pieces at most every `intervalMs`, and `flush()` sends the rest.
 */
export class TextBatcher {
  #pending = '';
  #lastSent = 0;
  #timer: NodeJS.Timeout | undefined;
  #sentAny = false;
  #sentChars = 0;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs = 20,
    private readonly now: () => number = () => performance.now(),
    /**
     * A verified stream's first chunk check waits for these (its first 16 characters, FIRST_CHARS in
     * router/tasks/stream-score.ts; docs/verification.md). They go together, not piece by piece: each message
     * passes through the node, the router and the client (32 chars piece by piece cost about 1 ms of router
     * and client CPU a request in the overhead bench), and the check cannot start before the last of them.
     */
    private readonly eagerChars = 16,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.#pending += text;
    const eagerDone =
      this.#sentChars < this.eagerChars && this.#sentChars + this.#pending.length >= this.eagerChars;
    if (!this.#sentAny || eagerDone) return this.flush();
    if (this.#timer) return;
    const wait = this.intervalMs - (this.now() - this.#lastSent);
    if (wait <= 0) this.flush();
    else this.#timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#pending) return;
    const text = this.#pending;
    this.#pending = '';
    this.#sentAny = true;
    this.#sentChars += text.length;
    this.#lastSent = this.now();
    this.send(text);
  }

  /** Drops unsent text (the task was cancelled). */
  discard(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = '';
  }
}

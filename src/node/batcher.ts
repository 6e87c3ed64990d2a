/**
 * Coalesces streamed text so a fast model is not slowed by one message per token: the first piece goes at
 * once (time to first token), and so does each piece until `eagerChars` have gone (the first words, which a
 * verified stream's first chunk check needs: docs/verification.md); later pieces at most every
 * `intervalMs`, and `flush()` sends the rest.
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
     * router/tasks/stream-score.ts; docs/verification.md). Each eager piece is a message through the node, the
     * router and the client: 32 cost about 1 ms of router and client CPU a request in the overhead bench.
     */
    private readonly eagerChars = 16,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.#pending += text;
    if (this.#timer) return;
    const eager = !this.#sentAny || this.#sentChars < this.eagerChars;
    const wait = !eager ? this.intervalMs - (this.now() - this.#lastSent) : 0;
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

/**
 * Coalesces streamed text so a fast model is not slowed by one message per token: the first piece goes at
 * once (time to first token), later pieces at most every `intervalMs`, and `flush()` sends the rest.
 */
export class TextBatcher {
  #pending = '';
  #lastSent = 0;
  #timer: NodeJS.Timeout | undefined;
  #sentAny = false;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(text: string): void {
    if (!text) return;
    this.#pending += text;
    if (this.#timer) return;
    const wait = this.#sentAny ? this.intervalMs - (this.now() - this.#lastSent) : 0;
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

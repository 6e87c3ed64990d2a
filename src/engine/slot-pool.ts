/**
 * A fixed set of resources (context sequences) handed out one request at a time.
 * Callers beyond the pool size wait in FIFO order; an aborted waiter leaves the queue.
 */
export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiters: Array<{ resolve: (item: T) => void; reject: (err: unknown) => void }> = [];
  private closed = false;

  constructor(items: T[]) {
    this.free = [...items];
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** A free item (the one `prefer` rates highest, else the last released), or the next one released. */
  acquire(signal?: AbortSignal, prefer?: (item: T) => number): Promise<T> {
    if (this.closed) return Promise.reject(new Error('model is disposed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (prefer && this.free.length > 1) {
      let best = this.free.length - 1;
      this.free.forEach((item, i) => {
        if (prefer(item) > prefer(this.free[best] as T)) best = i;
      });
      this.free.push(...this.free.splice(best, 1));
    }
    const item = this.free.pop();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (got: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(got);
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(item: T): void {
    const next = this.waiters.shift();
    if (next) next.resolve(item);
    else this.free.push(item);
  }

  /** Rejects everyone still waiting; later acquires fail. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('model is disposed'));
  }

  async use<R>(
    signal: AbortSignal | undefined,
    fn: (item: T) => Promise<R>,
    prefer?: (item: T) => number,
  ): Promise<R> {
    const item = await this.acquire(signal, prefer);
    try {
      return await fn(item);
    } finally {
      this.release(item);
    }
  }
}

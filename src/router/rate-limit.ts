import type { FastifyRequest } from 'fastify';
import { RateLimitedError } from '../protocol/index.js';

type Bucket = { tokens: number; at: number };

/**
 * Token buckets, one per key (an account, an API key, a client address): each holds up to `burst` tokens and
 * refills at `ratePerSecond`; a request takes one. Rate 0 turns the limiter off.
 */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(init: { ratePerSecond: number; burst?: number; maxKeys?: number; now?: () => number }) {
    if (!(init.ratePerSecond >= 0) || !Number.isFinite(init.ratePerSecond))
      throw new RangeError(`a rate limit is a number of requests per second >= 0, got ${init.ratePerSecond}`);
    this.ratePerSecond = init.ratePerSecond;
    // Two seconds' worth by default, so a client that starts with a short burst is not refused.
    this.burst = Math.max(1, init.burst ?? init.ratePerSecond * 2);
    this.#maxKeys = init.maxKeys ?? 100_000;
    this.#now = init.now ?? Date.now;
  }

  /** Takes one token for `key`: 0 when the request may go on, else the seconds until a token is back. */
  take(key: string): number {
    if (this.ratePerSecond === 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    } else {
      if (this.#buckets.size >= this.#maxKeys) this.#prune(now);
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Forgets buckets that have refilled (forgetting them changes nothing); then the oldest, to stay bounded. */
  #prune(now: number): void {
    for (const [key, b] of this.#buckets)
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.#buckets.delete(key);
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}

/** Parses a rate flag: `100`, `100/s`, `6000/m` or `6000/min`, into requests per second (0: off). */
export function parseRate(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min))?\s*$/.exec(text);
  if (!match) throw new Error(`${flag} takes a rate like 100/s or 6000/m (0: off), got '${text}'.`);
  const count = Number(match[1]);
  return match[2] === 'm' || match[2] === 'min' ? count / 60 : count;
}

/** An onRequest hook refusing a request past its client address's rate with 429 and Retry-After. */
export function limitByClient(limiter: RateLimiter) {
  return async (request: FastifyRequest): Promise<void> => {
    const wait = limiter.take(`ip:${request.ip}`);
    if (wait > 0) throw new RateLimitedError('client address', limiter.ratePerSecond, wait);
  };
}

/** An onRequest hook (after authentication) refusing a request past its account's rate (all its keys together), or its key's. */
export function limitByKey(limiter: RateLimiter) {
  return async (request: FastifyRequest): Promise<void> => {
    const wait = limiter.take(request.account ? `account:${request.account}` : `key:${request.keyId}`);
    if (wait > 0) throw new RateLimitedError('API key', limiter.ratePerSecond, wait);
  };
}

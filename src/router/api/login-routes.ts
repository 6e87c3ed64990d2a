import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { LoginChallengeView, LoginView, LogoutView } from '../../protocol/index.js';
import {
  AuthenticationError,
  InvalidParameterError,
  parseBody,
  RateLimitedError,
  verifySigner,
} from '../../protocol/index.js';
import { accountOf, type KeyStore, LOGIN_TOKEN_PREFIX, type LoginTokenStore } from '../../store/index.js';
import { bearerOf } from './auth.js';

/** First line of every login challenge; the CLI refuses to sign a text that does not start with it. */
export const LOGIN_CHALLENGE_HEADER = 'OmniTensor login';

export type LoginComponents = { keys: KeyStore; loginTokens: LoginTokenStore };

export type LoginInit = {
  /** How long a login token works; default 7 days. */
  tokenTtlMs?: number | undefined;
  /** How long a challenge may wait for its signature; default 5 minutes. */
  challengeTtlMs?: number | undefined;
  /** Challenges kept waiting at most; past it new ones are refused (429), never live ones dropped. Default 10,000. */
  maxPendingChallenges?: number | undefined;
  /** Challenges one client address may have waiting; default 20. */
  challengesPerClient?: number | undefined;
  /** Challenges one account may have waiting; default 5. */
  challengesPerAccount?: number | undefined;
  now?: (() => number) | undefined;
};

/** A login was refused: the challenge is unknown, used or expired, or the signature is not the account's. */
export class LoginRejectedError extends AuthenticationError {
  override readonly code: string;
  constructor(
    readonly reason: 'unknown_challenge' | 'challenge_expired' | 'address_mismatch' | 'bad_signature',
    message: string,
  ) {
    super(message);
    this.code = `login_${reason}`;
  }
}

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be an Ethereum address (0x followed by 40 hexadecimal digits)');
const challengeRequest = z.object({ address });
const loginRequest = z.object({
  address,
  challenge: z.string().min(1).max(4096),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte signature in hex (0x + 130 digits)'),
});

const DAY_MS = 86_400_000;
const seconds = (ms: number) => Math.floor(ms / 1000);

type Pending = { account: string; client: string; expiresAt: number };

/** Too many challenges wait already (for this client, this account, or in all): HTTP 429 with Retry-After. */
export class TooManyChallengesError extends RateLimitedError {
  constructor(per: string, retryAfterSeconds: number) {
    super(
      per,
      0,
      retryAfterSeconds,
      'too_many_challenges',
      `Too many login challenges are waiting for ${per}: sign one you have, or retry after ${retryAfterSeconds} s.`,
    );
  }
}

/**
 * Challenges waiting for their signature, in memory and bounded in all, per client address and per account.
 * A live challenge is never dropped to make room: a flood is refused instead, so it cannot log a user out of
 * the login they are in the middle of. Each works once; expired ones stay a while longer only so that a late
 * login hears "expired" rather than "unknown".
 */
export class LoginChallenges {
  readonly #pending = new Map<string, Pending>();
  readonly #byClient = new Map<string, Set<string>>();
  readonly #byAccount = new Map<string, Set<string>>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #perClient: number;
  readonly #perAccount: number;

  constructor(ttlMs: number, max: number, limits: { perClient?: number; perAccount?: number } = {}) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#perClient = limits.perClient ?? 20;
    this.#perAccount = limits.perAccount ?? 5;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** A new challenge text for `account` on the router named `router`, asked for by `client` (its address). */
  issue(router: string, account: string, now: number, client = ''): { text: string; expiresAt: number } {
    // Insertion order is expiry order (one TTL for all), so the stale ones are at the front.
    for (const [text, pending] of this.#pending) {
      const full = this.#pending.size >= this.#max;
      if (pending.expiresAt + this.#ttlMs > now && !(full && pending.expiresAt <= now)) break;
      this.#delete(text);
    }
    const oldest = this.#pending.values().next().value;
    if (this.#pending.size >= this.#max)
      throw new TooManyChallengesError('this router', this.#wait(oldest, now));
    this.#check(this.#byClient.get(client), this.#perClient, 'this client address', now);
    this.#check(this.#byAccount.get(account), this.#perAccount, account, now);
    const expiresAt = now + this.#ttlMs;
    const text = [
      LOGIN_CHALLENGE_HEADER,
      `Router: ${router}`,
      `Account: ${account}`,
      `Nonce: ${randomBytes(16).toString('hex')}`,
      `Issued: ${new Date(now).toISOString()}`,
      `Expires: ${new Date(expiresAt).toISOString()}`,
      '',
      'Signing this proves that you hold the key of this account and logs you in to this router. It moves no tokens.',
    ].join('\n');
    this.#pending.set(text, { account, client, expiresAt });
    this.#index(this.#byClient, client).add(text);
    this.#index(this.#byAccount, account).add(text);
    return { text, expiresAt };
  }

  /** Removes the challenge and returns what it was issued for; undefined when unknown or already used. */
  take(text: string): Pending | undefined {
    const pending = this.#pending.get(text);
    this.#delete(text);
    return pending;
  }

  /** Refuses when `texts` holds `max` live challenges already. */
  #check(texts: Set<string> | undefined, max: number, per: string, now: number): void {
    if (!texts || texts.size < max) return;
    const live = [...texts].map((t) => this.#pending.get(t)).filter((p) => p && p.expiresAt > now);
    if (live.length >= max) throw new TooManyChallengesError(per, this.#wait(live[0], now));
  }

  #wait(pending: Pending | undefined, now: number): number {
    return Math.max(1, Math.ceil(((pending?.expiresAt ?? now) - now) / 1000));
  }

  #index(map: Map<string, Set<string>>, key: string): Set<string> {
    const texts = map.get(key) ?? new Set<string>();
    map.set(key, texts);
    return texts;
  }

  #delete(text: string): void {
    const pending = this.#pending.get(text);
    if (!pending) return;
    this.#pending.delete(text);
    for (const [map, key] of [
      [this.#byClient, pending.client],
      [this.#byAccount, pending.account],
    ] as const) {
      const texts = map.get(key);
      texts?.delete(text);
      if (texts?.size === 0) map.delete(key);
    }
  }
}

/**
 * Wallet login, public (it is how a user gets a credential): `POST /api/auth/challenge` hands out a text to
 * sign, `POST /api/auth/login` trades its EIP-191 signature for a login token that works as a Bearer API key,
 * `POST /api/auth/logout` ends the token it is sent with.
 */
export function loginRoutes(app: FastifyInstance, components: LoginComponents, init: LoginInit = {}): void {
  const tokenTtlMs = init.tokenTtlMs ?? 7 * DAY_MS;
  const challengeTtlMs = init.challengeTtlMs ?? 5 * 60_000;
  if (!(tokenTtlMs > 0) || !(challengeTtlMs > 0))
    throw new RangeError('login token and challenge lifetimes must be positive');
  const now = init.now ?? Date.now;
  const challenges = new LoginChallenges(challengeTtlMs, init.maxPendingChallenges ?? 10_000, {
    ...(init.challengesPerClient === undefined ? {} : { perClient: init.challengesPerClient }),
    ...(init.challengesPerAccount === undefined ? {} : { perAccount: init.challengesPerAccount }),
  });
  const minutes = Math.round(challengeTtlMs / 60_000);

  app.post('/api/auth/challenge', async (request): Promise<LoginChallengeView> => {
    const body = parseBody(challengeRequest, request.body);
    const { text, expiresAt } = challenges.issue(
      `${request.protocol}://${request.host}`,
      accountOf(body.address),
      now(),
      request.ip,
    );
    return { challenge: text, expires_at: seconds(expiresAt) };
  });

  app.post('/api/auth/login', async (request): Promise<LoginView> => {
    const body = parseBody(loginRequest, request.body);
    const account = accountOf(body.address);
    const pending = challenges.take(body.challenge);
    const again = `request a new one with POST /api/auth/challenge and sign it within ${minutes} minutes (\`otensor-cli login\` does both).`;
    if (!pending)
      throw new LoginRejectedError(
        'unknown_challenge',
        `This challenge is unknown or was already used (each works once): ${again}`,
      );
    if (pending.expiresAt <= now())
      throw new LoginRejectedError(
        'challenge_expired',
        `This challenge expired at ${new Date(pending.expiresAt).toISOString()}: ${again}`,
      );
    if (pending.account !== account)
      throw new LoginRejectedError(
        'address_mismatch',
        `This challenge was issued to ${pending.account}, not ${account}: request a challenge for the address you sign with.`,
      );
    if (!(await verifySigner(body.challenge, body.signature, account)))
      throw new LoginRejectedError(
        'bad_signature',
        `The signature was not made by the key of ${account}: sign the challenge text exactly as received (EIP-191 personal_sign) with that account's private key, after requesting a new challenge.`,
      );
    const keyId = components.keys.loginKeyFor(account);
    const at = now();
    components.loginTokens.prune(at);
    const token = components.loginTokens.issue(account, keyId, tokenTtlMs, at);
    return { token: token.token, account, expires_at: seconds(token.expiresAt) };
  });

  app.post('/api/auth/logout', async (request): Promise<LogoutView> => {
    const token = bearerOf(request.headers.authorization);
    if (!token?.startsWith(LOGIN_TOKEN_PREFIX))
      throw new InvalidParameterError(
        'authorization',
        `Send the login token to end as "Authorization: Bearer ${LOGIN_TOKEN_PREFIX}...".`,
      );
    return { revoked: components.loginTokens.revoke(token) };
  });
}

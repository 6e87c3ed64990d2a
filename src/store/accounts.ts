import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';
import { accountOf, hashSecret, type KeyIdentity } from './keys.js';

/** A login token as issued: `token` exists only in this value, the store keeps its sha256. */
export type LoginToken = { token: string; account: string; keyId: string; expiresAt: number };

/** Prefix that tells login tokens apart from API keys (`ot-`) in an Authorization header. */
export const LOGIN_TOKEN_PREFIX = 'ots-';

/**
 * Login tokens: what a wallet signature buys. Each acts as one API key of its account (so everything that
 * hangs off a key id keeps working) until it expires or is logged out.
 */
export class LoginTokenStore {
  readonly #insert;
  readonly #byHash;
  readonly #delete;
  readonly #prune;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO login_tokens (hash, account, key_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#byHash = db.prepare<
      [string, number],
      { id: string; account: string; role: string; validation: string | null }
    >(
      `SELECT k.id, t.account, k.role, k.validation FROM login_tokens t JOIN api_keys k ON k.id = t.key_id
       WHERE t.hash = ? AND t.expires_at > ? AND k.revoked_at IS NULL`,
    );
    this.#delete = db.prepare('DELETE FROM login_tokens WHERE hash = ?');
    this.#prune = db.prepare('DELETE FROM login_tokens WHERE expires_at <= ?');
  }

  /** Issues a token for `account` acting as key `keyId`, valid for `ttlMs` from `now`. */
  issue(address: string, keyId: string, ttlMs: number, now = Date.now()): LoginToken {
    const account = accountOf(address);
    const token = `${LOGIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + ttlMs;
    this.#insert.run(hashSecret(token), account, keyId, now, expiresAt);
    return { token, account, keyId, expiresAt };
  }

  /** The identity the token acts as while it is valid (not expired, its key not revoked), else undefined. */
  authenticate(token: string, now = Date.now()): KeyIdentity | undefined {
    const row = this.#byHash.get(hashSecret(token), now);
    if (!row) return undefined;
    return {
      id: row.id,
      account: row.account,
      role: row.role === 'operator' ? 'operator' : 'user',
      validation: row.validation,
    };
  }

  /** Ends a token (logout); true when it existed. */
  revoke(token: string): boolean {
    return this.#delete.run(hashSecret(token)).changes > 0;
  }

  /** Deletes expired tokens; returns how many. */
  prune(now = Date.now()): number {
    return this.#prune.run(now).changes;
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { InvalidParameterError } from '../protocol/index.js';
import type { Db } from './database.js';

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** What a key may do: users send work and see their own things; operators also run the network. */
export type KeyRole = 'user' | 'operator';

/** Who a valid API key (or a login token acting as one) is. `account` is null for keys made before accounts. */
export type KeyIdentity = {
  id: string;
  account: string | null;
  role: KeyRole;
  /** The default validation level of the key's requests; null: the router's (auto). */
  validation: string | null;
};

export type KeyCreateOptions = {
  account?: string | undefined;
  role?: KeyRole | undefined;
  validation?: string | undefined;
};

/** The label of the key row that login tokens act as; one per account. */
export const LOGIN_KEY_LABEL = 'login';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** An account id: the address lowercased; throws when it is not an Ethereum address. */
export function accountOf(address: string): string {
  if (!ADDRESS.test(address))
    throw new InvalidParameterError(
      'account',
      `'${address}' is not an Ethereum address (0x followed by 40 hexadecimal digits).`,
    );
  return address.toLowerCase();
}

type KeyRow = { id: string; account: string | null; role: string; validation: string | null };
const identityOf = (row: KeyRow): KeyIdentity => ({
  id: row.id,
  account: row.account,
  role: row.role === 'operator' ? 'operator' : 'user',
  validation: row.validation,
});

/** API keys. Only a key's sha256 is stored: a stolen database does not leak usable keys. */
export class KeyStore {
  readonly #insert;
  readonly #byHash;
  readonly #loginKey;
  readonly #byId;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO api_keys (id, hash, label, created_at, account, role, validation) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#byHash = db.prepare<[string], KeyRow>(
      'SELECT id, account, role, validation FROM api_keys WHERE hash = ? AND revoked_at IS NULL',
    );
    this.#byId = db.prepare<[string], KeyRow>(
      'SELECT id, account, role, validation FROM api_keys WHERE id = ?',
    );
    this.#loginKey = db.prepare<[string, string], { id: string }>(
      `SELECT id FROM api_keys WHERE account = ? AND label = ? AND role = 'user' AND revoked_at IS NULL
       ORDER BY created_at LIMIT 1`,
    );
  }

  /** Creates a key and returns it; this is the only time the key itself exists in the router. */
  create(label?: string, options: KeyCreateOptions = {}): { id: string; key: string } {
    const id = `key_${randomBytes(8).toString('hex')}`;
    const key = `ot-${randomBytes(24).toString('base64url')}`;
    const account = options.account === undefined ? null : accountOf(options.account);
    this.#insert.run(
      id,
      hashSecret(key),
      label ?? null,
      Date.now(),
      account,
      options.role ?? 'user',
      options.validation ?? null,
    );
    return { id, key };
  }

  /** The key's identity when the key is valid, else undefined. */
  authenticate(key: string): KeyIdentity | undefined {
    const row = this.#byHash.get(hashSecret(key));
    return row && identityOf(row);
  }

  /** A key's identity by its id (revoked or not): whose account pays for the tasks it sent. */
  identity(id: string): KeyIdentity | undefined {
    const row = this.#byId.get(id);
    return row && identityOf(row);
  }

  /**
   * The id of the account's login key (label 'login', role 'user'), created on first use. Its secret is thrown
   * away at once: it is used only through login tokens, and tasks, sessions and batches hang off its id.
   */
  loginKeyFor(address: string): string {
    const account = accountOf(address);
    const existing = this.#loginKey.get(account, LOGIN_KEY_LABEL);
    if (existing) return existing.id;
    const id = `key_${randomBytes(8).toString('hex')}`;
    this.#insert.run(
      id,
      hashSecret(randomBytes(32).toString('hex')),
      LOGIN_KEY_LABEL,
      Date.now(),
      account,
      'user',
      null,
    );
    return id;
  }
}

import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './database.js';

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys. Only a key's sha256 is stored: a stolen database does not leak usable keys. */
export class KeyStore {
  readonly #insert;
  readonly #byHash;

  constructor(db: Db) {
    this.#insert = db.prepare('INSERT INTO api_keys (id, hash, label, created_at) VALUES (?, ?, ?, ?)');
    this.#byHash = db.prepare<[string], { id: string }>(
      'SELECT id FROM api_keys WHERE hash = ? AND revoked_at IS NULL',
    );
  }

  /** Creates a key and returns it; this is the only time the key itself exists in the router. */
  create(label?: string): { id: string; key: string } {
    const id = `key_${randomBytes(8).toString('hex')}`;
    const key = `ot-${randomBytes(24).toString('base64url')}`;
    this.#insert.run(id, hashKey(key), label ?? null, Date.now());
    return { id, key };
  }

  /** The key's id when the key is valid, else undefined. */
  authenticate(key: string): string | undefined {
    return this.#byHash.get(hashKey(key))?.id;
  }
}

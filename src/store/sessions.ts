import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';

export type SessionParams = {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** The validation level for the session's requests (see src/verify). */
  validation?: string;
};

export type SessionRecord = {
  id: string;
  keyId: string;
  modelSha256: string;
  modelName: string;
  params: SessionParams;
  implicit: boolean;
  createdAt: number;
};

type Row = {
  id: string;
  key_id: string;
  model_sha256: string;
  model_name: string;
  params: string;
  implicit: number;
  created_at: number;
};

const toRecord = (r: Row): SessionRecord => ({
  id: r.id,
  keyId: r.key_id,
  modelSha256: r.model_sha256,
  modelName: r.model_name,
  params: JSON.parse(r.params) as SessionParams,
  implicit: r.implicit === 1,
  createdAt: r.created_at,
});

/** Sessions (seed 004): a model and default parameters a key has asked for; /v1 calls use an implicit one. */
export class SessionStore {
  readonly #insert;
  readonly #get;
  readonly #implicit;
  /** Implicit sessions never change once made, so they are kept in memory after the first lookup. */
  readonly #implicitCache = new Map<string, SessionRecord>();

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO sessions (id, key_id, model_sha256, model_name, params, implicit, created_at) VALUES (@id, @keyId, @modelSha256, @modelName, @params, @implicit, @createdAt)',
    );
    this.#get = db.prepare<[string], Row>('SELECT * FROM sessions WHERE id = ?');
    this.#implicit = db.prepare<[string, string], Row>(
      'SELECT * FROM sessions WHERE key_id = ? AND model_sha256 = ? AND implicit = 1 LIMIT 1',
    );
  }

  create(session: Omit<SessionRecord, 'id' | 'createdAt'>): SessionRecord {
    const record = { ...session, id: `sess_${randomBytes(10).toString('hex')}`, createdAt: Date.now() };
    this.#insert.run({ ...record, params: JSON.stringify(record.params), implicit: record.implicit ? 1 : 0 });
    return record;
  }

  get(id: string): SessionRecord | undefined {
    const row = this.#get.get(id);
    return row && toRecord(row);
  }

  /** The key's implicit session for a model, created on first use. */
  implicitFor(keyId: string, modelSha256: string, modelName: string): SessionRecord {
    const cacheKey = `${keyId}/${modelSha256}`;
    const cached = this.#implicitCache.get(cacheKey);
    if (cached) return cached;
    const row = this.#implicit.get(keyId, modelSha256);
    const session = row
      ? toRecord(row)
      : this.create({ keyId, modelSha256, modelName, params: {}, implicit: true });
    this.#implicitCache.set(cacheKey, session);
    return session;
  }
}

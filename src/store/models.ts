import type { Db } from './database.js';

export type ModelRecord = {
  sha256: string;
  name: string;
  architecture: string;
  quantization: string;
  parameterCount: number;
  contextLength: number;
  sizeBytes: number;
  path: string | null;
  addedAt: number;
};

/** A model as the store holds it: `registered` is false for a file only nodes announced (named by its sha256). */
export type StoredModel = ModelRecord & { registered: boolean };

type Row = {
  sha256: string;
  name: string;
  architecture: string;
  quantization: string;
  parameter_count: number;
  context_length: number;
  size_bytes: number;
  path: string | null;
  added_at: number;
  announced: number;
  seen_at: number | null;
};

const toRecord = (r: Row): StoredModel => ({
  sha256: r.sha256,
  name: r.name,
  architecture: r.architecture,
  quantization: r.quantization,
  parameterCount: r.parameter_count,
  contextLength: r.context_length,
  sizeBytes: r.size_bytes,
  path: r.path,
  addedAt: r.added_at,
  registered: r.announced === 0,
});

/**
 * The model registry, keyed by the GGUF file's sha256. Names are the operator's: a name points at the most
 * recently registered file of that name, and a file nodes only announced is known by its sha256 alone.
 */
export class ModelStore {
  readonly #upsert;
  readonly #announce;
  readonly #announcedRows;
  readonly #touch;
  readonly #drop;
  readonly #bySha;
  readonly #byName;
  readonly #all;

  constructor(db: Db) {
    this.#upsert = db.prepare(`
      INSERT INTO models (sha256, name, architecture, quantization, parameter_count, context_length, size_bytes, path, added_at)
      VALUES (@sha256, @name, @architecture, @quantization, @parameterCount, @contextLength, @sizeBytes, @path, @addedAt)
      ON CONFLICT(sha256) DO UPDATE SET name = excluded.name, path = COALESCE(excluded.path, models.path),
        added_at = excluded.added_at, announced = 0, seen_at = NULL`);
    // The name is the sha256, whatever the node called it: a node's word never binds a name.
    this.#announce = db.prepare(`
      INSERT INTO models (sha256, name, architecture, quantization, parameter_count, context_length, size_bytes, path, added_at, announced, seen_at)
      VALUES (@sha256, @sha256, @architecture, @quantization, @parameterCount, @contextLength, @sizeBytes, NULL, @addedAt, 1, @addedAt)
      ON CONFLICT(sha256) DO UPDATE SET seen_at = excluded.seen_at WHERE models.announced = 1`);
    this.#announcedRows = db.prepare<[], { sha256: string; seen_at: number | null }>(
      'SELECT sha256, seen_at FROM models WHERE announced = 1',
    );
    this.#touch = db.prepare<[number, string]>(
      'UPDATE models SET seen_at = ? WHERE sha256 = ? AND announced = 1',
    );
    this.#drop = db.prepare<[string]>('DELETE FROM models WHERE sha256 = ? AND announced = 1');
    this.#bySha = db.prepare<[string], Row>('SELECT * FROM models WHERE sha256 = ?');
    this.#byName = db.prepare<[string], Row>(
      'SELECT * FROM models WHERE name = ? AND announced = 0 ORDER BY added_at DESC LIMIT 1',
    );
    this.#all = db.prepare<[], Row>('SELECT * FROM models ORDER BY name, added_at DESC');
  }

  /** Registers a model for the operator: binds its name (and takes over a file nodes announced before). */
  add(model: ModelRecord): void {
    this.#upsert.run(model);
  }

  /**
   * Notes a file a node announced, known by its sha256 only (the node's name for it is not kept). A file the
   * operator registered is left as it is. Returns the stored model.
   */
  announce(model: Omit<ModelRecord, 'name' | 'path'>): StoredModel {
    this.#announce.run(model);
    return this.get(model.sha256) as StoredModel;
  }

  /**
   * Drops announced files that no node has served for `ttlMs`; those in `served` count as seen `now`.
   * Returns the sha256s dropped. Registered models are never dropped.
   */
  expireAnnounced(served: ReadonlySet<string>, now: number, ttlMs: number): string[] {
    const dropped: string[] = [];
    for (const row of this.#announcedRows.all()) {
      if (served.has(row.sha256)) this.#touch.run(now, row.sha256);
      else if ((row.seen_at ?? 0) <= now - ttlMs) {
        this.#drop.run(row.sha256);
        dropped.push(row.sha256);
      }
    }
    return dropped;
  }

  get(sha256: string): StoredModel | undefined {
    const row = this.#bySha.get(sha256);
    return row && toRecord(row);
  }

  /** Finds a model by registered name, or by its sha256. */
  resolve(nameOrSha: string): StoredModel | undefined {
    const row = this.#byName.get(nameOrSha) ?? this.#bySha.get(nameOrSha.toLowerCase());
    return row && toRecord(row);
  }

  list(): StoredModel[] {
    return this.#all.all().map(toRecord);
  }
}

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
};

const toRecord = (r: Row): ModelRecord => ({
  sha256: r.sha256,
  name: r.name,
  architecture: r.architecture,
  quantization: r.quantization,
  parameterCount: r.parameter_count,
  contextLength: r.context_length,
  sizeBytes: r.size_bytes,
  path: r.path,
  addedAt: r.added_at,
});

/** The model registry, keyed by the GGUF file's sha256. A name points at the most recently added file. */
export class ModelStore {
  readonly #upsert;
  readonly #bySha;
  readonly #byName;
  readonly #all;

  constructor(db: Db) {
    this.#upsert = db.prepare(`
      INSERT INTO models (sha256, name, architecture, quantization, parameter_count, context_length, size_bytes, path, added_at)
      VALUES (@sha256, @name, @architecture, @quantization, @parameterCount, @contextLength, @sizeBytes, @path, @addedAt)
      ON CONFLICT(sha256) DO UPDATE SET name = excluded.name, path = COALESCE(excluded.path, models.path), added_at = excluded.added_at`);
    this.#bySha = db.prepare<[string], Row>('SELECT * FROM models WHERE sha256 = ?');
    this.#byName = db.prepare<[string], Row>(
      'SELECT * FROM models WHERE name = ? ORDER BY added_at DESC LIMIT 1',
    );
    this.#all = db.prepare<[], Row>('SELECT * FROM models ORDER BY name, added_at DESC');
  }

  add(model: ModelRecord): void {
    this.#upsert.run(model);
  }

  /** Registers a model a node announced, unless the operator registered that file already (their name wins). */
  addIfAbsent(model: ModelRecord): void {
    if (!this.#bySha.get(model.sha256)) this.add(model);
  }

  get(sha256: string): ModelRecord | undefined {
    const row = this.#bySha.get(sha256);
    return row && toRecord(row);
  }

  /** Finds a model by registered name, or by its sha256. */
  resolve(nameOrSha: string): ModelRecord | undefined {
    const row = this.#byName.get(nameOrSha) ?? this.#bySha.get(nameOrSha.toLowerCase());
    return row && toRecord(row);
  }

  list(): ModelRecord[] {
    return this.#all.all().map(toRecord);
  }
}

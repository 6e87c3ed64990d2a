import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';

/** `batch` is uploaded by users; `batch_output` is written by the router (output and error files). */
export type FilePurpose = 'batch' | 'batch_output';

export type FileRecord = {
  id: string;
  keyId: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  createdAt: number;
};

type Row = {
  id: string;
  key_id: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  created_at: number;
};

const columns = 'id, key_id, purpose, filename, bytes, created_at';

const toRecord = (r: Row): FileRecord => ({
  id: r.id,
  keyId: r.key_id,
  purpose: r.purpose,
  filename: r.filename,
  bytes: r.bytes,
  createdAt: r.created_at,
});

export const newFileId = () => `file-${randomBytes(12).toString('hex')}`;

/** Files for the Batch API: uploaded request files and the output files the router writes. */
export class FileStore {
  readonly #insert;
  readonly #get;
  readonly #content;
  readonly #list;
  readonly #delete;

  constructor(db: Db) {
    this.#delete = db.prepare<[string]>('DELETE FROM files WHERE id = ?');
    this.#insert = db.prepare(
      'INSERT INTO files (id, key_id, purpose, filename, bytes, content, created_at) VALUES (@id, @keyId, @purpose, @filename, @bytes, @content, @createdAt)',
    );
    this.#get = db.prepare<[string], Row>(`SELECT ${columns} FROM files WHERE id = ?`);
    this.#content = db.prepare<[string], { content: Buffer }>('SELECT content FROM files WHERE id = ?');
    this.#list = db.prepare<[string, number], Row>(
      `SELECT ${columns} FROM files WHERE key_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
  }

  /** Stores a file; call inside a transaction to write it together with other rows. */
  add(file: Omit<FileRecord, 'id' | 'bytes' | 'createdAt'> & { id?: string }, content: Buffer): FileRecord {
    const record: FileRecord = {
      id: file.id ?? newFileId(),
      keyId: file.keyId,
      purpose: file.purpose,
      filename: file.filename,
      bytes: content.length,
      createdAt: Date.now(),
    };
    this.#insert.run({ ...record, content });
    return record;
  }

  get(id: string): FileRecord | undefined {
    const row = this.#get.get(id);
    return row && toRecord(row);
  }

  content(id: string): Buffer | undefined {
    return this.#content.get(id)?.content;
  }

  /** Deletes a file; false when there was none. Batches keep their lines, so deleting an input is safe. */
  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0;
  }

  list(keyId: string, limit: number): FileRecord[] {
    return this.#list.all(keyId, limit).map(toRecord);
  }
}

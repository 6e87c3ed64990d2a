import type { Hardware } from '../protocol/index.js';
import type { Db } from './database.js';

/** Nodes the router has seen, with the last nonce each used (replay protection survives restarts). */
export class NodeStore {
  readonly #upsert;
  readonly #nonce;
  readonly #setNonce;
  readonly #count;
  readonly #result;
  readonly #hello;
  readonly #get;

  constructor(db: Db) {
    this.#get = db.prepare<
      [string],
      { id: string; wallet: string | null; first_seen: number; last_seen: number; tasks_done: number }
    >('SELECT id, wallet, first_seen, last_seen, tasks_done FROM nodes WHERE lower(id) = ?');
    this.#upsert = db.prepare(`
      INSERT INTO nodes (id, wallet, hardware, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET wallet = excluded.wallet, hardware = excluded.hardware, last_seen = excluded.last_seen`);
    this.#nonce = db.prepare<[string], { last_nonce: string }>('SELECT last_nonce FROM nodes WHERE id = ?');
    this.#setNonce = db.prepare('UPDATE nodes SET last_nonce = ? WHERE id = ?');
    this.#hello = db.prepare(
      'INSERT OR IGNORE INTO node_hellos (node_id, result_key, hello, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#result = db.prepare(
      'UPDATE nodes SET last_nonce = ?, tasks_done = tasks_done + 1, last_seen = ? WHERE id = ?',
    );
    this.#count = db.prepare(
      'UPDATE nodes SET tasks_done = tasks_done + ?, tasks_failed = tasks_failed + ?, last_seen = ? WHERE id = ?',
    );
  }

  /** A node by id (any letter case). */
  get(id: string) {
    const row = this.#get.get(id.toLowerCase());
    return (
      row && {
        id: row.id,
        wallet: row.wallet,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        tasksDone: row.tasks_done,
      }
    );
  }

  seen(id: string, wallet: string | undefined, hardware: Hardware): void {
    const now = Date.now();
    this.#upsert.run(id, wallet ?? null, JSON.stringify(hardware), now, now);
  }

  /** Keeps a verified hello: the evidence that its result key speaks for the node. */
  recordHello(id: string, resultKey: string, hello: unknown): void {
    this.#hello.run(id, resultKey, JSON.stringify(hello), Date.now());
  }

  lastNonce(id: string): bigint {
    return BigInt(this.#nonce.get(id)?.last_nonce ?? '0');
  }

  setLastNonce(id: string, nonce: bigint): void {
    this.#setNonce.run(nonce.toString(), id);
  }

  /** After an accepted result: the node's nonce moves on and its done count grows, in one statement. */
  recordResult(id: string, nonce: bigint): void {
    this.#result.run(nonce.toString(), Date.now(), id);
  }

  countOutcome(id: string, done: number, failed: number): void {
    this.#count.run(done, failed, Date.now(), id);
  }
}

import type { Db } from './database.js';

export type NodeDirectoryEntry = {
  id: string;
  wallet: string | null;
  /** The node type its last hello named (desktop-gpu, apple, cpu, other). */
  type: string;
  firstSeen: number;
  lastSeen: number;
  tasksDone: number;
  tasksFailed: number;
};

/** Read-only queries over nodes and verdicts for the metrics API (src/router/metrics). */
export class NodeDirectoryStore {
  readonly #list;
  readonly #verified;
  readonly #models;

  constructor(db: Db) {
    this.#list = db.prepare<
      [],
      {
        id: string;
        wallet: string | null;
        type: string | null;
        first_seen: number;
        last_seen: number;
        tasks_done: number;
        tasks_failed: number;
      }
    >(`SELECT id, wallet, json_extract(hardware, '$.nodeType') AS type, first_seen, last_seen, tasks_done, tasks_failed
       FROM nodes`);
    this.#verified = db.prepare<[number], { node_id: string; n: number }>(
      "SELECT node_id, COUNT(*) AS n FROM verdicts WHERE outcome = 'pass' AND at >= ? GROUP BY node_id",
    );
    this.#models = db.prepare<[], { node_id: string; model_sha256: string }>(
      'SELECT DISTINCT node_id, model_sha256 FROM verdicts',
    );
  }

  /** Every node the router has seen. */
  list(): NodeDirectoryEntry[] {
    return this.#list.all().map((r) => ({
      id: r.id.toLowerCase(),
      wallet: r.wallet?.toLowerCase() ?? null,
      type: r.type ?? 'other',
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      tasksDone: r.tasks_done,
      tasksFailed: r.tasks_failed,
    }));
  }

  /** Passed verdicts per node since `since` (ms). */
  verifiedSince(since: number): Map<string, number> {
    return new Map(this.#verified.all(since).map((r) => [r.node_id, r.n]));
  }

  /** The models each node has verdicts for (its reputation is kept per model). */
  verdictModels(): Map<string, string[]> {
    const models = new Map<string, string[]>();
    for (const r of this.#models.all()) {
      const list = models.get(r.node_id) ?? [];
      list.push(r.model_sha256);
      models.set(r.node_id, list);
    }
    return models;
  }
}

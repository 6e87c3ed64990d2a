import type { Db } from './database.js';

/** A stored verdict; `evidence` is the judge's evidence as JSON (see src/verify). */
export type StoredVerdict = {
  id: string;
  taskId: string;
  attempt: number;
  nodeId: string;
  validatorId: string;
  modelSha256: string;
  level: string;
  outcome: string;
  reason: string;
  evidence: unknown;
  at: number;
};

type Row = {
  id: string;
  task_id: string;
  attempt: number;
  node_id: string;
  validator_id: string;
  model_sha256: string;
  level: string;
  outcome: string;
  reason: string;
  evidence: string;
  at: number;
};

const toVerdict = (r: Row): StoredVerdict => ({
  id: r.id,
  taskId: r.task_id,
  attempt: r.attempt,
  nodeId: r.node_id,
  validatorId: r.validator_id,
  modelSha256: r.model_sha256,
  level: r.level,
  outcome: r.outcome,
  reason: r.reason,
  evidence: JSON.parse(r.evidence) as unknown,
  at: r.at,
});

/** Verdicts, append-only and idempotent by id; the ledger reads them in order (`since`). */
export class VerdictStore {
  readonly #insert;
  readonly #byNode;
  readonly #byTask;
  readonly #since;
  readonly #all;

  constructor(db: Db) {
    this.#insert = db.prepare(`
      INSERT INTO verdicts (id, task_id, attempt, node_id, validator_id, model_sha256, level, outcome, reason, evidence, at)
      VALUES (@id, @taskId, @attempt, @nodeId, @validatorId, @modelSha256, @level, @outcome, @reason, @evidence, @at)
      ON CONFLICT(id) DO NOTHING`);
    this.#byNode = db.prepare<[string, number], Row>(
      'SELECT * FROM verdicts WHERE node_id = ? ORDER BY at DESC, id LIMIT ?',
    );
    this.#byTask = db.prepare<[string], Row>('SELECT * FROM verdicts WHERE task_id = ? ORDER BY at, id');
    this.#since = db.prepare<[number, number], Row>(
      'SELECT * FROM verdicts WHERE at >= ? ORDER BY at, id LIMIT ?',
    );
    this.#all = db.prepare<[], Row>('SELECT * FROM verdicts ORDER BY at, id');
  }

  /** Stores a verdict; false when one with its id was already stored. */
  add(verdict: StoredVerdict): boolean {
    return (
      this.#insert.run({
        ...verdict,
        nodeId: verdict.nodeId.toLowerCase(),
        validatorId: verdict.validatorId.toLowerCase(),
        evidence: JSON.stringify(verdict.evidence),
      }).changes > 0
    );
  }

  byNode(nodeId: string, limit = 50): StoredVerdict[] {
    return this.#byNode.all(nodeId.toLowerCase(), limit).map(toVerdict);
  }

  byTask(taskId: string): StoredVerdict[] {
    return this.#byTask.all(taskId).map(toVerdict);
  }

  /** Verdicts from `at` on, oldest first: the feed the ledger pays and slashes from. */
  since(at: number, limit = 1000): StoredVerdict[] {
    return this.#since.all(at, limit).map(toVerdict);
  }

  /** Every verdict, oldest first (to rebuild reputation at start). */
  all(): StoredVerdict[] {
    return this.#all.all().map(toVerdict);
  }
}

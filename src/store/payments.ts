import type { Db } from './database.js';

/** What a paid task holds until its result is booked or it ends without one. Amounts in the smallest unit. */
export type TaskPaymentRecord = {
  taskId: string;
  /** The ledger escrow the task's hold is in: a session's budget, or one opened for this task alone. */
  escrow: string;
  /** The escrow was opened for this task alone and closes when the task ends. */
  perTask: boolean;
  account: string;
  price: { input: bigint; output: bigint };
  held: bigint;
  createdAt: number;
};

type Row = {
  task_id: string;
  escrow: string;
  per_task: number;
  account: string;
  price_input: string;
  price_output: string;
  held: string;
  created_at: number;
};

const toRecord = (r: Row): TaskPaymentRecord => ({
  taskId: r.task_id,
  escrow: r.escrow,
  perTask: r.per_task === 1,
  account: r.account,
  price: { input: BigInt(r.price_input), output: BigInt(r.price_output) },
  held: BigInt(r.held),
  createdAt: r.created_at,
});

/**
 * Paid tasks not yet booked. A row is written (at once, before the ledger's group commit) when a task is
 * admitted, and marked settled once its bookings are committed; on start the router books or releases every
 * row still unsettled, so a crash between the result and the ledger loses no payment.
 */
export class PaymentStore {
  readonly #db: Db;
  readonly #insert;
  readonly #settle;
  readonly #unsettled;
  readonly #doneByNode;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT OR IGNORE INTO task_payments (task_id, escrow, per_task, account, price_input, price_output, held, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#settle = db.prepare(
      'UPDATE task_payments SET settled_at = ? WHERE task_id = ? AND settled_at IS NULL',
    );
    this.#unsettled = db.prepare<[], Row>(
      'SELECT * FROM task_payments WHERE settled_at IS NULL ORDER BY created_at',
    );
    this.#doneByNode = db.prepare<[number], { node_id: string; tasks: number }>(`
      SELECT node_id, count(*) AS tasks FROM tasks
      WHERE status = 'done' AND finished_at >= ? AND node_id IS NOT NULL
        AND (idempotency_key IS NULL OR idempotency_key NOT LIKE 'check:%')
      GROUP BY node_id`);
  }

  insert(p: TaskPaymentRecord): void {
    this.#insert.run(
      p.taskId,
      p.escrow,
      p.perTask ? 1 : 0,
      p.account,
      p.price.input.toString(),
      p.price.output.toString(),
      p.held.toString(),
      p.createdAt,
    );
  }

  /** Marks tasks' payments booked (or released), in one transaction. */
  settle(taskIds: readonly string[], at = Date.now()): void {
    if (taskIds.length === 0) return;
    this.#db.transaction(() => {
      for (const id of taskIds) this.#settle.run(at, id);
    })();
  }

  unsettled(): TaskPaymentRecord[] {
    return this.#unsettled.all().map(toRecord);
  }

  /** Tasks (not checks) each node finished with an accepted result since `at`: an epoch's Tasks after a restart. */
  doneByNodeSince(at: number): Map<string, number> {
    return new Map(this.#doneByNode.all(at).map((r) => [r.node_id.toLowerCase(), r.tasks]));
  }
}

import type { MachineOpinionView } from '../protocol/index.js';
import type { Db } from '../store/index.js';

/**
 * Machine pre-review's records (`campaign_prereviews`, docs/data.md "Machine pre-review"): one row per item,
 * written when its task is asked for and again when it ends. The row is inserted once (the item id is the
 * key), so an item is pre-reviewed, and paid for, at most once. The router's pre-review runner
 * (src/router/api/campaign-prereview.ts) is the only writer; the routes read opinions to show reviewers.
 * An opinion is never a vote: nothing in consensus, rewards or penalties reads this table.
 */
export type OpinionVerdict = 'accept' | 'reject' | 'unclear';

type Row = {
  item_id: string;
  campaign_id: string;
  model: string;
  task_id: string | null;
  status: MachineOpinionView['status'];
  verdict: OpinionVerdict | null;
  answer: string | null;
  reason: string | null;
  cost: string | null;
};

const viewOf = (r: Row): MachineOpinionView => ({
  model: r.model,
  status: r.status,
  verdict: r.verdict,
  answer: r.answer,
  reason: r.reason,
  cost: r.cost,
  task_id: r.task_id,
});

export class PreReviewStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Records that an item's pre-review is asked for; false when it already was (nothing to do again). */
  begin(item: string, campaign: string, model: string, at: number): boolean {
    const r = this.#db
      .prepare(
        "INSERT OR IGNORE INTO campaign_prereviews (item_id, campaign_id, model, status, at) VALUES (?, ?, ?, 'pending', ?)",
      )
      .run(item, campaign, model, at);
    return r.changes > 0;
  }

  started(item: string, taskId: string): void {
    this.#db.prepare('UPDATE campaign_prereviews SET task_id = ? WHERE item_id = ?').run(taskId, item);
  }

  finish(
    item: string,
    o: { verdict: OpinionVerdict; answer: string; cost: string | null; at: number },
  ): void {
    this.#db
      .prepare(
        "UPDATE campaign_prereviews SET status = 'done', verdict = ?, answer = ?, cost = ?, at = ? WHERE item_id = ?",
      )
      .run(o.verdict, o.answer, o.cost, o.at, item);
  }

  fail(item: string, reason: string, at: number): void {
    this.#db
      .prepare("UPDATE campaign_prereviews SET status = 'failed', reason = ?, at = ? WHERE item_id = ?")
      .run(reason, at, item);
  }

  /** Pre-reviews still waiting for their task (after a restart: to join or finish them). */
  pending(): { item: string; campaign: string; taskId: string | null }[] {
    return this.#db
      .prepare<[], { item_id: string; campaign_id: string; task_id: string | null }>(
        "SELECT item_id, campaign_id, task_id FROM campaign_prereviews WHERE status = 'pending'",
      )
      .all()
      .map((r) => ({ item: r.item_id, campaign: r.campaign_id, taskId: r.task_id }));
  }

  /** The opinions on these items, by item id. */
  opinions(items: string[]): Map<string, MachineOpinionView> {
    const out = new Map<string, MachineOpinionView>();
    const select = this.#db.prepare<[string], Row>('SELECT * FROM campaign_prereviews WHERE item_id = ?');
    for (const id of items) {
      const row = select.get(id);
      if (row) out.set(id, viewOf(row));
    }
    return out;
  }
}

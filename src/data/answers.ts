import type { Db } from '../store/index.js';
import type { Answer } from './questions.js';

type ValueRow = { label: string | null; rating: number | null };

/**
 * The label and rating half of votes, items and gold answers (columns beside `verdict` and `gold_answer`; the
 * campaign service is their only writer). Accept/reject campaigns leave them NULL.
 */
export class AnswerStore {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Stores a vote's label or rating; the vote's row was just inserted in the same transaction. */
  setVote(item: string, reviewer: string, a: Answer): void {
    if (a.label === null && a.rating === null) return;
    this.db
      .prepare('UPDATE campaign_votes SET label = ?, rating = ? WHERE item_id = ? AND reviewer = ?')
      .run(a.label, a.rating, item, reviewer);
  }

  /** Each vote's label and rating on an item, by reviewer. */
  votes(item: string): Map<string, ValueRow> {
    const rows = this.db
      .prepare<[string], ValueRow & { reviewer: string }>(
        'SELECT reviewer, label, rating FROM campaign_votes WHERE item_id = ?',
      )
      .all(item);
    return new Map(rows.map((r) => [r.reviewer, { label: r.label, rating: r.rating }]));
  }

  /** Records an item's final label or rating with its decision. */
  setFinal(item: string, a: Answer): void {
    if (a.label === null && a.rating === null) return;
    this.db
      .prepare('UPDATE campaign_items SET label = ?, rating = ? WHERE id = ?')
      .run(a.label, a.rating, item);
  }

  /** A gold item's known label or rating. */
  setGold(item: string, a: Answer): void {
    if (a.label === null && a.rating === null) return;
    this.db
      .prepare('UPDATE campaign_items SET gold_label = ?, gold_rating = ? WHERE id = ?')
      .run(a.label, a.rating, item);
  }

  /** An item's final label and rating (both null in accept/reject campaigns or before a decision). */
  final(item: string): ValueRow {
    return (
      this.db
        .prepare<[string], ValueRow>('SELECT label, rating FROM campaign_items WHERE id = ?')
        .get(item) ?? { label: null, rating: null }
    );
  }
}

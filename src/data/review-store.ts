import type { Db } from '../store/index.js';
import type { ReviewerRecord, Verdict } from './consensus.js';
import type { ItemRecord, VoteRecord } from './store.js';

/**
 * Review leases, votes and revoked reviewers (the campaign tables' review half; the campaign service is their
 * only writer). Every vote is kept, counted or not.
 */
export class ReviewStore {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  assign(p: { item: ItemRecord; reviewer: string; batch: string; until: number }): void {
    this.db
      .prepare(
        `INSERT INTO campaign_assignments (item_id, reviewer, campaign_id, round, batch_id, leased_until, voted)
         VALUES (?, ?, ?, ?, ?, ?, 0)`,
      )
      .run(p.item.id, p.reviewer, p.item.campaignId, p.item.round, p.batch, p.until);
  }

  assignment(
    item: string,
    reviewer: string,
  ): { round: number; leasedUntil: number; voted: boolean } | undefined {
    const row = this.db
      .prepare<[string, string], { round: number; leased_until: number; voted: number }>(
        'SELECT round, leased_until, voted FROM campaign_assignments WHERE item_id = ? AND reviewer = ?',
      )
      .get(item, reviewer);
    return row && { round: row.round, leasedUntil: row.leased_until, voted: row.voted === 1 };
  }

  /** Frees what a revoked reviewer held: its leases, and its votes' slots on items still undecided. */
  dropAssignments(campaign: string, reviewer: string): void {
    this.db
      .prepare(
        `DELETE FROM campaign_assignments WHERE campaign_id = ? AND reviewer = ? AND item_id IN
           (SELECT id FROM campaign_items WHERE state IN ('received', 'in_review', 'second_round'))`,
      )
      .run(campaign, reviewer);
  }

  isAssigned(item: string, reviewer: string): boolean {
    return this.assignment(item, reviewer) !== undefined;
  }

  insertVote(campaign: string, v: VoteRecord): void {
    this.db
      .prepare(
        `INSERT INTO campaign_votes (item_id, reviewer, campaign_id, round, verdict, flagged, reasons, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        v.itemId,
        v.reviewer,
        campaign,
        v.round,
        v.verdict,
        v.flagged ? 1 : 0,
        JSON.stringify(v.reasons),
        v.at,
      );
    this.db
      .prepare('UPDATE campaign_assignments SET voted = 1 WHERE item_id = ? AND reviewer = ?')
      .run(v.itemId, v.reviewer);
  }

  /** An item's votes from reviewers who still hold their rights, oldest first. */
  countedVotes(item: ItemRecord): VoteRecord[] {
    return this.db
      .prepare<
        [string, string],
        { reviewer: string; round: number; verdict: Verdict; flagged: number; reasons: string; at: number }
      >(
        `SELECT reviewer, round, verdict, flagged, reasons, at FROM campaign_votes v WHERE item_id = ?
           AND NOT EXISTS (SELECT 1 FROM campaign_revoked r WHERE r.campaign_id = ? AND r.reviewer = v.reviewer)
         ORDER BY at, reviewer`,
      )
      .all(item.id, item.campaignId)
      .map((r) => ({
        itemId: item.id,
        reviewer: r.reviewer,
        round: r.round === 2 ? 2 : 1,
        verdict: r.verdict,
        flagged: r.flagged === 1,
        reasons: JSON.parse(r.reasons) as string[],
        at: r.at,
      }));
  }

  /** Votes stored in a campaign (all, counted or not). */
  voteCount(campaign: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM campaign_votes WHERE campaign_id = ?')
        .get(campaign)?.n ?? 0
    );
  }

  /** A reviewer's answers whose truth is known (gold answers and final verdicts), by that truth, and right ones. */
  record(campaign: string, reviewer: string): ReviewerRecord {
    const row = this.db
      .prepare<[string, string, string], Record<keyof ReviewerRecord, number | null>>(
        // Right on an accept means the same label too, or a rating within the question's tolerance (answers.ts);
        // both are NULL in accept/reject campaigns, where the verdict alone decides.
        `SELECT SUM(truth = 'accept' AND verdict = truth AND same) AS goodRight, SUM(truth = 'accept') AS goodTotal,
                SUM(truth = 'reject' AND verdict = truth) AS badRight, SUM(truth = 'reject') AS badTotal
         FROM (SELECT v.verdict, COALESCE(i.gold_answer, i.verdict) AS truth,
                 v.label IS COALESCE(i.gold_label, i.label) AND (v.rating IS NULL OR
                   ABS(v.rating - COALESCE(i.gold_rating, i.rating)) <= q.tolerance) AS same
               FROM campaign_votes v JOIN campaign_items i ON i.id = v.item_id,
                 (SELECT COALESCE(json_extract(settings, '$.question.tolerance'), 0) AS tolerance
                  FROM campaigns WHERE id = ?) q
               WHERE v.campaign_id = ? AND v.reviewer = ? AND (i.gold_answer IS NOT NULL OR i.verdict IS NOT NULL))`,
      )
      .get(campaign, campaign, reviewer);
    return {
      goodRight: row?.goodRight ?? 0,
      goodTotal: row?.goodTotal ?? 0,
      badRight: row?.badRight ?? 0,
      badTotal: row?.badTotal ?? 0,
    };
  }

  revoke(campaign: string, reviewer: string, accuracyPpm: number, at: number): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO campaign_revoked (campaign_id, reviewer, accuracy_ppm, at) VALUES (?, ?, ?, ?)',
      )
      .run(campaign, reviewer, accuracyPpm, at);
  }

  isRevoked(campaign: string, reviewer: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM campaign_revoked WHERE campaign_id = ? AND reviewer = ?')
        .get(campaign, reviewer) !== undefined
    );
  }

  revoked(campaign: string): { reviewer: string; accuracyPpm: number; at: number }[] {
    return this.db
      .prepare<[string], { reviewer: string; accuracy_ppm: number; at: number }>(
        'SELECT reviewer, accuracy_ppm, at FROM campaign_revoked WHERE campaign_id = ? ORDER BY at, reviewer',
      )
      .all(campaign)
      .map((r) => ({ reviewer: r.reviewer, accuracyPpm: r.accuracy_ppm, at: r.at }));
  }

  /** Every vote an account cast, in every campaign. */
  votesBy(reviewer: string): { campaignId: string; itemId: string }[] {
    return this.db
      .prepare<[string], { campaign_id: string; item_id: string }>(
        'SELECT campaign_id, item_id FROM campaign_votes WHERE reviewer = ?',
      )
      .all(reviewer)
      .map((r) => ({ campaignId: r.campaign_id, itemId: r.item_id }));
  }
}

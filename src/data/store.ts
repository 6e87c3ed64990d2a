import type { Db } from '../store/index.js';
import type { Verdict } from './consensus.js';
import type { DataKind } from './magic.js';
import type { Question } from './questions.js';
import type { JsonSchema } from './schema.js';

/** A campaign's settings as created; amounts in the smallest unit, ratios in ppm, times in ms. */
export type CampaignSettings = {
  title: string;
  instructions: string;
  kind: DataKind;
  /** For `jsonl` campaigns: what each record must fit. */
  schema: JsonSchema | null;
  maxBytes: number;
  reward: bigint;
  reviewReward: bigint;
  budget: bigint;
  reviewers: number;
  secondRound: number;
  thresholdPpm: number;
  reviewerStake: bigint;
  accuracyFloorPpm: number;
  minEvidence: number;
  leaseMs: number;
  batchSize: number;
  /** Gold items mixed into a batch, per real item, ppm (at least one while the reviewer has unseen gold). */
  goldSharePpm: number;
  deadline: number | null;
  /** What reviewers answer (questions.ts); absent in campaigns made before questions: accept/reject. */
  question?: Question;
  /** Machine pre-review (prereview.ts): the model, the key whose account the tasks run under, the most one costs. */
  prereview?: { model: string; keyId: string; hold: string };
};

export type CampaignStatus = 'open' | 'closed';
export type CampaignRecord = {
  id: string;
  owner: string;
  settings: CampaignSettings;
  salt: string;
  status: CampaignStatus;
  createdAt: number;
  closedAt: number | null;
};

export type ItemState = 'received' | 'in_review' | 'second_round' | 'accepted' | 'rejected' | 'gold';
export type ItemRecord = {
  id: string;
  campaignId: string;
  sha256: string;
  kind: DataKind;
  format: string;
  size: number;
  name: string | null;
  metadata: unknown;
  contributor: string;
  goldAnswer: Verdict | null;
  state: ItemState;
  round: 1 | 2;
  verdict: Verdict | null;
  agreementPpm: number | null;
  reasons: string[];
  createdAt: number;
  decidedAt: number | null;
};

/** What an upload knows of a new item; the rest of its record starts as every contributed item's does. */
export type NewItem = Pick<
  ItemRecord,
  | 'id'
  | 'campaignId'
  | 'sha256'
  | 'kind'
  | 'format'
  | 'size'
  | 'name'
  | 'metadata'
  | 'contributor'
  | 'createdAt'
>;

/** A contributed item as it enters the store: received, first round, undecided. */
export function receivedItem(item: NewItem): ItemRecord {
  return {
    ...item,
    goldAnswer: null,
    state: 'received',
    round: 1,
    verdict: null,
    agreementPpm: null,
    reasons: [],
    decidedAt: null,
  };
}

export type VoteRecord = {
  itemId: string;
  reviewer: string;
  round: 1 | 2;
  verdict: Verdict;
  flagged: boolean;
  reasons: string[];
  at: number;
};

type ItemRow = Omit<ItemRecord, 'metadata' | 'reasons' | 'round' | 'campaignId' | 'goldAnswer'> & {
  campaign_id: string;
  gold_answer: Verdict | null;
  metadata: string | null;
  reasons: string;
  round: number;
  agreement_ppm: number | null;
  created_at: number;
  decided_at: number | null;
};

const ITEM_COLUMNS = `id, campaign_id, sha256, kind, format, size, name, metadata, contributor, gold_answer, state,
  round, verdict, agreement_ppm, reasons, created_at, decided_at`;

const itemOf = (r: ItemRow): ItemRecord => ({
  id: r.id,
  campaignId: r.campaign_id,
  sha256: r.sha256,
  kind: r.kind,
  format: r.format,
  size: r.size,
  name: r.name,
  metadata: r.metadata === null ? null : JSON.parse(r.metadata),
  contributor: r.contributor,
  goldAnswer: r.gold_answer,
  state: r.state,
  round: r.round === 2 ? 2 : 1,
  verdict: r.verdict,
  agreementPpm: r.agreement_ppm,
  reasons: JSON.parse(r.reasons) as string[],
  createdAt: r.created_at,
  decidedAt: r.decided_at,
});

const AMOUNTS = ['reward', 'reviewReward', 'budget', 'reviewerStake'] as const;
const settingsText = (s: CampaignSettings) =>
  JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
function settingsOf(text: string): CampaignSettings {
  const raw = JSON.parse(text) as Record<string, unknown>;
  for (const name of AMOUNTS) raw[name] = BigInt(raw[name] as string);
  return raw as unknown as CampaignSettings;
}

type CampaignRow = {
  id: string;
  owner: string;
  settings: string;
  salt: string;
  status: CampaignStatus;
  created_at: number;
  closed_at: number | null;
};
const campaignOf = (r: CampaignRow): CampaignRecord => ({
  id: r.id,
  owner: r.owner,
  settings: settingsOf(r.settings),
  salt: r.salt,
  status: r.status,
  createdAt: r.created_at,
  closedAt: r.closed_at,
});

/** The campaign tables (migration in src/store/schema.ts); the campaign service is their only writer. */
export class CampaignStore {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  insertCampaign(c: CampaignRecord): void {
    this.db
      .prepare(
        'INSERT INTO campaigns (id, owner, settings, salt, status, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(c.id, c.owner, settingsText(c.settings), c.salt, c.status, c.createdAt, c.closedAt);
  }

  campaign(id: string): CampaignRecord | undefined {
    const row = this.db.prepare<[string], CampaignRow>('SELECT * FROM campaigns WHERE id = ?').get(id);
    return row && campaignOf(row);
  }

  campaigns(): CampaignRecord[] {
    return this.db
      .prepare<[], CampaignRow>('SELECT * FROM campaigns ORDER BY created_at, id')
      .all()
      .map(campaignOf);
  }

  close(id: string, at: number): void {
    this.db.prepare("UPDATE campaigns SET status = 'closed', closed_at = ? WHERE id = ?").run(at, id);
  }

  insertItem(i: ItemRecord): void {
    this.db
      .prepare(
        `INSERT INTO campaign_items (${ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        i.id,
        i.campaignId,
        i.sha256,
        i.kind,
        i.format,
        i.size,
        i.name,
        i.metadata === null || i.metadata === undefined ? null : JSON.stringify(i.metadata),
        i.contributor,
        i.goldAnswer,
        i.state,
        i.round,
        i.verdict,
        i.agreementPpm,
        JSON.stringify(i.reasons),
        i.createdAt,
        i.decidedAt,
      );
  }

  item(id: string): ItemRecord | undefined {
    const row = this.db
      .prepare<[string], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM campaign_items WHERE id = ?`)
      .get(id);
    return row && itemOf(row);
  }

  itemBySha(campaign: string, sha256: string): ItemRecord | undefined {
    const row = this.db
      .prepare<[string, string], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM campaign_items WHERE campaign_id = ? AND sha256 = ?`,
      )
      .get(campaign, sha256);
    return row && itemOf(row);
  }

  hasSha(campaign: string, sha256: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM campaign_items WHERE campaign_id = ? AND sha256 = ?')
        .get(campaign, sha256) !== undefined
    );
  }

  /** Items of a campaign: all, or one contributor's, or in some states; oldest first. */
  items(campaign: string, filter: { contributor?: string; states?: ItemState[] } = {}): ItemRecord[] {
    const where = ['campaign_id = ?'];
    const args: unknown[] = [campaign];
    if (filter.contributor !== undefined) {
      where.push('contributor = ?');
      args.push(filter.contributor);
    }
    if (filter.states) where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
    return this.db
      .prepare<unknown[], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM campaign_items WHERE ${where.join(' AND ')} ORDER BY created_at, rowid`,
      )
      .all(...args, ...(filter.states ?? []))
      .map(itemOf);
  }

  /** Items still waiting for a verdict (gold not counted). */
  undecided(campaign: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>(
          "SELECT COUNT(*) AS n FROM campaign_items WHERE campaign_id = ? AND state IN ('received', 'in_review', 'second_round')",
        )
        .get(campaign)?.n ?? 0
    );
  }

  counts(campaign: string): Record<string, number> {
    const rows = this.db
      .prepare<[string], { state: string; n: number }>(
        'SELECT state, COUNT(*) AS n FROM campaign_items WHERE campaign_id = ? GROUP BY state',
      )
      .all(campaign);
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  /** Items that still need a reviewer in their round, not yet shown to `reviewer`, not contributed by it. */
  openFor(
    campaign: string,
    reviewer: string,
    now: number,
    needed: [number, number],
    limit: number,
  ): ItemRecord[] {
    return this.db
      .prepare<unknown[], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM campaign_items i
         WHERE i.campaign_id = ? AND i.state IN ('received', 'in_review', 'second_round') AND i.contributor != ?
           AND NOT EXISTS (SELECT 1 FROM campaign_assignments a WHERE a.item_id = i.id AND a.reviewer = ?)
           AND (SELECT COUNT(*) FROM campaign_assignments a WHERE a.item_id = i.id AND a.round = i.round
                AND (a.voted = 1 OR a.leased_until > ?)) < (CASE WHEN i.round = 1 THEN ? ELSE ? END)
         ORDER BY i.round DESC, i.created_at, i.rowid LIMIT ?`,
      )
      .all(campaign, reviewer, reviewer, now, needed[0], needed[1], limit)
      .map(itemOf);
  }

  /** Gold items `reviewer` has not been shown yet. */
  unseenGold(campaign: string, reviewer: string, limit: number): ItemRecord[] {
    return this.db
      .prepare<unknown[], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM campaign_items i
         WHERE i.campaign_id = ? AND i.state = 'gold'
           AND NOT EXISTS (SELECT 1 FROM campaign_assignments a WHERE a.item_id = i.id AND a.reviewer = ?)
         ORDER BY i.sha256 LIMIT ?`,
      )
      .all(campaign, reviewer, limit)
      .map(itemOf);
  }

  setState(item: string, state: ItemState, round: 1 | 2, reasons?: string[]): void {
    if (reasons)
      this.db
        .prepare('UPDATE campaign_items SET state = ?, round = ?, reasons = ? WHERE id = ?')
        .run(state, round, JSON.stringify(reasons), item);
    else
      this.db.prepare('UPDATE campaign_items SET state = ?, round = ? WHERE id = ?').run(state, round, item);
  }

  decideItem(p: {
    item: string;
    verdict: Verdict;
    agreementPpm: number;
    reasons: string[];
    at: number;
  }): void {
    this.db
      .prepare(
        'UPDATE campaign_items SET state = ?, verdict = ?, agreement_ppm = ?, reasons = ?, decided_at = ? WHERE id = ?',
      )
      .run(
        p.verdict === 'accept' ? 'accepted' : 'rejected',
        p.verdict,
        p.agreementPpm,
        JSON.stringify(p.reasons),
        p.at,
        p.item,
      );
  }

  /** Accepted items an account contributed, in every campaign. */
  contributedBy(account: string): { campaignId: string; id: string }[] {
    return this.db
      .prepare<[string], { campaign_id: string; id: string }>(
        "SELECT campaign_id, id FROM campaign_items WHERE contributor = ? AND state = 'accepted'",
      )
      .all(account)
      .map((r) => ({ campaignId: r.campaign_id, id: r.id }));
  }

  /** Every (campaign, reviewer) pair that ever voted on a decided item: recovery re-checks their slashes. */
  decided(campaign: string): ItemRecord[] {
    return this.items(campaign, { states: ['accepted', 'rejected'] });
  }
}

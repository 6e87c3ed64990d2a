import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Ledger, parseJsonAmount } from '../ledger/index.js';
import {
  type CreateCampaignRequest,
  createCampaignRequest,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  OmniError,
  parseBody,
} from '../protocol/index.js';
import type { Db } from '../store/index.js';
import { AnswerStore } from './answers.js';
import { BlobStore } from './blobs.js';
import { defaultConsensus } from './consensus.js';
import { kindOf } from './magic.js';
import { NearIndex } from './near/near-index.js';
import { type Answer, agreeing, answerOf, questionFromRequest, questionOf } from './questions.js';
import { ReviewStore } from './review-store.js';
import {
  type CampaignPrices,
  closeBudget,
  itemHold,
  openBudget,
  reviewKey,
  rewardKey,
  settleItem,
  slashKey,
} from './rewards.js';
import { type JsonSchema, schemaProblem } from './schema.js';
import { type CampaignRecord, type CampaignSettings, CampaignStore, type ItemRecord } from './store.js';

export type DataComponents = {
  db: Db;
  ledger: Ledger;
  /** The router's data folder: files go under `campaign-files/`. */
  dataDir: string;
  /** Where an account's earnings go (a node's payout wallet); accounts sharing one never review each other. */
  walletOf: (account: string) => string;
  now?: () => number;
};

/** A campaign that takes no more uploads or votes: 409. */
export class CampaignClosedError extends OmniError {
  override readonly name = 'CampaignClosedError';
  override readonly kind = 'conflict';
  constructor(campaign: string) {
    super('campaign_closed', `Campaign ${campaign} is closed.`);
  }
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const ppm = (share: number | undefined, fallback: number) =>
  share === undefined ? fallback : Math.round(share * 1_000_000);

/** The prices an item's hold and settlement use. */
export const pricesOf = (s: CampaignSettings): CampaignPrices => ({
  reward: s.reward,
  reviewReward: s.reviewReward,
  reviewers: s.reviewers,
  secondRound: s.secondRound,
  prereview: BigInt(s.prereview?.hold ?? 0),
});

/**
 * Data campaigns (issue 12): the one writer of the campaign tables and of campaign files. Money moves only
 * through the ledger, in the same SQLite transaction as the rows that cause it (`atomically`), so a crash
 * keeps both or neither. Uploads (uploads.ts) and reviews (reviews.ts) work through this service.
 */
export class Campaigns {
  readonly store: CampaignStore;
  readonly reviews: ReviewStore;
  readonly answers: AnswerStore;
  readonly blobs: BlobStore;
  /** Fingerprints of the campaigns' texts and pictures, for near-duplicates (near/). */
  readonly near: NearIndex;
  readonly ledger: Ledger;
  readonly walletOf: (account: string) => string;
  readonly now: () => number;

  constructor(c: DataComponents) {
    this.store = new CampaignStore(c.db);
    this.reviews = new ReviewStore(c.db);
    this.answers = new AnswerStore(c.db);
    this.blobs = new BlobStore(join(c.dataDir, 'campaign-files'));
    this.near = new NearIndex(c.db);
    this.ledger = c.ledger;
    this.walletOf = c.walletOf;
    this.now = c.now ?? Date.now;
  }

  /** Runs `work` and commits the ledger's bookings in one transaction; on failure neither stays. */
  atomically<T>(work: () => T): T {
    try {
      return this.store.db.transaction(() => {
        const result = work();
        this.ledger.flush();
        return result;
      })();
    } catch (error) {
      this.ledger.reload();
      throw error;
    }
  }

  /** Creates a campaign and escrows its budget from `owner` (402 when the balance falls short). */
  create(owner: string, body: unknown, prereview?: CampaignSettings['prereview']): CampaignRecord {
    const r = parseBody(createCampaignRequest, body) as CreateCampaignRequest;
    if (r.prereview !== undefined && prereview?.model !== r.prereview)
      throw new InvalidParameterError('prereview', 'This router cannot pre-review items with a model.');
    const settings = { ...this.#settings(r), ...(prereview ? { prereview } : {}) };
    const id = `camp_${randomBytes(8).toString('hex')}`;
    const gold = (r.gold ?? []).map((g, index) => {
      const given = { verdict: g.answer, label: g.label, rating: g.rating };
      const answer = answerOf(questionOf(settings), given, `gold.${index}`, 'answer');
      return { item: this.#goldItem(id, owner, settings, g, index, answer), answer };
    });
    const record: CampaignRecord = {
      id,
      owner,
      settings,
      salt: randomBytes(16).toString('hex'),
      status: 'open',
      createdAt: this.now(),
      closedAt: null,
    };
    this.atomically(() => {
      this.store.insertCampaign(record);
      openBudget(this.ledger, id, owner, settings.budget);
      const seen = new Set<string>();
      for (const { item, answer } of gold) {
        if (seen.has(item.sha256)) continue;
        seen.add(item.sha256);
        this.store.insertItem(item);
        this.answers.setGold(item.id, answer);
      }
    });
    return record;
  }

  #settings(r: CreateCampaignRequest): CampaignSettings {
    const reward = parseJsonAmount(r.reward, 'reward');
    const reviewReward = parseJsonAmount(r.review_reward, 'review_reward');
    const budget = parseJsonAmount(r.budget, 'budget');
    const reviewerStake =
      r.reviewer_stake === undefined
        ? this.ledger.config.minimumStake
        : parseJsonAmount(r.reviewer_stake, 'reviewer_stake');
    if (r.kind === 'jsonl' && r.schema === undefined)
      throw new InvalidParameterError('schema', "A 'jsonl' campaign needs a JSON schema for its records.");
    const problem = r.schema === undefined ? null : schemaProblem(r.schema);
    if (problem) throw new InvalidParameterError('schema', `The schema cannot be checked: ${problem}.`);
    const settings: CampaignSettings = {
      title: r.title,
      instructions: r.instructions ?? '',
      kind: r.kind,
      schema: (r.schema as JsonSchema | undefined) ?? null,
      maxBytes: r.max_bytes ?? DEFAULT_MAX_BYTES,
      reward,
      reviewReward,
      budget,
      reviewers: r.reviewers,
      secondRound: r.second_round_reviewers ?? r.reviewers,
      thresholdPpm: ppm(r.threshold, defaultConsensus.thresholdPpm),
      reviewerStake,
      accuracyFloorPpm: ppm(r.accuracy_floor, defaultConsensus.accuracyFloorPpm),
      minEvidence: r.min_evidence ?? defaultConsensus.minEvidence,
      leaseMs: (r.lease_seconds ?? 600) * 1000,
      batchSize: r.batch_size ?? 10,
      goldSharePpm: ppm(r.gold_share, 200_000),
      deadline: r.deadline ?? null,
      question: questionFromRequest(r),
    };
    const hold = itemHold(pricesOf(settings));
    if (budget < hold)
      throw new InvalidParameterError(
        'budget',
        `The budget must cover at least one item: its reward and ${settings.reviewers + settings.secondRound} reviews (${hold} units).`,
      );
    return settings;
  }

  #goldItem(
    campaign: string,
    owner: string,
    s: CampaignSettings,
    g: NonNullable<CreateCampaignRequest['gold']>[number],
    index: number,
    answer: Answer,
  ): ItemRecord {
    const param = `gold.${index}`;
    let content: Buffer;
    if (g.text !== undefined && (s.kind === 'text' || s.kind === 'jsonl'))
      content = Buffer.from(g.text, 'utf8');
    else if (g.content_base64 !== undefined) content = Buffer.from(g.content_base64, 'base64');
    else
      throw new InvalidParameterError(
        param,
        `A gold item needs 'text' (text campaigns) or 'content_base64'.`,
      );
    const kind =
      s.kind === 'jsonl' ? { kind: 'jsonl' as const, format: 'json' } : kindOf(content.subarray(0, 16), true);
    if (content.length === 0 || content.length > s.maxBytes || kind?.kind !== s.kind)
      throw new InvalidParameterError(
        param,
        `Gold item ${index} is not a ${s.kind} item within the size limit.`,
      );
    const sha256 = this.blobs.put(content);
    return {
      id: `item_${randomBytes(8).toString('hex')}`,
      campaignId: campaign,
      sha256,
      kind: kind.kind,
      format: kind.format,
      size: content.length,
      name: null,
      metadata: g.metadata ?? null,
      contributor: owner,
      goldAnswer: answer.verdict,
      state: 'gold',
      round: 1,
      verdict: null,
      agreementPpm: null,
      reasons: [],
      createdAt: this.now(),
      decidedAt: null,
    };
  }

  /** A campaign, or 404. */
  get(id: string): CampaignRecord {
    const campaign = this.store.campaign(id);
    if (!campaign) throw new NotFoundError('campaign', `No campaign '${id}'.`);
    return campaign;
  }

  /** A campaign that still takes uploads and votes, or 409 (closed, or past its deadline). */
  open(id: string): CampaignRecord {
    const campaign = this.get(id);
    const late = campaign.settings.deadline !== null && this.now() > campaign.settings.deadline;
    if (campaign.status !== 'open' || late) throw new CampaignClosedError(id);
    return campaign;
  }

  /** Closes a campaign (its owner, or an operator): what is left of the budget goes back to the owner. */
  close(id: string, caller: string | null, operator: boolean): CampaignRecord {
    const campaign = this.get(id);
    if (campaign.owner !== caller && !operator)
      throw new ForbiddenError(`Only the campaign's owner (${campaign.owner}) may close it.`, 'campaign');
    if (campaign.status === 'closed') return campaign;
    this.atomically(() => {
      closeBudget(this.ledger, id);
      this.store.close(id, this.now());
    });
    return this.get(id);
  }

  /** The pseudonym an export gives a contributor: stable within the campaign, not linkable without its salt. */
  pseudonym(campaign: CampaignRecord, account: string): string {
    return `contributor_${createHash('sha256').update(`${campaign.salt}:${account}`).digest('hex').slice(0, 16)}`;
  }

  /**
   * After a restart: pays every decided item and slashes every revoked reviewer whose booking is missing. The
   * rows and their bookings commit together, so this normally finds nothing; the keys make it pay once.
   */
  recover(): number {
    let booked = 0;
    // A closed campaign's rows and bookings committed with its close; only open ones can be mid-way.
    for (const campaign of this.store.campaigns()) {
      if (campaign.status !== 'open') continue;
      const before = this.ledger.pending;
      this.atomically(() => {
        for (const item of this.store.decided(campaign.id)) {
          const votes = this.reviews.countedVotes(item);
          const final = { verdict: item.verdict ?? 'reject', ...this.answers.final(item.id) };
          settleItem(this.ledger, {
            campaign: campaign.id,
            item: item.id,
            contributor: item.contributor,
            accepted: item.verdict === 'accept',
            agreeing: agreeing(questionOf(campaign.settings), votes, this.answers.votes(item.id), final),
            prices: pricesOf(campaign.settings),
          });
        }
        for (const r of this.reviews.revoked(campaign.id))
          if (!this.ledger.entry(slashKey(campaign.id, r.reviewer)))
            this.ledger.staking.slash({
              node: r.reviewer,
              key: slashKey(campaign.id, r.reviewer),
              reference: `campaign:${campaign.id}`,
            });
        booked += this.ledger.pending - before;
      });
    }
    return booked;
  }

  /** What a wallet earned from campaigns: contributor rewards and review fees, as booked (after the fee). */
  rewardsOf(wallet: string): {
    contributions: bigint;
    reviews: bigint;
    itemsPaid: number;
    reviewsPaid: number;
  } {
    const paid = (key: string) =>
      this.ledger.entry(key)?.postings.find((p) => p.account === wallet)?.amount ?? 0n;
    let contributions = 0n;
    let reviews = 0n;
    let itemsPaid = 0;
    let reviewsPaid = 0;
    for (const item of this.store.contributedBy(wallet)) {
      const amount = paid(rewardKey(item.campaignId, item.id));
      contributions += amount;
      if (amount > 0n) itemsPaid += 1;
    }
    for (const vote of this.reviews.votesBy(wallet)) {
      const amount = paid(reviewKey(vote.campaignId, vote.itemId, wallet));
      reviews += amount;
      if (amount > 0n) reviewsPaid += 1;
    }
    return { contributions, reviews, itemsPaid, reviewsPaid };
  }
}

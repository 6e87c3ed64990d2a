import { z } from 'zod';

/**
 * Wire shapes of data campaigns (issue 12; docs/data.md): the requests the router parses and the views it
 * answers with. Amounts are strings of whole tokens, ratios numbers from 0 to 1, times milliseconds.
 */

export const CAMPAIGN_KINDS = ['text', 'image', 'audio', 'video', 'jsonl'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];
export type ReviewVerdict = 'accept' | 'reject';
export type ItemStateName = 'received' | 'in_review' | 'second_round' | 'accepted' | 'rejected';
/** The question reviewers answer: accept/reject, a label from a fixed set, or a rating on a scale. */
export const QUESTION_TYPES = ['accept', 'label', 'rating'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
/** A rating scale: whole numbers from `min` to `max`; ratings within `tolerance` of the verdict agree. */
export const ratingScale = z
  .object({
    min: z.number().int().min(-1000).max(1000),
    max: z.number().int().min(-1000).max(1000),
    tolerance: z.number().min(0).max(1000).optional(),
  })
  .strict();
export type RatingScale = { min: number; max: number; tolerance: number };
/** What a campaign asks its reviewers, as views show it. */
export type QuestionView =
  | { type: 'accept' }
  | { type: 'label'; labels: string[] }
  | { type: 'rating'; scale: RatingScale };

const share = z.number().min(0).max(1);
/** An amount: a JSON string of whole tokens (numbers are refused where the amount is read). */
const amount = z.unknown();

export const goldItemRequest = z
  .object({
    text: z.string().optional(),
    /** Non-text gold: the bytes, base64. */
    content_base64: z.string().optional(),
    /** Optional where `label` or `rating` is given (it implies accept). */
    answer: z.enum(['accept', 'reject']).optional(),
    label: z.string().min(1).max(100).optional(),
    rating: z.number().optional(),
    metadata: z.record(z.unknown()).optional(),
  })
  .strict();
export type GoldItemRequest = z.infer<typeof goldItemRequest>;

export const createCampaignRequest = z
  .object({
    title: z.string().min(1).max(200),
    instructions: z.string().max(10_000).optional(),
    kind: z.enum(CAMPAIGN_KINDS),
    /** `jsonl` campaigns: the JSON schema every record must fit. */
    schema: z.record(z.unknown()).optional(),
    max_bytes: z.number().int().min(1).optional(),
    reviewers: z.number().int().min(1).max(15),
    second_round_reviewers: z.number().int().min(1).max(15).optional(),
    reward: amount,
    review_reward: amount,
    budget: amount,
    threshold: share.optional(),
    reviewer_stake: amount.optional(),
    accuracy_floor: share.optional(),
    min_evidence: z.number().int().min(1).max(10_000).optional(),
    lease_seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
    batch_size: z.number().int().min(1).max(500).optional(),
    gold_share: share.optional(),
    deadline: z.number().int().min(0).optional(),
    gold: z.array(goldItemRequest).max(10_000).optional(),
    /** The question reviewers answer (default accept): `labels` for label, `scale` for rating. */
    question: z.enum(QUESTION_TYPES).optional(),
    labels: z.array(z.string().min(1).max(100)).min(2).max(50).optional(),
    scale: ratingScale.optional(),
    /** A model on the network that gives each text item a first opinion, paid from the budget (a hint, never a vote). */
    prereview: z.string().min(1).max(200).optional(),
  })
  .strict();
export type CreateCampaignRequest = z.input<typeof createCampaignRequest>;

export type CampaignView = {
  id: string;
  object: 'campaign';
  owner: string;
  status: 'open' | 'closed';
  title: string;
  instructions: string;
  kind: CampaignKind;
  schema: Record<string, unknown> | null;
  max_bytes: number;
  reviewers: number;
  second_round_reviewers: number;
  reward: string;
  review_reward: string;
  budget: string;
  threshold: number;
  reviewer_stake: string;
  accuracy_floor: number;
  min_evidence: number;
  lease_seconds: number;
  batch_size: number;
  gold_share: number;
  deadline: number | null;
  question: QuestionView;
  created_at: number;
  closed_at: number | null;
  /** Items by state (gold items not counted). */
  items: Record<string, number>;
  votes: number;
  /** What is left in the escrow, what uploads hold, and what new uploads may still take. */
  escrow: { balance: string; held: string; available: string };
  /** Reviewers who lost their rights here, with their estimated accuracy when they did. */
  revoked: { reviewer: string; accuracy: number }[];
  /** The model that pre-reviews items, if any. */
  prereview?: string | null;
};

/** A model's first opinion on an item (machine pre-review): shown to reviewers, never counted as a vote. */
export type MachineOpinionView = {
  model: string;
  status: 'pending' | 'done' | 'failed';
  verdict: 'accept' | 'reject' | 'unclear' | null;
  /** The model's words, as it answered. */
  answer: string | null;
  /** Why it failed (no node, model missing...): the item stays in review. */
  reason: string | null;
  /** What the task cost the campaign's escrow. */
  cost: string | null;
  task_id: string | null;
};

/** One item the caller contributed, as `check-status` shows it. */
export type ItemStatusView = {
  id: string;
  sha256: string;
  kind: CampaignKind;
  format: string;
  size: number;
  name: string | null;
  state: ItemStateName;
  round: number;
  verdict: ReviewVerdict | null;
  agreement: number | null;
  reasons: string[];
  /** An accepted item's final label or rating, in label and rating campaigns. */
  label?: string;
  rating?: number;
  machine_opinion?: MachineOpinionView | null;
};

/** What became of one uploaded item: accepted with its id, or refused with a code and reason. */
export type UploadOutcomeView = {
  index: number;
  name: string | null;
  accepted: boolean;
  id?: string;
  sha256?: string;
  code?: string;
  reason?: string;
};
export type UploadView = { object: 'upload'; accepted: number; refused: number; items: UploadOutcomeView[] };

/** An item in a reviewer's batch: gold items look the same. Text items up to 256 KiB carry their text. */
export type BatchItemView = {
  id: string;
  kind: CampaignKind;
  format: string;
  size: number;
  sha256: string;
  metadata: unknown;
  text: string | null;
  machine_opinion?: MachineOpinionView | null;
};
export type DataBatchView = {
  object: 'data_batch';
  batch_id: string;
  campaign: string;
  kind: CampaignKind;
  instructions: string;
  schema: Record<string, unknown> | null;
  max_bytes: number;
  /** What to answer (the router always sends it; absent means accept/reject). */
  question?: QuestionView;
  lease_expires_at: number;
  items: BatchItemView[];
};

export const reviewResultsRequest = z
  .object({
    results: z
      .array(
        z
          .object({
            item_id: z.string().min(1).max(100),
            /** Optional where `label` or `rating` is given (it implies accept). */
            verdict: z.enum(['accept', 'reject']).optional(),
            /** Label campaigns: one of the campaign's labels. */
            label: z.string().min(1).max(100).optional(),
            /** Rating campaigns: a whole number on the campaign's scale. */
            rating: z.number().int().optional(),
            reasons: z.array(z.string().max(500)).max(20).optional(),
            /** Send the item to a second round whatever the votes. */
            flag: z.boolean().optional(),
          })
          .strict(),
      )
      .min(1)
      .max(500),
  })
  .strict();
export type ReviewResultRequest = z.input<typeof reviewResultsRequest>['results'][number];

export type ReviewSubmitView = {
  object: 'review_results';
  results: {
    item_id: string;
    status: 'recorded' | 'duplicate' | 'lease_expired' | 'not_assigned' | 'closed';
  }[];
  /** The reviewer lost its rights in this campaign (its accuracy fell below the floor). */
  revoked: boolean;
};

/** One line of an export's manifest.jsonl. */
export type ManifestLine = {
  sha256: string;
  file: string;
  kind: CampaignKind;
  format: string;
  size: number;
  metadata: unknown;
  contributor: string;
  verdict: { accept: number; reject: number; rounds: number };
  agreement: number;
  /** The final label or rating, in label and rating campaigns. */
  label?: string;
  rating?: number;
};
export type ExportView = {
  object: 'dataset';
  campaign: string;
  title: string;
  instructions: string;
  kind: CampaignKind;
  reviewers: number;
  threshold: number;
  question: QuestionView;
  items: ManifestLine[];
};

/**
 * A reviewer's standing in a campaign, for the reviewer itself: its estimated accuracy (whole percent, from its
 * answers whose truth is known), how much evidence that rests on, its votes, and whether it lost its rights.
 */
export type ReviewerStandingView = {
  object: 'reviewer_standing';
  campaign: string;
  reviewer: string;
  accuracy: number;
  evidence: number;
  min_evidence: number;
  accuracy_floor: number;
  votes: number;
  revoked: boolean;
};

/** A contributor on a data leaderboard: a pseudonym, its accepted items and what they earned (after the fee). */
export type ContributorRankView = {
  rank: number;
  contributor: string;
  accepted: number;
  earned: string;
  /** The caller's own row. */
  mine: boolean;
};
export type DataLeaderboardView = {
  object: 'data_leaderboard';
  /** The campaign ranked, or null for every campaign together. */
  campaign: string | null;
  contributors: ContributorRankView[];
};

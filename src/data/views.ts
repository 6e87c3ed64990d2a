import { formatAmount } from '../ledger/index.js';
import type {
  CampaignView,
  ExportView,
  ItemStateName,
  ItemStatusView,
  ManifestLine,
} from '../protocol/index.js';
import { type Campaigns, pricesOf } from './campaigns.js';
import { EXTENSIONS } from './magic.js';
import { questionOf, questionView } from './questions.js';
import { itemHold } from './rewards.js';
import type { CampaignRecord, ItemRecord } from './store.js';

const share = (ppm: number) => ppm / 1_000_000;

/** A campaign as the API shows it, with its items by state, escrow and revoked reviewers. */
export function campaignView(campaigns: Campaigns, c: CampaignRecord): CampaignView {
  const s = c.settings;
  const escrow = campaigns.ledger.escrows.get(c.id);
  const { gold: _gold, ...items } = campaigns.store.counts(c.id);
  // A closed campaign's escrow went back whole: nothing is held for items it will no longer decide.
  const undecided = c.status === 'closed' ? 0 : campaigns.store.undecided(c.id);
  const reserved = BigInt(undecided) * itemHold(pricesOf(s));
  return {
    id: c.id,
    object: 'campaign',
    owner: c.owner,
    status: c.status,
    title: s.title,
    instructions: s.instructions,
    kind: s.kind,
    schema: (s.schema as Record<string, unknown> | null) ?? null,
    max_bytes: s.maxBytes,
    reviewers: s.reviewers,
    second_round_reviewers: s.secondRound,
    reward: formatAmount(s.reward),
    review_reward: formatAmount(s.reviewReward),
    budget: formatAmount(s.budget),
    threshold: share(s.thresholdPpm),
    reviewer_stake: formatAmount(s.reviewerStake),
    accuracy_floor: share(s.accuracyFloorPpm),
    min_evidence: s.minEvidence,
    lease_seconds: s.leaseMs / 1000,
    batch_size: s.batchSize,
    gold_share: share(s.goldSharePpm),
    deadline: s.deadline,
    question: questionView(questionOf(s)),
    created_at: c.createdAt,
    closed_at: c.closedAt,
    items,
    votes: campaigns.reviews.voteCount(c.id),
    escrow: {
      balance: formatAmount(escrow?.balance ?? 0n),
      held: formatAmount(reserved),
      available: formatAmount((escrow?.available ?? 0n) - reserved),
    },
    revoked: campaigns.reviews
      .revoked(c.id)
      .map((r) => ({ reviewer: r.reviewer, accuracy: share(r.accuracyPpm) })),
    prereview: s.prereview?.model ?? null,
  };
}

/** An accepted item's final label or rating, as views carry it: only the fields that are set. */
const finalValue = (f: { label: string | null; rating: number | null } | undefined) => ({
  ...(f?.label != null ? { label: f.label } : {}),
  ...(f?.rating != null ? { rating: f.rating } : {}),
});

/** One of the caller's items, as `check-status` shows it, with its final label or rating when it has one. */
export const itemStatusView = (
  i: ItemRecord,
  final?: { label: string | null; rating: number | null },
): ItemStatusView => ({
  id: i.id,
  sha256: i.sha256,
  kind: i.kind,
  format: i.format,
  size: i.size,
  name: i.name,
  state: i.state as ItemStateName,
  round: i.round,
  verdict: i.verdict,
  agreement: i.agreementPpm === null ? null : share(i.agreementPpm),
  reasons: i.reasons,
  ...finalValue(final),
});

/** The file name an exported item gets: its hash and its format's extension. */
export const exportFile = (i: ItemRecord) => `items/${i.sha256}.${EXTENSIONS[i.format] ?? 'bin'}`;

/**
 * The accepted items of a campaign in sha256 order with their verdict summaries and pseudonymous
 * contributors: the same campaign state gives the same manifest, byte for byte.
 */
export function exportView(campaigns: Campaigns, c: CampaignRecord): ExportView {
  const items = campaigns.store
    .items(c.id, { states: ['accepted'] })
    .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const lines: ManifestLine[] = items.map((i) => {
    const votes = campaigns.reviews.countedVotes(i);
    return {
      sha256: i.sha256,
      file: exportFile(i),
      kind: i.kind,
      format: i.format,
      size: i.size,
      metadata: i.metadata ?? null,
      contributor: campaigns.pseudonym(c, i.contributor),
      verdict: {
        accept: votes.filter((v) => v.verdict === 'accept').length,
        reject: votes.filter((v) => v.verdict === 'reject').length,
        rounds: i.round,
      },
      agreement: share(i.agreementPpm ?? 0),
      ...finalValue(campaigns.answers.final(i.id)),
    };
  });
  return {
    object: 'dataset',
    campaign: c.id,
    title: c.settings.title,
    instructions: c.settings.instructions,
    kind: c.settings.kind,
    reviewers: c.settings.reviewers,
    threshold: share(c.settings.thresholdPpm),
    question: questionView(questionOf(c.settings)),
    items: lines,
  };
}

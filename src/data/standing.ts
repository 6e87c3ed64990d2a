import type { ReviewerStandingView } from '../protocol/index.js';
import type { Campaigns } from './campaigns.js';
import { accuracy, evidence } from './consensus.js';
import { consensusOf } from './reviews.js';
import type { CampaignRecord } from './store.js';

/**
 * The caller's own standing as a reviewer. Accuracy is rounded to whole percent and changes only when a batch is
 * recorded or an item it voted on is decided, so it tells a reviewer how it is doing without naming which of
 * its answers were gold.
 */
export function standingView(
  campaigns: Campaigns,
  campaign: CampaignRecord,
  reviewer: string,
): ReviewerStandingView {
  const record = campaigns.reviews.record(campaign.id, reviewer);
  const votes = campaigns.reviews.db
    .prepare<[string, string], { n: number }>(
      'SELECT COUNT(*) AS n FROM campaign_votes WHERE campaign_id = ? AND reviewer = ?',
    )
    .get(campaign.id, reviewer);
  return {
    object: 'reviewer_standing',
    campaign: campaign.id,
    reviewer,
    accuracy: Math.round(accuracy(record, consensusOf(campaign)) * 100) / 100,
    evidence: evidence(record),
    min_evidence: campaign.settings.minEvidence,
    accuracy_floor: campaign.settings.accuracyFloorPpm / 1_000_000,
    votes: votes?.n ?? 0,
    revoked: campaigns.reviews.isRevoked(campaign.id, reviewer),
  };
}

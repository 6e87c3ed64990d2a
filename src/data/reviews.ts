import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type BatchItemView,
  type DataBatchView,
  ForbiddenError,
  parseBody,
  type ReviewSubmitView,
  reviewResultsRequest,
} from '../protocol/index.js';
import { decideAnswer } from './answer-consensus.js';
import { type Campaigns, pricesOf } from './campaigns.js';
import { accuracy, type ConsensusSettings, caught, defaultConsensus, evidence } from './consensus.js';
import { type Answer, agreeing, answersOf, questionOf, questionView } from './questions.js';
import { settleItem, slashKey } from './rewards.js';
import type { CampaignRecord, ItemRecord } from './store.js';

/** The consensus settings a campaign chose. */
export const consensusOf = (c: CampaignRecord): ConsensusSettings => ({
  thresholdPpm: c.settings.thresholdPpm,
  priorCorrect: defaultConsensus.priorCorrect,
  priorWrong: defaultConsensus.priorWrong,
  accuracyFloorPpm: c.settings.accuracyFloorPpm,
  minEvidence: c.settings.minEvidence,
});

const INLINE_TEXT_BYTES = 256 * 1024;

/** Fisher-Yates with the crypto generator: gold items must not sit anywhere a reviewer could learn. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function batchItem(campaigns: Campaigns, item: ItemRecord): BatchItemView {
  // Text comes inline up to a size a terminal or a page can show; longer items are fetched as content.
  const textual = (item.kind === 'text' || item.kind === 'jsonl') && item.size <= INLINE_TEXT_BYTES;
  return {
    id: item.id,
    kind: item.kind,
    format: item.format,
    size: item.size,
    sha256: item.sha256,
    metadata: item.metadata,
    text: textual ? readFileSync(campaigns.blobs.pathOf(item.sha256), 'utf8') : null,
  };
}

/** Throws unless `reviewer` may review in the campaign: not its owner, not revoked, staked enough. */
function checkReviewer(campaigns: Campaigns, campaign: CampaignRecord, reviewer: string): void {
  if (reviewer === campaign.owner)
    throw new ForbiddenError(
      "A campaign's owner does not review it (the owner knows its gold answers).",
      'campaign',
    );
  if (campaigns.reviews.isRevoked(campaign.id, reviewer))
    throw new ForbiddenError(
      `${reviewer} lost its reviewing rights in ${campaign.id}: its estimated accuracy fell below the floor.`,
      'campaign',
    );
  const bonded = campaigns.ledger.staking.get(reviewer).bonded;
  if (bonded < campaign.settings.reviewerStake)
    throw new ForbiddenError(
      `Reviewing ${campaign.id} needs ${campaign.settings.reviewerStake} units staked on your own address (stake --node ${reviewer}); you have ${bonded}.`,
      'stake',
    );
}

/**
 * Leases a batch to a reviewer: items still short of reviewers in their round, never the reviewer's own nor
 * those of an account sharing its payout wallet, with unseen gold items mixed in at random places. A lease
 * not answered before it ends frees its slot for another reviewer.
 */
export function leaseBatch(
  campaigns: Campaigns,
  campaignId: string,
  reviewer: string,
  size?: number,
): DataBatchView {
  const campaign = campaigns.open(campaignId);
  checkReviewer(campaigns, campaign, reviewer);
  const s = campaign.settings;
  const want = Math.min(size ?? s.batchSize, 500);
  const now = campaigns.now();
  const wallet = campaigns.walletOf(reviewer);
  const real = campaigns.store
    .openFor(campaign.id, reviewer, now, [s.reviewers, s.secondRound], want * 4)
    .filter((item) => campaigns.walletOf(item.contributor) !== wallet)
    .slice(0, want);
  // A reviewer without enough known answers yet qualifies: its batches carry the gold it still needs, so a
  // bad reviewer is judged on its first batch, before its votes can decide anything.
  const missing = s.minEvidence - evidence(campaigns.reviews.record(campaign.id, reviewer));
  const share = Math.max(1, Math.ceil((real.length * s.goldSharePpm) / 1_000_000));
  const goldWanted = real.length === 0 ? 0 : Math.max(share, missing);
  const gold = campaigns.store.unseenGold(campaign.id, reviewer, goldWanted);
  const items = shuffle([...real, ...gold]);
  const batchId = `dbatch_${randomBytes(8).toString('hex')}`;
  const until = now + s.leaseMs;
  campaigns.atomically(() => {
    for (const item of items) {
      campaigns.reviews.assign({ item, reviewer, batch: batchId, until });
      if (item.state === 'received') campaigns.store.setState(item.id, 'in_review', 1);
    }
  });
  return {
    object: 'data_batch',
    batch_id: batchId,
    campaign: campaign.id,
    kind: s.kind,
    instructions: s.instructions,
    schema: (s.schema as Record<string, unknown> | null) ?? null,
    max_bytes: s.maxBytes,
    question: questionView(questionOf(s)),
    lease_expires_at: until,
    items: items.map((item) => batchItem(campaigns, item)),
  };
}

/** The item's verdict if its round is complete: second round, or decided and paid. */
function evaluate(
  campaigns: Campaigns,
  campaign: CampaignRecord,
  itemId: string,
  touched: Set<string>,
): void {
  const item = campaigns.store.item(itemId);
  if (!item || !['in_review', 'second_round'].includes(item.state)) return;
  const votes = campaigns.reviews.countedVotes(item);
  const settings = consensusOf(campaign);
  const question = questionOf(campaign.settings);
  const values = campaigns.answers.votes(item.id);
  const weighted = votes.map((v) => ({
    answer: { verdict: v.verdict, label: null, rating: null, ...values.get(v.reviewer) },
    accuracy: accuracy(campaigns.reviews.record(campaign.id, v.reviewer), settings),
  }));
  const decision = decideAnswer(question, {
    votes: weighted,
    round: item.round,
    votesThisRound: votes.filter((v) => v.round === item.round).length,
    needed: item.round === 1 ? campaign.settings.reviewers : campaign.settings.secondRound,
    flagged: votes.some((v) => v.round === 1 && v.flagged),
    thresholdPpm: settings.thresholdPpm,
  });
  const reasons = [...new Set(votes.flatMap((v) => v.reasons))];
  if (decision.outcome === 'second_round') {
    campaigns.store.setState(item.id, 'second_round', 2, reasons);
    return;
  }
  if (decision.outcome !== 'decided') return;
  const { answer } = decision;
  campaigns.store.decideItem({
    item: item.id,
    verdict: answer.verdict,
    agreementPpm: decision.agreementPpm,
    reasons:
      answer.verdict === 'accept'
        ? []
        : decision.consensus
          ? reasons
          : [...reasons, 'no consensus after the second round'],
    at: campaigns.now(),
  });
  campaigns.answers.setFinal(item.id, answer);
  settleItem(campaigns.ledger, {
    campaign: campaign.id,
    item: item.id,
    contributor: item.contributor,
    accepted: answer.verdict === 'accept',
    agreeing: agreeing(question, votes, values, answer),
    prices: pricesOf(campaign.settings),
  });
  for (const v of votes) touched.add(v.reviewer);
}

/** Revokes and slashes a reviewer whose record fell below the campaign's floor. */
function judgeReviewer(campaigns: Campaigns, campaign: CampaignRecord, reviewer: string): boolean {
  if (campaigns.reviews.isRevoked(campaign.id, reviewer)) return true;
  const settings = consensusOf(campaign);
  const record = campaigns.reviews.record(campaign.id, reviewer);
  if (!caught(record, settings)) return false;
  campaigns.reviews.revoke(
    campaign.id,
    reviewer,
    Math.round(accuracy(record, settings) * 1_000_000),
    campaigns.now(),
  );
  campaigns.reviews.dropAssignments(campaign.id, reviewer);
  campaigns.ledger.staking.slash({
    node: reviewer,
    key: slashKey(campaign.id, reviewer),
    reference: `campaign:${campaign.id}`,
  });
  return true;
}

/**
 * Records a reviewer's verdicts (each vote once; a vote sent again is `duplicate`), decides the items whose
 * round is complete, pays them, and revokes reviewers the new evidence shows below the floor: all in one
 * transaction with the ledger's bookings, so a crash keeps every recorded vote and its payments together.
 */
export function submitResults(
  campaigns: Campaigns,
  campaignId: string,
  reviewer: string,
  body: unknown,
): ReviewSubmitView {
  const { results } = parseBody(reviewResultsRequest, body);
  const campaign = campaigns.get(campaignId);
  // Every answer is checked before any is recorded: a wrong one is a 400 naming its field, and the votes of
  // earlier requests stay as they were.
  const answers = answersOf(questionOf(campaign.settings), results);
  const now = campaigns.now();
  const statuses: ReviewSubmitView['results'] = [];
  let revoked = false;
  campaigns.atomically(() => {
    const touched = new Set<string>([reviewer]);
    const items = new Set<string>();
    const closed = campaign.status !== 'open';
    const isRevoked = campaigns.reviews.isRevoked(campaign.id, reviewer);
    for (const [n, r] of results.entries()) {
      const assignment = campaigns.reviews.assignment(r.item_id, reviewer);
      const item = assignment && campaigns.store.item(r.item_id);
      if (!assignment || !item || item.campaignId !== campaign.id || isRevoked) {
        statuses.push({ item_id: r.item_id, status: 'not_assigned' });
      } else if (assignment.voted) {
        statuses.push({ item_id: r.item_id, status: 'duplicate' });
      } else if (closed) {
        statuses.push({ item_id: r.item_id, status: 'closed' });
      } else if (assignment.leasedUntil <= now) {
        statuses.push({ item_id: r.item_id, status: 'lease_expired' });
      } else {
        const answer = answers[n] as Answer;
        campaigns.reviews.insertVote(campaign.id, {
          itemId: item.id,
          reviewer,
          round: assignment.round === 2 ? 2 : 1,
          verdict: answer.verdict,
          flagged: r.flag === true,
          reasons: r.reasons ?? [],
          at: now,
        });
        campaigns.answers.setVote(item.id, reviewer, answer);
        items.add(item.id);
        statuses.push({ item_id: r.item_id, status: 'recorded' });
      }
    }
    // The submitter first: its gold answers are known now, and a reviewer caught by them must not decide
    // the items it voted on in the same batch.
    revoked = judgeReviewer(campaigns, campaign, reviewer);
    for (const id of items) evaluate(campaigns, campaign, id, touched);
    for (const who of touched) {
      const out = judgeReviewer(campaigns, campaign, who);
      if (who === reviewer) revoked = out;
    }
  });
  return { object: 'review_results', results: statuses, revoked };
}

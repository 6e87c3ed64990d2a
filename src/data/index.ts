/**
 * Data campaigns (issue 12; docs/data.md): requesters escrow a budget, contributors upload items (streamed,
 * content-addressed, checked by magic bytes, size and schema), reviewers vote on leased batches with gold
 * items mixed in, a one-coin Dawid-Skene consensus decides (a second round when unsure), and the ledger pays
 * contributors and agreeing reviewers from the escrow. The router wires `Campaigns` in server.ts and serves
 * it from src/router/api/campaign-routes.ts.
 */
export { CampaignClosedError, Campaigns, type DataComponents, pricesOf } from './campaigns.js';
export {
  acceptProbability,
  accuracy,
  type ConsensusSettings,
  caught,
  decide,
  defaultConsensus,
  emptyRecord,
  evidence,
  majority,
  type ReviewerRecord,
  type Verdict,
  weight,
} from './consensus.js';
export { uploadLines } from './jsonl.js';
export { contributorLeaderboard } from './leaderboard.js';
export { DATA_KINDS, type DataKind, kindOf, sniff, Utf8Check, validUtf8 } from './magic.js';
export { type OpinionVerdict, PreReviewStore } from './prereview.js';
export { leaseBatch, submitResults } from './reviews.js';
export { afterFee, type CampaignPrices, itemHold } from './rewards.js';
export { type JsonSchema, schemaError, schemaProblem } from './schema.js';
export { standingView } from './standing.js';
export type { CampaignRecord, CampaignSettings, ItemRecord, ItemState } from './store.js';
export { uploadFile } from './uploads.js';
export { campaignView, exportView, itemStatusView } from './views.js';

import { type Ledger, PPM } from '../ledger/index.js';

/**
 * A campaign's money, all through the ledger (docs/data.md). The budget is the escrow `escrow:<campaign id>`;
 * each accepted upload holds the most its item can cost (its reward and a review fee for every reviewer of
 * both rounds), so uploads can never promise more than the budget; a decided item releases its hold and pays,
 * once per key; closing refunds what no hold reserves.
 */
export type CampaignPrices = {
  /** Paid to the contributor per accepted item. */
  reward: bigint;
  /** Paid to a reviewer per review that agrees with the final verdict. */
  reviewReward: bigint;
  /** Reviewers per item in the first round, and how many more the second round adds. */
  reviewers: number;
  secondRound: number;
};

/** What one item may cost at most: its reward and a review fee for each reviewer of both rounds. */
export function itemHold(p: CampaignPrices): bigint {
  return p.reward + BigInt(p.reviewers + p.secondRound) * p.reviewReward;
}

/** What a payee receives of `amount` after the platform fee (rounded down, as every ledger payment). */
export function afterFee(amount: bigint, feePpm: bigint): bigint {
  return amount - (amount * feePpm) / PPM;
}

export const rewardKey = (campaign: string, item: string) => `campaign:${campaign}:item:${item}:reward`;
export const reviewKey = (campaign: string, item: string, reviewer: string) =>
  `campaign:${campaign}:item:${item}:review:${reviewer}`;
export const slashKey = (campaign: string, reviewer: string) => `campaign:${campaign}:slash:${reviewer}`;
const holdOf = (item: string) => `item:${item}`;

/** Escrows a new campaign's budget from its owner (402 when the balance falls short). */
export function openBudget(ledger: Ledger, campaign: string, owner: string, budget: bigint): void {
  ledger.escrows.open({ session: campaign, owner, budget, key: `campaign:${campaign}:open` });
}

/** Holds an accepted upload's most cost; throws EscrowExhaustedError (402) when the budget cannot. */
export function holdItem(ledger: Ledger, campaign: string, item: string, prices: CampaignPrices): void {
  ledger.escrows.hold({ session: campaign, hold: holdOf(item), amount: itemHold(prices) });
}

/** Gives an item's hold back to the budget (its campaign closed before it was decided). */
export function releaseItem(ledger: Ledger, campaign: string, item: string): void {
  ledger.escrows.release(campaign, holdOf(item));
}

export type Settlement = {
  campaign: string;
  item: string;
  contributor: string;
  /** Whether the item was accepted: only then is the contributor paid. */
  accepted: boolean;
  /** The reviewers whose counted vote matched the final verdict. */
  agreeing: string[];
  prices: CampaignPrices;
};

/**
 * Pays a decided item from the escrow: the contributor's reward if accepted, a review fee to each agreeing
 * reviewer. Each payment has its own key, so settling again (a retry, or recovery after a restart) pays
 * nothing twice. Synchronous: the released hold cannot be taken by another upload in between.
 */
export function settleItem(ledger: Ledger, s: Settlement): void {
  ledger.escrows.release(s.campaign, holdOf(s.item));
  const pay = (key: string, payee: string, amount: bigint) => {
    if (amount === 0n || ledger.entry(key)) return;
    ledger.escrows.charge({
      session: s.campaign,
      key,
      payee,
      inputTokens: 1,
      outputTokens: 0,
      price: { input: amount, output: 0n },
      reference: `campaign:${s.campaign}`,
    });
  };
  if (s.accepted) pay(rewardKey(s.campaign, s.item), s.contributor, s.prices.reward);
  for (const reviewer of s.agreeing)
    pay(reviewKey(s.campaign, s.item, reviewer), reviewer, s.prices.reviewReward);
}

/** Closes the campaign's escrow: what no hold reserves goes back to the owner. */
export function closeBudget(ledger: Ledger, campaign: string): void {
  ledger.escrows.close(campaign, { key: `campaign:${campaign}:close` });
}

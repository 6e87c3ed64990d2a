import { type Ledger, PPM } from '../ledger/index.js';
import { OmniError } from '../protocol/index.js';

/**
 * A campaign's money, all through the ledger (docs/data.md). The budget is the escrow `escrow:<campaign id>`.
 * Every undecided item reserves the most it can cost (its reward and a review fee for every reviewer of both
 * rounds), so uploads never promise more than the budget; a decided item pays, once per key; closing refunds
 * the rest. The reservation is the campaign's count of undecided items times that cost, checked in the same
 * transaction as the item's insert, rather than a ledger hold per item: the escrow's holds are written whole
 * with every change, which made a 10,000-line upload quadratic (56 items/s).
 */
export type CampaignPrices = {
  /** Paid to the contributor per accepted item. */
  reward: bigint;
  /** Paid to a reviewer per review that agrees with the final verdict. */
  reviewReward: bigint;
  /** Reviewers per item in the first round, and how many more the second round adds. */
  reviewers: number;
  secondRound: number;
  /** The most a machine pre-review task may cost (0 without one). */
  prereview?: bigint;
};

/** What one item may cost at most: its reward, a review fee for each reviewer of both rounds, its pre-review. */
export function itemHold(p: CampaignPrices): bigint {
  return p.reward + BigInt(p.reviewers + p.secondRound) * p.reviewReward + (p.prereview ?? 0n);
}

/** What a payee receives of `amount` after the platform fee (rounded down, as every ledger payment). */
export function afterFee(amount: bigint, feePpm: bigint): bigint {
  return amount - (amount * feePpm) / PPM;
}

export const rewardKey = (campaign: string, item: string) => `campaign:${campaign}:item:${item}:reward`;
export const reviewKey = (campaign: string, item: string, reviewer: string) =>
  `campaign:${campaign}:item:${item}:review:${reviewer}`;
export const slashKey = (campaign: string, reviewer: string) => `campaign:${campaign}:slash:${reviewer}`;

/** Escrows a new campaign's budget from its owner (402 when the balance falls short). */
export function openBudget(ledger: Ledger, campaign: string, owner: string, budget: bigint): void {
  ledger.escrows.open({ session: campaign, owner, budget, key: `campaign:${campaign}:open` });
}

/** A new item's reservation does not fit what the budget has left: the upload is refused. */
export class BudgetExhaustedError extends OmniError {
  override readonly name = 'BudgetExhaustedError';
  override readonly kind = 'payment_required';
  constructor(campaign: string) {
    super('budget_exhausted', `Campaign ${campaign}'s budget cannot pay for another item.`);
  }
}

/** Throws BudgetExhaustedError unless the escrow covers the undecided items and one more. */
export function reserveItem(
  ledger: Ledger,
  campaign: string,
  undecided: number,
  prices: CampaignPrices,
): void {
  const left = ledger.escrows.get(campaign)?.available ?? 0n;
  if (left < BigInt(undecided + 1) * itemHold(prices)) throw new BudgetExhaustedError(campaign);
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
 * nothing twice.
 */
export function settleItem(ledger: Ledger, s: Settlement): void {
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

/** Closes the campaign's escrow: what is left goes back to the owner. */
export function closeBudget(ledger: Ledger, campaign: string): void {
  ledger.escrows.close(campaign, { key: `campaign:${campaign}:close` });
}

import { afterEach, describe, expect, it } from 'vitest';
import { parseAmount } from '../ledger/index.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import type { Campaigns } from './campaigns.js';
import { uploadLines } from './jsonl.js';
import { contributorLeaderboard } from './leaderboard.js';
import { leaseBatch, submitResults } from './reviews.js';
import { afterFee } from './rewards.js';
import { campaignsOn } from './testing.js';
import { exportView } from './views.js';

const OWNER = address(1);
const ALICE = address(2);
const BOB = address(3);
const REVIEWER = address(100);
const FEE = 10_000n;

let fx: LedgerFixture;
afterEach(() => fx?.dispose());

/** One reviewer decides (threshold 0.75 against the prior's 0.8); it accepts everything but "spam". */
async function campaignWith(c: Campaigns, uploads: [string, string[]][]) {
  const campaign = c.create(OWNER, {
    title: 't',
    kind: 'text',
    reviewers: 1,
    second_round_reviewers: 1,
    threshold: 0.75,
    reward: '1',
    review_reward: '0',
    budget: '20',
  });
  for (const [who, texts] of uploads)
    await uploadLines(c, campaign.id, who, null, [
      Buffer.from(texts.map((text) => JSON.stringify({ text })).join('\n')),
    ]);
  const batch = leaseBatch(c, campaign.id, REVIEWER, 50);
  submitResults(c, campaign.id, REVIEWER, {
    results: batch.items.map((i) => ({
      item_id: i.id,
      verdict: i.text?.includes('spam') ? ('reject' as const) : ('accept' as const),
    })),
  });
  return campaign;
}

describe('contributor leaderboards', () => {
  it('ranks contributors by accepted items and earnings, per campaign and overall, by pseudonym', async () => {
    fx = new LedgerFixture({ feePpm: FEE, slashPpm: 0n });
    fx.ledger.genesis([{ account: OWNER, amount: parseAmount('100') }]);
    fx.ledger.flush();
    const c = campaignsOn(fx);
    const one = await campaignWith(c, [
      [ALICE, ['a', 'b', 'spam']],
      [BOB, ['c', 'd', 'e']],
    ]);
    const two = await campaignWith(c, [[ALICE, ['f', 'g']]]);

    const first = contributorLeaderboard(c, { campaign: one.id, caller: ALICE });
    const pay = (n: bigint) => (n * afterFee(parseAmount('1'), FEE)).toString();
    expect(first.contributors.map((r) => [r.rank, r.accepted, r.mine])).toEqual([
      [1, 3, false],
      [2, 2, true],
    ]);
    expect(first.contributors.map((r) => parseAmount(r.earned).toString())).toEqual([pay(3n), pay(2n)]);
    // A campaign's board names contributors as its export does.
    const exported = new Set(exportView(c, one).items.map((i) => i.contributor));
    expect(new Set(first.contributors.map((r) => r.contributor))).toEqual(exported);

    const overall = contributorLeaderboard(c, { campaign: null, caller: BOB });
    expect(overall.campaign).toBeNull();
    expect(overall.contributors.map((r) => [r.accepted, r.mine])).toEqual([
      [4, false],
      [3, true],
    ]);
    expect(parseAmount(overall.contributors[0]?.earned ?? '0').toString()).toBe(pay(4n));
    // Overall names are stable, link to no campaign's names, and show no address.
    expect(contributorLeaderboard(c, { campaign: null, caller: null })).toEqual({
      ...overall,
      contributors: overall.contributors.map((r) => ({ ...r, mine: false })),
    });
    const names = JSON.stringify(overall);
    for (const r of first.contributors) expect(names).not.toContain(r.contributor);
    expect(names).not.toMatch(/0x[0-9a-f]{40}/i);
    expect(contributorLeaderboard(c, { campaign: two.id, caller: null }).contributors).toHaveLength(1);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { formatAmount } from '../ledger/index.js';
import type { DataLeaderboardView } from '../protocol/index.js';
import type { Campaigns } from './campaigns.js';
import { rewardKey } from './rewards.js';

/**
 * Contributor leaderboards (docs/data.md): accepted items and what they earned, per pseudonymous contributor,
 * in one campaign or in all. A campaign's board names contributors as its export does (the campaign's salt);
 * the overall board by a router-wide salt kept in SQLite, so its names link to no campaign's export and no
 * address. Earnings are read from the ledger's reward entries, after the platform fee.
 */
export function contributorLeaderboard(
  campaigns: Campaigns,
  p: { campaign: string | null; caller: string | null; limit?: number },
): DataLeaderboardView {
  const db = campaigns.store.db;
  const campaign = p.campaign === null ? null : campaigns.get(p.campaign);
  const rows = db
    .prepare<unknown[], { campaign_id: string; id: string; contributor: string }>(
      `SELECT campaign_id, id, contributor FROM campaign_items
       WHERE state = 'accepted' ${campaign ? 'AND campaign_id = ?' : ''}`,
    )
    .all(...(campaign ? [campaign.id] : []));
  const totals = new Map<string, { accepted: number; earned: bigint }>();
  for (const r of rows) {
    const paid =
      campaigns.ledger
        .entry(rewardKey(r.campaign_id, r.id))
        ?.postings.find((x) => x.account === r.contributor)?.amount ?? 0n;
    const t = totals.get(r.contributor) ?? { accepted: 0, earned: 0n };
    totals.set(r.contributor, { accepted: t.accepted + 1, earned: t.earned + paid });
  }
  const salt = campaign ? null : routerSalt(campaigns);
  const name = (account: string) =>
    campaign
      ? campaigns.pseudonym(campaign, account)
      : `contributor_${createHash('sha256').update(`${salt}:${account}`).digest('hex').slice(0, 16)}`;
  const ranked = [...totals]
    .map(([account, t]) => ({ account, contributor: name(account), ...t }))
    .sort(
      (a, b) =>
        b.accepted - a.accepted ||
        (b.earned > a.earned ? 1 : b.earned < a.earned ? -1 : 0) ||
        (a.contributor < b.contributor ? -1 : 1),
    )
    .slice(0, Math.min(Math.max(p.limit ?? 100, 1), 1000));
  return {
    object: 'data_leaderboard',
    campaign: campaign?.id ?? null,
    contributors: ranked.map((r, i) => ({
      rank: i + 1,
      contributor: r.contributor,
      accepted: r.accepted,
      earned: formatAmount(r.earned),
      mine: r.account === p.caller,
    })),
  };
}

/** The router-wide salt of the overall board's pseudonyms, made once. */
function routerSalt(campaigns: Campaigns): string {
  const db = campaigns.store.db;
  db.prepare('INSERT OR IGNORE INTO campaign_leaderboard_salt (id, salt) VALUES (1, ?)').run(
    randomBytes(16).toString('hex'),
  );
  return (db.prepare('SELECT salt FROM campaign_leaderboard_salt WHERE id = 1').get() as { salt: string })
    .salt;
}

import { useState } from 'preact/hooks';
import type { CampaignView, DataLeaderboardView } from '../../protocol/campaigns.js';
import { tokens } from '../format.js';
import { useApi, useSession } from '../hooks.js';
import { Problem, Select, Table } from '../parts.js';

const ALL = 'all campaigns';

/**
 * Data contributors ranked by accepted items and data earnings (issue 12; docs/data.md), by pseudonym, in one
 * campaign or all; the signed-in account's own row is marked. The route needs a key, as campaigns do.
 */
export function ContributorBoard() {
  const { credential } = useSession();
  const [campaign, setCampaign] = useState(ALL);
  const list = useApi<{ data: CampaignView[] }>(credential ? '/api/campaigns' : null);
  const ids = list.data?.data.map((c) => c.id) ?? [];
  const query = campaign === ALL ? '' : `?campaign=${encodeURIComponent(campaign)}`;
  const board = useApi<DataLeaderboardView>(credential ? `/api/data-leaderboard${query}` : null, 10_000);
  const title = (id: string) => list.data?.data.find((c) => c.id === id)?.title ?? id;
  return (
    <section data-testid="contributors">
      <h2>Data contributors</h2>
      {!credential && <p class="empty">Sign in on the Account page to see data contributors.</p>}
      {credential && (
        <div class="controls">
          <Select
            label="Campaign"
            name="campaign"
            value={campaign}
            options={[ALL, ...ids]}
            onChange={setCampaign}
          />
          {campaign !== ALL && <span class="label">{title(campaign)}</span>}
        </div>
      )}
      {board.error && <Problem error={board.error} what="data contributors" />}
      {board.data && board.data.contributors.length === 0 && <p class="empty">No accepted items yet.</p>}
      {board.data && board.data.contributors.length > 0 && (
        <Table head={['#', 'Contributor', 'Accepted items', 'Data earnings']}>
          {board.data.contributors.map((c) => (
            <tr key={c.contributor} class={c.mine ? 'mine' : ''}>
              <td>{c.rank}</td>
              <td>
                {c.contributor}
                {c.mine ? ' (you)' : ''}
              </td>
              <td>{c.accepted}</td>
              <td>{tokens(c.earned)} tokens</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

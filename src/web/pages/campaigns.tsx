import type { CampaignView, ItemStateName } from '../../protocol/campaigns.js';
import type { AccountView } from '../../protocol/views.js';
import { percent, short, time, tokens } from '../format.js';
import { useApi, useSession } from '../hooks.js';
import { Problem, Stat, Table } from '../parts.js';
import { questionText } from './review-answers.js';

const STATES: ItemStateName[] = ['received', 'in_review', 'second_round', 'accepted', 'rejected'];

const total = (c: CampaignView) => STATES.reduce((n, s) => n + (c.items[s] ?? 0), 0);

/** Whether the signed-in account may ask this campaign for a batch (the router checks stake too). */
const mayReview = (c: CampaignView, me: string | null) =>
  me !== null && c.status === 'open' && c.owner !== me && !c.revoked.some((r) => r.reviewer === me);

/** The signed-in account's address: the key's account, which the router knows. */
function useMe(): string | null {
  const { credential } = useSession();
  const me = useApi<AccountView>(credential ? '/api/accounts/me' : null);
  return credential?.account ?? me.data?.account ?? null;
}

/** Every campaign, with a link to review those the signed-in account may review. */
export function Campaigns() {
  const me = useMe();
  const list = useApi<{ data: CampaignView[] }>('/api/campaigns', 10_000);
  return (
    <section>
      <h1>Data campaigns</h1>
      {list.error && <Problem error={list.error} what="data campaigns" />}
      {list.data && list.data.data.length === 0 && (
        <p class="empty">No campaign yet. Open one with `otensor-cli campaign create`.</p>
      )}
      {list.data && list.data.data.length > 0 && (
        <Table head={['Campaign', 'Kind', 'Status', 'Items', 'Accepted', 'Votes', '']}>
          {list.data.data.map((c) => (
            <tr key={c.id} data-campaign={c.id}>
              <td>
                <a href={`#/campaign/${c.id}`}>{c.title}</a>
              </td>
              <td>{c.kind}</td>
              <td>{c.status}</td>
              <td>{total(c)}</td>
              <td>{c.items.accepted ?? 0}</td>
              <td>{c.votes}</td>
              <td>
                {mayReview(c, me) && <a href={`#/review/${c.id}`}>Review</a>}
                {c.owner === me && <span class="badge">yours</span>}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

/** One campaign's progress: its items by state, votes, escrow and the reviewers it revoked. */
export function Campaign({ id }: { id: string }) {
  const me = useMe();
  const loaded = useApi<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}`, 5000);
  const c = loaded.data;
  const count = c ? total(c) : 0;
  return (
    <section>
      <h1>{c ? c.title : 'Campaign'}</h1>
      {loaded.error && <Problem error={loaded.error} what="this campaign" />}
      {c && (
        <>
          <p class="label">
            <span class="mono">{c.id}</span> · {c.kind} · {c.status} · {c.reviewers}{' '}
            {c.reviewers === 1 ? 'reviewer' : 'reviewers'} an item · asks {questionText(c.question)} · opened{' '}
            {time(c.created_at)}
            {c.owner === me ? ' · yours' : ` · by ${short(c.owner)}`}
          </p>
          {c.instructions && <p class="instructions">{c.instructions}</p>}
          <div class="stats" data-testid="progress">
            {STATES.map((s) => (
              <Stat key={s} label={s.replace('_', ' ')} value={c.items[s] ?? 0} />
            ))}
            <Stat label="Votes" value={c.votes} />
          </div>
          <div class="progress" title="Items by state">
            {STATES.map((s) =>
              (c.items[s] ?? 0) > 0 ? (
                <span key={s} class={s} style={{ flex: c.items[s] }} title={`${s}: ${c.items[s]}`} />
              ) : null,
            )}
            {count === 0 && <span class="none" style={{ flex: 1 }} />}
          </div>
          <h2>Money</h2>
          <div class="stats">
            <Stat label="Budget" value={tokens(c.budget)} />
            <Stat label="In escrow" value={tokens(c.escrow.balance)} hint={`${tokens(c.escrow.held)} held`} />
            <Stat
              label="Reward an item"
              value={tokens(c.reward)}
              hint={`${tokens(c.review_reward)} a review`}
            />
            <Stat label="Threshold" value={percent(c.threshold)} />
          </div>
          <h2>Revoked reviewers</h2>
          {c.revoked.length === 0 ? (
            <p class="empty">None.</p>
          ) : (
            <Table head={['Reviewer', 'Accuracy when revoked']}>
              {c.revoked.map((r) => (
                <tr key={r.reviewer}>
                  <td class="mono">{r.reviewer}</td>
                  <td>{percent(r.accuracy)}</td>
                </tr>
              ))}
            </Table>
          )}
          {mayReview(c, me) && (
            <p>
              <a href={`#/review/${c.id}`}>Review this campaign</a>
            </p>
          )}
        </>
      )}
    </section>
  );
}

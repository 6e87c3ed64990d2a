import { useState } from 'preact/hooks';
import type { AccountView, EntriesPage, ListView, WithdrawalView } from '../../protocol/views.js';
import { api } from '../api.js';
import { Chart } from '../chart.js';
import { time, tokens } from '../format.js';
import { useApi, useSession } from '../hooks.js';
import { NodeLink, Problem, Stat, Table } from '../parts.js';
import { browserWallet, walletLogin } from '../wallet.js';

/** Sign in with an API key (kept in this browser only) or a wallet's signature. */
function SignIn() {
  const { setCredential } = useSession();
  const [key, setKey] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const wallet = browserWallet();
  const useKey = async (event: Event) => {
    event.preventDefault();
    setFailure(null);
    try {
      // Checked once against the router, so a typo is told now rather than on every page.
      await api('/v1/models', key.trim());
      setCredential({ key: key.trim(), account: null, via: 'key' });
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    }
  };
  const useWallet = async () => {
    setFailure(null);
    try {
      if (wallet) setCredential(await walletLogin(wallet));
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <div class="signin">
      <form onSubmit={useKey}>
        <label>
          API key or login token
          <input
            name="api_key"
            type="password"
            autoComplete="off"
            placeholder="ot-…"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={!key.trim()}>
          Use this key
        </button>
        <p class="hint">Kept in this browser only (local storage); sent to this router and nowhere else.</p>
      </form>
      <div>
        <button type="button" onClick={useWallet} disabled={!wallet}>
          Sign in with wallet
        </button>
        <p class="hint">
          {wallet
            ? 'Your wallet signs a login challenge (EIP-191), as `otensor-cli login` does; no tokens move.'
            : 'No browser wallet found. Use `otensor-cli login` and paste its token, or an API key.'}
        </p>
      </div>
      {failure && <p class="error">{failure}</p>}
    </div>
  );
}

/** Entries listed at first, and added by each "show more" (of the latest 100 fetched). */
const ENTRIES_SHOWN = 15;

/** Walks back from the balance now through the entries (newest first) to the balance after each. */
function balanceSeries(balance: string, entries: EntriesPage['data']): [number[], number[]] {
  let after = Number(balance);
  const at: number[] = [];
  const values: number[] = [];
  for (const e of entries) {
    at.unshift(e.at);
    values.unshift(after);
    after -= Number(e.amount);
  }
  return [at, values];
}

export function Account() {
  const { credential, setCredential } = useSession();
  const [shown, setShown] = useState(ENTRIES_SHOWN);
  const account = useApi<AccountView>(credential ? '/api/accounts/me' : null, 5000);
  const entries = useApi<EntriesPage>(credential ? '/api/accounts/me/entries?limit=100' : null, 5000);
  const withdrawals = useApi<ListView<WithdrawalView>>(
    credential ? '/api/withdrawals?limit=50' : null,
    10_000,
  );
  if (!credential)
    return (
      <section>
        <h1>Account</h1>
        <SignIn />
      </section>
    );
  const signOut = async () => {
    if (credential.via === 'wallet')
      await api('/api/auth/logout', credential.key, { body: {} }).catch(() => {});
    setCredential(null);
  };
  const a = account.data;
  const [at, balances] = a && entries.data ? balanceSeries(a.balance, entries.data.data) : [[], []];
  return (
    <section>
      <div class="row spread">
        <h1>Account</h1>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </div>
      {account.error && <Problem error={account.error} what="this account" />}
      {a && (
        <>
          <p class="mono">{a.account}</p>
          <div class="stats" data-testid="account">
            <Stat label="Balance" value={tokens(a.balance)} />
            <Stat label="Staked" value={tokens(a.staked)} />
            <Stat label="In escrow" value={tokens(a.escrowed)} />
            <Stat label="Pending withdrawals" value={tokens(a.pending_withdrawals)} />
            <Stat
              label="Earned this epoch"
              value={tokens(a.earned_this_epoch)}
              hint={`epoch ${a.epoch ?? '—'}`}
            />
          </div>
          <Chart title="Balance" data={[at, balances]} series={[{ label: 'balance', color: '#3b82f6' }]} />
          <h2>Rewards</h2>
          {(a.rewards ?? []).length === 0 ? (
            <p class="empty">No rewards yet: they are paid to nodes' owners when an epoch closes.</p>
          ) : (
            <Table head={['Epoch', 'Node', 'Tasks', 'Amount']}>
              {(a.rewards ?? []).map((r) => (
                <tr key={`${r.epoch}-${r.node}`}>
                  <td>{r.epoch}</td>
                  <td>
                    <NodeLink id={r.node} />
                  </td>
                  <td>{r.inputs.tasks}</td>
                  <td>{tokens(r.amount)}</td>
                </tr>
              ))}
            </Table>
          )}
          <h2>Stakes</h2>
          {(a.stakes ?? []).length === 0 ? (
            <p class="empty">No stakes. Stake on your node with `otensor-cli stake NODE AMOUNT`.</p>
          ) : (
            <Table head={['Node', 'Bonded', 'Unbonding', 'Meets minimum']}>
              {(a.stakes ?? []).map((s) => (
                <tr key={s.node}>
                  <td>
                    <NodeLink id={s.node} />
                  </td>
                  <td>{tokens(s.bonded)}</td>
                  <td>{tokens(s.unbonding)}</td>
                  <td>{s.meets_minimum ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </Table>
          )}
        </>
      )}
      <h2>Entries</h2>
      {entries.data && entries.data.data.length === 0 && <p class="empty">No entries yet.</p>}
      {entries.data && entries.data.data.length > 0 && (
        <Table head={['#', 'When', 'What', 'Reference', 'Amount']}>
          {entries.data.data.slice(0, shown).map((e) => (
            <tr key={e.seq} data-reason={e.reason}>
              <td>{e.seq}</td>
              <td>{time(e.at)}</td>
              <td>{e.reason}</td>
              <td class="mono" title={e.reference ?? ''}>
                {e.reference?.split('.').at(-1) ?? ''}
              </td>
              <td class={e.amount.startsWith('-') ? 'out' : 'in'}>{tokens(e.amount)}</td>
            </tr>
          ))}
        </Table>
      )}
      {entries.data && entries.data.data.length > shown && (
        <button type="button" class="secondary more" onClick={() => setShown(shown + ENTRIES_SHOWN)}>
          Show more entries
        </button>
      )}
      <h2>Withdrawals</h2>
      {withdrawals.data && withdrawals.data.data.length === 0 && <p class="empty">No withdrawals.</p>}
      {withdrawals.data && withdrawals.data.data.length > 0 && (
        <Table head={['When', 'Amount', 'To', 'Status']}>
          {withdrawals.data.data.map((w) => (
            <tr key={w.id}>
              <td>{time(w.created_at)}</td>
              <td>{tokens(w.amount)}</td>
              <td class="mono">{w.to}</td>
              <td>{w.status}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

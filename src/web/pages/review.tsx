import { useEffect, useRef, useState } from 'preact/hooks';
import type {
  CampaignView,
  DataBatchView,
  ReviewerStandingView,
  ReviewSubmitView,
} from '../../protocol/campaigns.js';
import { ApiError, api } from '../api.js';
import { percent, time } from '../format.js';
import { useApi, useSession } from '../hooks.js';
import { Problem, Stat } from '../parts.js';
import { type Answer, answerText, keyAnswer, keysHelp, type Value, ValueButtons } from './review-answers.js';
import { ReviewItem } from './review-item.js';

const path = (id: string, rest = '') => `/api/campaigns/${encodeURIComponent(id)}${rest}`;

function Standing({ s }: { s: ReviewerStandingView }) {
  return (
    <div class="stats" data-testid="standing">
      <Stat
        label="Your accuracy"
        value={percent(s.accuracy)}
        hint={`floor ${percent(s.accuracy_floor)}${s.evidence === 0 ? ' · a prior, until judged' : ''}`}
      />
      <Stat label="Known answers" value={s.evidence} hint={`judged from ${s.min_evidence}`} />
      <Stat label="Your votes" value={s.votes} />
      <Stat label="Rights" value={s.revoked ? 'revoked' : 'reviewing'} />
    </div>
  );
}

/**
 * A batch one item at a time (issue 12): A accepts and R rejects (asking a reason) and move on, F flags the
 * item for a second round, the arrows move, S submits the answers given; label and rating campaigns take number
 * keys instead of A (review-answers.tsx). Media comes inline (review-item.tsx).
 */
export function Review({ id }: { id: string }) {
  const { credential } = useSession();
  const campaign = useApi<CampaignView>(path(id));
  const [standingAt, setStandingAt] = useState(0);
  const standing = useApi<ReviewerStandingView>(
    credential ? path(id, `/reviewers/me?at=${standingAt}`) : null,
  );
  const [batch, setBatch] = useState<DataBatchView | null>(null);
  const [at, setAt] = useState(0);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [submitted, setSubmitted] = useState<ReviewSubmitView | null>(null);
  const reasonInput = useRef<HTMLInputElement>(null);

  const items = batch?.items ?? [];
  const current = items[at];
  const question = batch?.question;
  const asksAccept = !question || question.type === 'accept';
  const answered = items.filter((i) => answers[i.id]).length;

  async function lease() {
    setBusy(true);
    setError(null);
    setSubmitted(null);
    try {
      const next = await api<DataBatchView>(path(id, '/batches'), credential?.key, { body: {} });
      setBatch(next);
      setAt(0);
      setAnswers({});
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function submit() {
    if (!batch || answered === 0 || busy) return;
    setBusy(true);
    setError(null);
    try {
      const results = batch.items
        .filter((i) => answers[i.id])
        .map((i) => {
          const a = answers[i.id] as Answer;
          const value =
            a.label !== undefined ? { label: a.label } : a.rating !== undefined ? { rating: a.rating } : {};
          return { item_id: i.id, verdict: a.verdict, ...value, reasons: a.reasons, flag: a.flag };
        });
      setSubmitted(await api<ReviewSubmitView>(path(id, '/reviews'), credential?.key, { body: { results } }));
      setBatch(null);
      setStandingAt(Date.now());
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  function answer(verdict: Answer['verdict'], reasons: string[] = [], value: Value | null = null) {
    if (!current) return;
    const flag = answers[current.id]?.flag ?? false;
    setAnswers({ ...answers, [current.id]: { verdict, ...value, reasons, flag } });
    setAt(Math.min(at + 1, items.length - 1));
  }

  function flag() {
    if (!current) return;
    const a = answers[current.id] ?? { verdict: 'reject', reasons: [], flag: false };
    setAnswers({ ...answers, [current.id]: { ...a, flag: !a.flag } });
  }

  // Keys act on the page, not while a field (the reason) has the focus.
  const keys = useRef<(e: KeyboardEvent) => void>(() => {});
  keys.current = (e: KeyboardEvent) => {
    if (!batch || asking || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement | null;
    if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
    const k = e.key.toLowerCase();
    const value = keyAnswer(question, k);
    if (value) answer('accept', [], value);
    else if (k === 'a' && asksAccept) answer('accept');
    else if (k === 'r') {
      setReason('');
      setAsking(true);
    } else if (k === 'f') flag();
    else if (k === 'arrowright' || k === 'j') setAt(Math.min(at + 1, items.length - 1));
    else if (k === 'arrowleft' || k === 'k') setAt(Math.max(at - 1, 0));
    else if (k === 's') void submit();
    else return;
    e.preventDefault();
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    addEventListener('keydown', listener);
    return () => removeEventListener('keydown', listener);
  }, []);
  useEffect(() => {
    if (asking) reasonInput.current?.focus();
  }, [asking]);

  if (!credential) return <p class="empty">Sign in on the Account page to review.</p>;
  const c = campaign.data;
  return (
    <section>
      <h1>Review{c ? `: ${c.title}` : ''}</h1>
      {campaign.error && <Problem error={campaign.error} what="this campaign" />}
      {c?.instructions && <p class="instructions">{c.instructions}</p>}
      {standing.data && <Standing s={standing.data} />}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {submitted && (
        <p class="notice" data-testid="submitted">
          {submitted.results.filter((r) => r.status === 'recorded').length} of {submitted.results.length}{' '}
          answers recorded.
          {submitted.revoked &&
            ' Your reviewing rights in this campaign were revoked: your accuracy fell below the floor.'}
        </p>
      )}
      {!batch && (
        <button type="button" onClick={lease} disabled={busy || c?.status !== 'open'}>
          {submitted ? 'Get the next batch' : 'Get a batch'}
        </button>
      )}
      {batch && items.length === 0 && <p class="empty">Nothing to review here right now.</p>}
      {batch && current && (
        <div class="review" data-testid="review">
          <div class="row spread">
            <strong data-testid="position">
              Item {at + 1} of {items.length}
            </strong>
            <span class="label">
              {answered} answered · lease ends {time(batch.lease_expires_at)}
            </span>
          </div>
          <ol class="dots">
            {items.map((i, n) => (
              <li key={i.id} class={`${answers[i.id]?.verdict ?? ''} ${n === at ? 'here' : ''}`}>
                <button type="button" class="secondary" onClick={() => setAt(n)} title={`Item ${n + 1}`}>
                  {n + 1}
                </button>
              </li>
            ))}
          </ol>
          <ReviewItem key={current.id} campaign={id} item={current} />
          {answers[current.id] && (
            <p class={`verdict ${answers[current.id]?.verdict}`} data-testid="verdict">
              {answerText(answers[current.id] as Answer)}
              {answers[current.id]?.reasons.length ? `: ${answers[current.id]?.reasons.join('; ')}` : ''}
              {answers[current.id]?.flag ? ' (flagged)' : ''}
            </p>
          )}
          {asking && (
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault();
                setAsking(false);
                answer('reject', reason.trim() ? [reason.trim()] : []);
              }}
            >
              <input
                ref={reasonInput}
                name="reason"
                placeholder="Why reject? (Enter to confirm, Escape to cancel)"
                value={reason}
                onInput={(e) => setReason((e.target as HTMLInputElement).value)}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') setAsking(false);
                }}
              />
            </form>
          )}
          <div class="row">
            {question && !asksAccept && (
              <ValueButtons question={question} pick={(v) => answer('accept', [], v)} />
            )}
            {asksAccept && (
              <button type="button" onClick={() => answer('accept')}>
                Accept (A)
              </button>
            )}
            <button type="button" class="danger" onClick={() => setAsking(true)}>
              Reject (R)
            </button>
            <button type="button" class="secondary" onClick={submit} disabled={busy || answered === 0}>
              Submit {answered} (S)
            </button>
          </div>
          <p class="label">{keysHelp(question)}</p>
        </div>
      )}
    </section>
  );
}

import type { QuestionView } from '../../protocol/campaigns.js';

/**
 * The answers a label or rating campaign asks for on the review page (docs/data.md): number keys pick a label
 * (1 for the first) or a rating (the number itself), buttons do the same; reject (R) and flag (F) stay as in
 * accept/reject campaigns.
 */
export type Answer = {
  verdict: 'accept' | 'reject';
  label?: string;
  rating?: number;
  reasons: string[];
  flag: boolean;
};

export type Value = { label: string } | { rating: number };

/** What a pressed key answers under the question, or null (accept/reject campaigns take no number keys). */
export function keyAnswer(q: QuestionView | undefined, key: string): Value | null {
  if (!q || q.type === 'accept' || !/^\d$/.test(key)) return null;
  const n = Number(key);
  if (q.type === 'label') {
    const label = q.labels[n - 1];
    return label === undefined ? null : { label };
  }
  return n >= q.scale.min && n <= q.scale.max ? { rating: n } : null;
}

/** The choices a question offers, each with its key where one fits (ratings outside 0-9 have none). */
function choices(q: QuestionView): { value: Value; text: string; key: string | null }[] {
  if (q.type === 'label')
    return q.labels.map((label, i) => ({ value: { label }, text: label, key: i < 9 ? String(i + 1) : null }));
  if (q.type === 'rating')
    return Array.from({ length: q.scale.max - q.scale.min + 1 }, (_, i) => q.scale.min + i).map((rating) => ({
      value: { rating },
      text: String(rating),
      key: rating >= 0 && rating <= 9 ? String(rating) : null,
    }));
  return [];
}

/** What a campaign asks, in a few words (the campaign page shows it beside the kind). */
export function questionText(q: QuestionView | undefined): string {
  if (!q || q.type === 'accept') return 'accept or reject';
  if (q.type === 'label') return `a label: ${q.labels.join(', ')}`;
  return `a rating from ${q.scale.min} to ${q.scale.max}`;
}

/** The keys line under the item. */
export function keysHelp(q: QuestionView | undefined): string {
  const moves = 'R reject (with a reason) · F flag for a second round · ← → move · S submit';
  if (!q || q.type === 'accept') return `A accept · ${moves}`;
  if (q.type === 'label') return `1-${Math.min(9, q.labels.length)} label · ${moves}`;
  return `${Math.max(0, q.scale.min)}-${Math.min(9, q.scale.max)} rating · ${moves}`;
}

/** How a given answer reads under the item. */
export function answerText(a: Answer): string {
  if (a.verdict === 'reject') return 'Rejected';
  if (a.label !== undefined) return `Labelled ${a.label}`;
  if (a.rating !== undefined) return `Rated ${a.rating}`;
  return 'Accepted';
}

/** One button per label or rating, for pointer users (placed in the page's row of answer buttons). */
export function ValueButtons({ question, pick }: { question: QuestionView; pick: (v: Value) => void }) {
  return (
    <>
      {choices(question).map((c) => (
        <button type="button" key={c.text} data-choice={c.text} onClick={() => pick(c.value)}>
          {c.text}
          {c.key === null ? '' : ` (${c.key})`}
        </button>
      ))}
    </>
  );
}

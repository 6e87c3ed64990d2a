import type { QuestionView } from '../sdk/index.js';

/**
 * The question a campaign asks, in the terminal (docs/data.md): how `campaign show` describes it, what
 * `review` prompts, and how a typed answer becomes a label or a rating.
 */

export function describeQuestion(q: QuestionView | undefined): string {
  if (!q || q.type === 'accept') return 'accept or reject, with reasons';
  if (q.type === 'label') return `a label: ${q.labels.join(', ')} (or reject)`;
  return `a rating from ${q.scale.min} to ${q.scale.max}, agreeing within ${q.scale.tolerance} (or reject)`;
}

/** The keys `review` offers for the question's answers (accept/reject's `a` is offered by the caller). */
export function answerKeys(q: QuestionView | undefined): string {
  if (!q || q.type === 'accept') return '[a]ccept';
  if (q.type === 'label') return q.labels.map((l, i) => `[${i + 1}] ${l}`).join(' ');
  return `[${q.scale.min}-${q.scale.max}] rating`;
}

/** A typed answer as a label or a rating (a label's number or its name), or null when it is neither. */
export function typedAnswer(
  q: QuestionView | undefined,
  typed: string,
): { label: string } | { rating: number } | null {
  if (!q || q.type === 'accept') return null;
  if (q.type === 'label') {
    const n = Number(typed);
    const label = Number.isInteger(n) && n >= 1 ? q.labels[n - 1] : q.labels.find((l) => l === typed);
    return label === undefined ? null : { label };
  }
  const r = Number(typed);
  return typed !== '' && Number.isInteger(r) && r >= q.scale.min && r <= q.scale.max ? { rating: r } : null;
}

/** `--question`, `--labels a,b,c` and `--scale MIN-MAX` (`--tolerance`) as the create request's fields. */
export function questionOptions(o: {
  question?: string;
  labels?: string;
  scale?: string;
  tolerance?: string;
}): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  // `--labels` alone means a label question and `--scale` alone a rating one.
  const question = o.question ?? (o.labels ? 'label' : o.scale ? 'rating' : undefined);
  if (question !== undefined) fields.question = question;
  if (o.labels !== undefined)
    fields.labels = o.labels
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean);
  if (o.scale !== undefined) {
    const m = /^(-?\d+)\s*(?:-|\.\.|,)\s*(-?\d+)$/.exec(o.scale.trim());
    if (!m) throw new Error(`--scale must be MIN-MAX in whole numbers, e.g. 1-5; got '${o.scale}'.`);
    const tolerance = o.tolerance === undefined ? undefined : Number(o.tolerance);
    if (tolerance !== undefined && !(tolerance >= 0))
      throw new Error(`--tolerance must be a number of 0 or more, got '${o.tolerance}'.`);
    fields.scale = {
      min: Number(m[1]),
      max: Number(m[2]),
      ...(tolerance === undefined ? {} : { tolerance }),
    };
  } else if (o.tolerance !== undefined) throw new Error('--tolerance goes with --scale.');
  return fields;
}

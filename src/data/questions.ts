import {
  type CreateCampaignRequest,
  InvalidParameterError,
  type QuestionView,
  type ReviewResultRequest,
} from '../protocol/index.js';
import type { Verdict } from './consensus.js';

/**
 * The question a campaign's reviewers answer (docs/data.md): accept/reject with reasons, a label from a fixed
 * set, or a rating on a scale of whole numbers. Every question keeps accept/reject underneath: a label or a
 * rating is an accept with that answer, and a reject still says the item does not belong in the dataset.
 */
export type Question =
  | { type: 'accept' }
  | { type: 'label'; labels: string[] }
  | { type: 'rating'; min: number; max: number; tolerance: number };

/** A reviewer's answer, or an item's known or final one: the verdict and, for an accept, its label or rating. */
export type Answer = { verdict: Verdict; label: string | null; rating: number | null };

const ACCEPT: Question = { type: 'accept' };

/** The question in a campaign's settings; campaigns made before questions existed ask accept/reject. */
export const questionOf = (s: { question?: Question }): Question => s.question ?? ACCEPT;

/** Reads the question from a create request: `question`, with `labels` or `scale`, each named when wrong. */
export function questionFromRequest(r: CreateCampaignRequest): Question {
  const type = r.question ?? 'accept';
  if (type !== 'label' && r.labels !== undefined)
    throw new InvalidParameterError('labels', "'labels' goes with question 'label'.");
  if (type !== 'rating' && r.scale !== undefined)
    throw new InvalidParameterError('scale', "'scale' goes with question 'rating'.");
  if (type === 'label') {
    const labels = r.labels;
    if (!labels)
      throw new InvalidParameterError('labels', "A 'label' question needs 'labels' (two or more).");
    if (new Set(labels).size !== labels.length)
      throw new InvalidParameterError('labels', 'Each label must appear once.');
    if (labels.includes('reject'))
      throw new InvalidParameterError(
        'labels',
        "'reject' is not a label: every question can reject an item.",
      );
    return { type, labels: [...labels] };
  }
  if (type === 'rating') {
    const scale = r.scale;
    if (!scale) throw new InvalidParameterError('scale', "A 'rating' question needs 'scale' ({min, max}).");
    if (scale.max <= scale.min || scale.max - scale.min > 100)
      throw new InvalidParameterError('scale', 'The scale needs min < max, at most 100 steps apart.');
    return { type, min: scale.min, max: scale.max, tolerance: scale.tolerance ?? 1 };
  }
  return ACCEPT;
}

/** The question as views show it. */
export function questionView(q: Question): QuestionView {
  if (q.type === 'label') return { type: 'label', labels: q.labels };
  if (q.type === 'rating')
    return { type: 'rating', scale: { min: q.min, max: q.max, tolerance: q.tolerance } };
  return { type: 'accept' };
}

type Given = { verdict?: Verdict | undefined; label?: string | undefined; rating?: number | undefined };

/**
 * A result's or gold item's answer checked against the question; `at` names the field (e.g. `results.2`).
 * (`verdictField` is its name there: gold items call it `answer`.) A label or a rating implies accept; accept/reject campaigns take neither; a reject carries neither.
 */
export function answerOf(q: Question, given: Given, at: string, verdictField = 'verdict'): Answer {
  const hasValue = given.label !== undefined || given.rating !== undefined;
  const verdict = given.verdict ?? (hasValue ? 'accept' : undefined);
  if (verdict === undefined)
    throw new InvalidParameterError(
      `${at}.${verdictField}`,
      q.type === 'accept'
        ? `'${at}.${verdictField}' is required: accept or reject.`
        : `'${at}' needs a ${q.type === 'label' ? 'label' : 'rating'} or the verdict reject.`,
    );
  if (q.type !== 'label' && given.label !== undefined)
    throw new InvalidParameterError(`${at}.label`, `This campaign asks ${describe(q)}, not a label.`);
  if (q.type !== 'rating' && given.rating !== undefined)
    throw new InvalidParameterError(`${at}.rating`, `This campaign asks ${describe(q)}, not a rating.`);
  if (verdict === 'reject') {
    if (hasValue)
      throw new InvalidParameterError(
        `${at}.${given.label !== undefined ? 'label' : 'rating'}`,
        'A reject carries no label or rating.',
      );
    return { verdict, label: null, rating: null };
  }
  if (q.type === 'label') {
    if (given.label === undefined || !q.labels.includes(given.label))
      throw new InvalidParameterError(`${at}.label`, `'${at}.label' must be one of ${q.labels.join(', ')}.`);
    return { verdict, label: given.label, rating: null };
  }
  if (q.type === 'rating') {
    const r = given.rating;
    if (r === undefined || !Number.isInteger(r) || r < q.min || r > q.max)
      throw new InvalidParameterError(
        `${at}.rating`,
        `'${at}.rating' must be a whole number from ${q.min} to ${q.max}.`,
      );
    return { verdict, label: null, rating: r };
  }
  return { verdict, label: null, rating: null };
}

/** Every result's answer, or a 400 naming the first wrong field: a request is recorded whole or not at all. */
export const answersOf = (q: Question, results: ReviewResultRequest[]): Answer[] =>
  results.map((r, i) => answerOf(q, r, `results.${i}`));

/** Whether a reviewer's answer agrees with an item's final one: same verdict, same label, rating within tolerance. */
export function agrees(q: Question, vote: Answer, final: Answer): boolean {
  if (vote.verdict !== final.verdict) return false;
  if (final.verdict === 'reject' || q.type === 'accept') return true;
  if (q.type === 'label') return vote.label === final.label;
  return vote.rating !== null && final.rating !== null && Math.abs(vote.rating - final.rating) <= q.tolerance;
}

function describe(q: Question): string {
  if (q.type === 'label') return `a label (${q.labels.join(', ')})`;
  if (q.type === 'rating') return `a rating from ${q.min} to ${q.max}`;
  return 'accept or reject';
}

/** The reviewers whose counted votes agree with an item's final answer: they are paid for their review. */
export function agreeing(
  q: Question,
  votes: { reviewer: string; verdict: Verdict }[],
  values: Map<string, { label: string | null; rating: number | null }>,
  final: Answer,
): string[] {
  return votes
    .filter((v) => {
      const value = values.get(v.reviewer);
      return agrees(
        q,
        { verdict: v.verdict, label: value?.label ?? null, rating: value?.rating ?? null },
        final,
      );
    })
    .map((v) => v.reviewer);
}

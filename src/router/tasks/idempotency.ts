import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { formatAmount } from '../../ledger/index.js';
import { IdempotencyKeyReusedError, InvalidParameterError } from '../../protocol/index.js';

/**
 * A client's Idempotency-Key is kept under this prefix (and the API key's id), so no value a client sends can
 * equal a key the router makes for itself: `check:<task>:...` for checks, `<batch>:<line>` for batch lines.
 */
export const CLIENT_KEY_PREFIX = 'client:';

/** Idempotency keys of the router's own check tasks start with this (clients' never can). */
export const CHECK_KEY_PREFIX = 'check:';

/** JSON with object keys sorted at every depth, so the same request always writes the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The task store's idempotency fields for an inference request: its key (client-prefixed) and the sha256 of
 * what it asks (method, path and canonical body), or nothing without an Idempotency-Key header.
 */
export function clientTaskKey(request: FastifyRequest): {
  idempotencyKey: string | null;
  requestSha256?: string;
} {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return { idempotencyKey: null };
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidParameterError(
      'Idempotency-Key',
      'The Idempotency-Key header must be 1 to 200 characters.',
    );
  }
  const asked = `${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`;
  return {
    idempotencyKey: `${CLIENT_KEY_PREFIX}${value}`,
    requestSha256: createHash('sha256').update(asked).digest('hex'),
  };
}

/** A task found under a client's key must have been asked for with the same request (tasks stored before
 * hashes were kept have none and are taken as the same). */
export function assertSameTaskRequest(
  existing: { id: string; idempotencyKey: string | null; requestSha256?: string },
  requestSha256: string | undefined,
): void {
  if (!existing.requestSha256 || !requestSha256 || existing.requestSha256 === requestSha256) return;
  const key = existing.idempotencyKey?.slice(CLIENT_KEY_PREFIX.length) ?? '';
  throw new IdempotencyKeyReusedError(
    `The Idempotency-Key '${key}' was already used for task ${existing.id}, with a different request (method, path or body). Send the same request to get its answer, or use a new key for a new request.`,
  );
}

type Posting = { account: string; amount: bigint };

/** Postings summed per account, zeros dropped, as the ledger books them. */
function merged(postings: readonly Posting[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const p of postings) {
    // Ledger accounts are lowercase (addresses too); a request may name one in mixed case.
    const account = p.account.toLowerCase();
    sums.set(account, (sums.get(account) ?? 0n) + p.amount);
  }
  for (const [account, amount] of sums) if (amount === 0n) sums.delete(account);
  return sums;
}

const describe = (reason: string, postings: Map<string, bigint>) =>
  `${reason} ${[...postings].map(([a, v]) => `${a} ${v > 0n ? '+' : '-'}${formatAmount(v < 0n ? -v : v)}`).join(', ') || '(nothing moved)'}`;

/**
 * A booking found under a client's key must be the one this request asks for. The booked entry is the stored
 * record of the first request, so it is compared to the postings this request would book (and `also`, the
 * request's fields postings do not hold, like a withdrawal's destination).
 */
export function assertSameBooking(
  request: FastifyRequest,
  booked: { duplicate: boolean; entry: { reason: string; postings: readonly Posting[] } },
  asked: { reason: string; postings: Posting[]; also?: { first: string; now: string } },
): void {
  const value = request.headers['idempotency-key'];
  if (!booked.duplicate || typeof value !== 'string') return;
  const first = merged(booked.entry.postings);
  const now = merged(asked.postings);
  const same =
    booked.entry.reason === asked.reason &&
    first.size === now.size &&
    [...first].every(([account, amount]) => now.get(account) === amount) &&
    (asked.also === undefined || asked.also.first === asked.also.now);
  if (same) return;
  const extra = (side: 'first' | 'now') => (asked.also ? ` to ${asked.also[side]}` : '');
  throw new IdempotencyKeyReusedError(
    `The Idempotency-Key '${value}' was already used for a different request: it booked ${describe(booked.entry.reason, first)}${extra('first')}, and this request asks for ${describe(asked.reason, now)}${extra('now')}. Send the same request to get its answer, or use a new key for a new request.`,
  );
}

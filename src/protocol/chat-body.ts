import type { ChatCompletionRequest } from './api.js';

/**
 * A chat completion body checked by hand, for the common shape (string contents): the schema
 * (`chatCompletionRequest`) cost ~0.2 ms a request on the router's cold request path, against ~7 us in a hot
 * loop. It accepts only what the schema accepts and returns what it returns (known fields checked, unknown
 * top-level ones kept, unknown ones in messages and stream_options dropped); undefined for anything else,
 * which then goes through the schema, so every error names its field as before.
 */
export function checkedChatBody(body: unknown): ChatCompletionRequest | undefined {
  // The schema drops an own `__proto__` key; such a body is left to it.
  if (!isObject(body) || Object.hasOwn(body, '__proto__')) return undefined;
  const b = body;
  if (typeof b.model !== 'string' || b.model.length < 1) return undefined;
  if (!optional(b.max_tokens, (v) => isInt(v) && v >= 1 && v <= 1_000_000)) return undefined;
  if (!optional(b.temperature, (v) => typeof v === 'number' && v >= 0 && v <= 2)) return undefined;
  if (!optional(b.top_p, (v) => typeof v === 'number' && v > 0 && v <= 1)) return undefined;
  if (!optional(b.seed, isInt)) return undefined;
  const stop = b.stop;
  if (!optional(stop, (v) => typeof v === 'string' || (isStrings(v) && v.length <= 4))) return undefined;
  if (!optional(b.stream, (v) => typeof v === 'boolean')) return undefined;
  const options = b.stream_options;
  if (
    !optional(
      options,
      (v) => isObject(v) && (v.include_usage === undefined || typeof v.include_usage === 'boolean'),
    )
  )
    return undefined;
  if (!optional(b.n, (v) => v === 1)) return undefined;
  if (b.user !== undefined && typeof b.user !== 'string') return undefined;
  if (!optional(b.validation, (v) => typeof v === 'string' && v.length <= 40)) return undefined;
  if (!optional(b.max_completion_tokens, (v) => isInt(v) && v >= 1)) return undefined;
  if (!Array.isArray(b.messages) || b.messages.length < 1) return undefined;
  const messages: ChatCompletionRequest['messages'] = [];
  for (const m of b.messages as unknown[]) {
    if (!isObject(m) || typeof m.content !== 'string' || !ROLES.has(m.role as string)) return undefined;
    if (m.name !== undefined && typeof m.name !== 'string') return undefined;
    messages.push({
      role: m.role as ChatCompletionRequest['messages'][number]['role'],
      content: m.content,
      ...(m.name === undefined ? {} : { name: m.name }),
    });
  }
  const checked: Record<string, unknown> = { ...b, messages };
  if (Array.isArray(stop)) checked.stop = [...stop];
  if (isObject(options))
    checked.stream_options =
      options.include_usage === undefined ? {} : { include_usage: options.include_usage };
  return checked as ChatCompletionRequest;
}

/** The top-level fields the hand check knows; a test holds it equal to the schema's, so neither drifts. */
export const CHECKED_CHAT_FIELDS = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'n',
  'user',
  'validation',
  'max_completion_tokens',
  'messages',
] as const;

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** A field the schema marks `.optional().nullable()`: absent, null, or passing `check`. */
const optional = (value: unknown, check: (v: unknown) => boolean) =>
  value === undefined || value === null || check(value);

import { describe, expect, it } from 'vitest';
import { chatCompletionRequest } from './api.js';
import { CHECKED_CHAT_FIELDS, checkedChatBody } from './chat-body.js';

const body = {
  model: 'tiny',
  messages: [{ role: 'user', content: 'Hello' }],
  max_tokens: 256,
  temperature: 0.8,
  seed: 3,
  stream: true,
  stream_options: { include_usage: true },
};
const withField = (field: string, value: unknown) => ({ ...body, [field]: value });
const withMessage = (message: unknown) => ({ ...body, messages: [message] });

// The hand check must accept only what the schema accepts and return exactly what it returns; what it does
// not take goes to the schema (so errors name their field as before), which these cases also show it does
// not take anything the schema refuses.
const cases: unknown[] = [
  body,
  { model: 'm', messages: [{ role: 'system', content: '' }] },
  { ...body, extra: { kept: true }, logprobs: false },
  withMessage({ role: 'developer', content: 'x', name: 'me', extra: 'dropped' }),
  withMessage({ role: 'assistant', content: 'x' }),
  withMessage({ role: 'tool', content: 'x' }),
  withMessage({ role: 'user', content: 5 }),
  withMessage({ role: 'user', content: null }),
  withMessage({ role: 'user', content: [{ type: 'text', text: 'a' }] }),
  withMessage({ role: 'user', content: 'x', name: 5 }),
  withMessage({ role: 'user' }),
  withMessage(null),
  withMessage('user: hi'),
  { ...body, messages: [] },
  { ...body, messages: 'hi' },
  { ...body, messages: undefined },
  withField('model', ''),
  withField('model', 5),
  withField('model', undefined),
  ...[1, 1_000_000, 0, 1_000_001, 2.5, '5', null].map((v) => withField('max_tokens', v)),
  ...[0, 2, 2.01, -0.1, 1.5, null, '1'].map((v) => withField('temperature', v)),
  ...[0, 1, 0.5, 1.01, null].map((v) => withField('top_p', v)),
  ...[-3, 0, 1.5, null, 2 ** 60, '1'].map((v) => withField('seed', v)),
  ...['\n', ['a', 'b'], [], ['a', 'b', 'c', 'd', 'e'], [1], null, 5].map((v) => withField('stop', v)),
  ...[false, null, 'true', 1].map((v) => withField('stream', v)),
  ...[{}, { include_usage: false, other: 1 }, { include_usage: 'yes' }, null, [], 'x'].map((v) =>
    withField('stream_options', v),
  ),
  ...[1, 2, null].map((v) => withField('n', v)),
  ...['u', null, 5].map((v) => withField('user', v)),
  ...['auto', 'x'.repeat(40), 'x'.repeat(41), null, 3].map((v) => withField('validation', v)),
  ...[1, 5_000_000, 0, 1.5, null].map((v) => withField('max_completion_tokens', v)),
  JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"a":1}}'),
  null,
  [],
  'body',
];

describe('checkedChatBody', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c]))('agrees with the schema on %s', (_, input) => {
    const fast = checkedChatBody(input);
    const schema = chatCompletionRequest.safeParse(input);
    if (fast === undefined) return;
    expect(schema.success).toBe(true);
    expect(fast).toStrictEqual(schema.data);
  });

  it('takes the usual bodies itself', () => {
    for (const input of [body, cases[1], cases[2], cases[3]]) expect(checkedChatBody(input)).toBeDefined();
    expect(checkedChatBody(withField('temperature', 3))).toBeUndefined();
  });
});

describe('the hand check and the schema', () => {
  it('know the same top-level fields: a field added to the schema cannot pass unchecked by hand', () => {
    expect([...CHECKED_CHAT_FIELDS].sort()).toEqual(Object.keys(chatCompletionRequest.shape).sort());
  });
});

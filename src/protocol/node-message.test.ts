import { describe, expect, it } from 'vitest';
import { nodeMessage } from './messages.js';
import { parseNodeMessage } from './node-message.js';

const chunk = { type: 'chunk', taskId: 'task_1', attempt: 1, seq: 0, text: 'Hello' };

// The hand check of text chunks must accept exactly what the schema accepts, return what it returns, and
// leave every rejection to the schema (so a node reads the same reason either way).
const cases: unknown[] = [
  chunk,
  { ...chunk, text: '' },
  { ...chunk, attempt: 7, seq: 12, taskId: 'x'.repeat(100) },
  { ...chunk, extra: 'dropped', nested: { a: 1 } },
  { ...chunk, taskId: '' },
  { ...chunk, taskId: 'x'.repeat(101) },
  { ...chunk, taskId: 5 },
  { ...chunk, attempt: 0 },
  { ...chunk, attempt: 1.5 },
  { ...chunk, attempt: '1' },
  { ...chunk, seq: -1 },
  { ...chunk, seq: 0.5 },
  { ...chunk, text: 3 },
  { type: 'chunk', taskId: 'task_1', attempt: 1, seq: 0 },
  { ...chunk, type: 'chunks' },
  [chunk],
  null,
  'chunk',
  { type: 'heartbeat', sentAt: 1, running: 0 },
];

describe('parseNodeMessage', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c]))('agrees with the schema on %s', (_, input) => {
    const fast = parseNodeMessage(input);
    const schema = nodeMessage.safeParse(input);
    expect(fast.success).toBe(schema.success);
    if (fast.success && schema.success) expect(fast.data).toStrictEqual(schema.data);
    else expect(fast.error?.issues).toEqual(schema.error?.issues);
  });

  it('drops unknown fields from a chunk, as the schema does', () => {
    const parsed = parseNodeMessage({ ...chunk, extra: 'dropped' });
    expect(parsed.success && Object.keys(parsed.data)).toEqual(['type', 'taskId', 'attempt', 'seq', 'text']);
  });
});

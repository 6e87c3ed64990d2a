import { describe, expect, it, vi } from 'vitest';
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
  ...resultCases(),
];

/** Text results (hand-checked) and their near misses, down to each field's bounds. */
function resultCases(): unknown[] {
  const output = { text: 'Hello there', promptTokens: 12, completionTokens: 3, finishReason: 'stop' };
  const result = {
    type: 'result',
    taskId: 'task_1',
    attempt: 1,
    modelSha256: 'a'.repeat(64),
    outputSha256: '0123456789abcdef'.repeat(4),
    nonce: '1700000000000000',
    output,
    signature: `0x${'aB'.repeat(64)}`,
  };
  const withOutput = (o: unknown) => ({ ...result, output: o });
  return [
    result,
    { ...result, extra: 1 },
    withOutput({ ...output, extra: 'dropped', toString: 'x' }),
    withOutput({ promptTokens: 0, completionTokens: 0 }),
    withOutput({ ...output, text: '' }),
    withOutput({ ...output, finishReason: 'length' }),
    withOutput({ ...output, finishReason: 'eos' }),
    withOutput({ ...output, finishReason: null }),
    withOutput({ ...output, text: null }),
    withOutput({ ...output, text: 5 }),
    withOutput({ ...output, promptTokens: -1 }),
    withOutput({ ...output, completionTokens: 1.5 }),
    withOutput({ ...output, completionTokens: '3' }),
    withOutput({ text: 'x', completionTokens: 1 }),
    withOutput({ ...output, embeddings: [[0.5, 1]] }),
    withOutput({ ...output, embeddings: 'no' }),
    withOutput({ ...output, scores: null }),
    withOutput(null),
    withOutput([output]),
    withOutput('text'),
    { ...result, taskId: '' },
    { ...result, taskId: 'x'.repeat(101) },
    { ...result, attempt: 0 },
    { ...result, attempt: 2.5 },
    { ...result, modelSha256: 'A'.repeat(64) },
    { ...result, modelSha256: 'a'.repeat(63) },
    { ...result, outputSha256: `${'a'.repeat(64)}\n` },
    { ...result, nonce: '' },
    { ...result, nonce: '1'.repeat(31) },
    { ...result, nonce: '12a' },
    { ...result, nonce: 12 },
    { ...result, signature: `0x${'a'.repeat(127)}` },
    { ...result, signature: 'a'.repeat(130) },
    { ...result, signature: `0x${'g'.repeat(128)}` },
    { ...result, type: 'results' },
  ];
}

describe('parseNodeMessage', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c]))('agrees with the schema on %s', (_, input) => {
    const fast = parseNodeMessage(input);
    const schema = nodeMessage.safeParse(input);
    expect(fast.success).toBe(schema.success);
    if (fast.success && schema.success) expect(fast.data).toStrictEqual(schema.data);
    else expect(fast.error?.issues).toEqual(schema.error?.issues);
  });

  it('takes chunks and text results without the schema, and leaves the rest to it', () => {
    const schema = vi.spyOn(nodeMessage, 'safeParse');
    const [result] = resultCases() as [Record<string, unknown>];
    expect(parseNodeMessage(chunk).success && parseNodeMessage(result).success).toBe(true);
    expect(schema).not.toHaveBeenCalled();
    parseNodeMessage({ ...result, output: { promptTokens: 1, completionTokens: 0, embeddings: [] } });
    expect(schema).toHaveBeenCalledTimes(1);
    schema.mockRestore();
  });

  it('drops unknown fields from a text result and its output, as the schema does', () => {
    const [result] = resultCases() as [Record<string, unknown>];
    const parsed = parseNodeMessage({ ...result, extra: 1, output: { ...(result.output as object), x: 2 } });
    expect(parsed.success && parsed.data).toStrictEqual(nodeMessage.parse(result));
  });

  it('drops unknown fields from a chunk, as the schema does', () => {
    const parsed = parseNodeMessage({ ...chunk, extra: 'dropped' });
    expect(parsed.success && Object.keys(parsed.data)).toEqual(['type', 'taskId', 'attempt', 'seq', 'text']);
  });
});

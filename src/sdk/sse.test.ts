import { expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { completionEvents } from './sse.js';

const streamOf = (...events: unknown[]) =>
  new Response(events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join(''));

async function read(response: Response) {
  const pieces: string[] = [];
  const events = completionEvents(response);
  for (;;) {
    const next = await events.next();
    if (next.done) return { pieces, usage: next.value };
    pieces.push(next.value);
  }
}

it('reads chat deltas and text pieces, and returns the usage sent before [DONE]', async () => {
  const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
  const read1 = await read(
    streamOf(
      { choices: [{ delta: { role: 'assistant', content: '' } }] },
      { choices: [{ delta: { content: 'Hel' } }] },
      { choices: [{ text: 'lo' }] },
      { choices: [], usage },
      '[DONE]',
    ),
  );
  expect(read1).toEqual({ pieces: ['Hel', 'lo'], usage });
});

it('throws an ApiError with the code and field of an error sent after the stream began', async () => {
  const error = await read(
    streamOf(
      { choices: [{ delta: { content: 'a' } }] },
      { error: { code: 'task_failed', message: 'every attempt failed', param: null } },
    ),
  ).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toMatchObject({ status: 502, code: 'task_failed', param: null });
});

it('returns the receipt of the final chunk (its `omnitensor` field) with the usage', async () => {
  const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
  const omnitensor = {
    validation: {
      requested: 'likelihood',
      level: 'likelihood',
      verdict: 'pass',
      checked_by: ['0xabc'],
      streamed: 'verified-prefix',
    },
  };
  const events = [
    { choices: [{ delta: { content: 'Hi' } }] },
    { choices: [{ delta: {}, finish_reason: 'stop' }], omnitensor },
  ];
  expect(await read(streamOf(...events, { choices: [], usage }, '[DONE]'))).toEqual({
    pieces: ['Hi'],
    usage: { ...usage, omnitensor },
  });
  // Without usage asked for, the receipt still comes back.
  expect((await read(streamOf(...events, '[DONE]'))).usage).toEqual({ omnitensor });
});

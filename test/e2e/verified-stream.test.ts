import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  waitForNodes,
  workspace,
} from './harness.js';
import { deadline, firstContent, readAll, StreamNetwork, tasksLiedOn } from './streams.js';

// Verified streaming (docs/verification.md): under checksum the replica runs beside the worker, and the
// client gets the text both streamed as it comes, never text only one of them streamed.
const net = new StreamNetwork('checksum');

beforeAll(async () => {
  net.ws = await workspace('verified-stream');
  ({ apiKey: net.apiKey } = await prepareRouterData(net.ws));
  ({ url: net.url } = await startRouterProcess(net.ws));
  await startNodeProcess(net.ws, net.url, 'h1', ['--wallet', `0x${'a1'.repeat(20)}`]);
  net.connected = 1;
  await waitForNodes(net.url, net.connected);
});

afterAll(async () => {
  await net.ws?.cleanup();
});

const { streamChat, taskStatus, startCheater, stop } = net;

describe('verified streaming', () => {
  it('streams a checksum answer while its result is still on its way, then ends with the verdict', async () => {
    // Beside h1, a node that holds every result until told (SIGUSR2). Whether it works or checks, the check
    // cannot pass before it sends its result: text that arrives before then was released as worker and
    // replica streamed it.
    const holder = await startCheater('hold', 'hold', `0x${'b2'.repeat(20)}`);
    try {
      const { response, taskId, events: stream } = await streamChat('stream while checking', 11);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-omnitensor-stream-check')).toBe('verified-prefix');
      const first = await deadline(firstContent(stream), 60_000, 'content before the held result');
      await holder.process.line(/holding task_/);
      expect(first.choices?.[0]?.delta?.content).toBeTruthy();
      expect(await taskStatus(taskId)).not.toBe('done');
      holder.process.child.kill('SIGUSR2');
      const { last } = await readAll(stream);
      expect(last?.choices?.[0]?.finish_reason).toBeTruthy();
      expect(last?.omnitensor?.validation).toMatchObject({
        level: 'checksum',
        verdict: 'pass',
        streamed: 'verified-prefix',
      });
    } finally {
      holder.process.child.kill('SIGUSR2');
      await stop(holder);
    }
  });

  it('never shows a token a lying worker streamed: the stream stops at the divergence and goes on verified', async () => {
    await startNodeProcess(net.ws, net.url, 'h2', ['--wallet', `0x${'d4'.repeat(20)}`]);
    net.connected++;
    await waitForNodes(net.url, net.connected);
    const liar = await startCheater('liar', 'stream-lie', `0x${'c3'.repeat(20)}`);
    try {
      for (let round = 0; round < 8; round++) {
        const streams = await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            streamChat(`liar round ${round} prompt ${i}`, 500 + round * 4 + i, 64),
          ),
        );
        const read = await Promise.all(streams.map(async (s) => ({ ...s, ...(await readAll(s.events)) })));
        for (const answer of read) {
          const text = answer.pieces.join('');
          expect(text).not.toContain('\u2603');
          expect(answer.last?.omnitensor?.validation).toMatchObject({
            verdict: 'pass',
            level: expect.any(String),
          });
        }
        // The liar worked on one of these streams (not only checked another's): that one is the case.
        const lied = tasksLiedOn(liar.record);
        const caught = read.find((answer) => lied.includes(answer.taskId));
        if (caught) {
          expect(caught.pieces.join('').length).toBeGreaterThan(12);
          return;
        }
      }
      throw new Error('the lying node never worked on a stream');
    } finally {
      await stop(liar);
    }
  });

  it('the official openai client reads a checked stream unchanged: the text of the checked answer, then the verdict', async () => {
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: net.apiKey, maxRetries: 0 });
    const body = {
      model: 'tiny',
      messages: [{ role: 'user' as const, content: 'official client' }],
      max_tokens: 48,
      seed: 3,
    };
    // `validation` is this network's field; the client sends it as given.
    const stream = await openai.chat.completions.create({
      ...body,
      stream: true,
      validation: 'checksum',
    } as never);
    let text = '';
    let receipt: unknown;
    for await (const chunk of stream as unknown as AsyncIterable<
      OpenAI.ChatCompletionChunk & { omnitensor?: unknown }
    >) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.omnitensor) receipt = chunk.omnitensor;
    }
    expect(receipt).toMatchObject({
      validation: { level: 'checksum', verdict: 'pass', streamed: 'verified-prefix' },
    });
    const same = (await openai.chat.completions.create({
      ...body,
      validation: 'checksum',
    } as never)) as OpenAI.ChatCompletion;
    expect(text).toBe(same.choices[0]?.message.content);
  });
});

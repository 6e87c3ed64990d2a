import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  prepareRouterData,
  startNodeProcess,
  startRouterProcess,
  waitForNodes,
  workspace,
} from './harness.js';
import { deadline, firstContent, readAll, StreamNetwork, tasksLiedOn } from './streams.js';

// Verified streaming under `likelihood` (docs/verification.md): a validator scores the worker's stream in
// chunks as it comes, and the client gets each chunk once its tokens passed, never a token that did not.
const net = new StreamNetwork('likelihood');
/** Text the client must have before the held result is sent (chunk checks end at 16, 48, 112, 240, 496). */
const EARLY_CHARS = 400;

beforeAll(async () => {
  net.ws = await workspace('verified-stream-likelihood');
  ({ apiKey: net.apiKey } = await prepareRouterData(net.ws));
  ({ url: net.url } = await startRouterProcess(net.ws, { args: ['--honeypot-rate', '0'] }));
  // The only validator: every chunk check and every final check is its.
  await startNodeProcess(net.ws, net.url, 'v1', ['--role', 'validator', '--wallet', `0x${'a1'.repeat(20)}`]);
  net.connected = 1;
  await waitForNodes(net.url, net.connected);
});

afterAll(async () => {
  await net.ws?.cleanup();
});

const { streamChat, taskStatus, stop } = net;
const startCheater = (name: string, cheat: string, wallet: string) =>
  net.startCheater(name, cheat, wallet, ['worker']);

describe('verified streaming: likelihood', () => {
  it('streams a likelihood answer, chunk by checked chunk, before the worker’s result is stored', async () => {
    // The only worker holds its result until told (SIGUSR2): text that arrives before then was released by
    // chunk checks of its stream, not by the check of its result.
    const holder = await startCheater('hold', 'hold', `0x${'b2'.repeat(20)}`);
    try {
      const { response, taskId, events: stream } = await streamChat('stream while scoring', 11, 200);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-omnitensor-stream-check')).toBe('verified-prefix');
      const first = await deadline(firstContent(stream), 60_000, 'content before the held result');
      await holder.process.line(/holding task_/);
      expect(first.choices?.[0]?.delta?.content).toBeTruthy();
      // Chunk after chunk comes while the result is held, each scored from where the last one ended.
      let early = first.choices?.[0]?.delta?.content ?? '';
      let events = 1;
      while (early.length < EARLY_CHARS) {
        const next = await deadline(stream.next(), 60_000, `${EARLY_CHARS} characters before the result`);
        if (next.done) throw new Error('the stream ended before the held result was sent');
        early += next.value.choices?.[0]?.delta?.content ?? '';
        if (next.value.choices?.[0]?.delta?.content) events++;
      }
      expect(events).toBeGreaterThanOrEqual(3);
      expect(await taskStatus(taskId)).not.toBe('done');
      holder.process.child.kill('SIGUSR2');
      const { last } = await readAll(stream);
      expect(last?.choices?.[0]?.finish_reason).toBeTruthy();
      expect(last?.omnitensor?.validation).toMatchObject({
        level: 'likelihood',
        verdict: 'pass',
        streamed: 'verified-prefix',
      });
      // The final check went on from the chunk checks: the validator evaluated only the text after the last
      // chunk that passed, fewer tokens than the answer has (a check from scratch evaluates all of them and
      // the prompt; chunk checks that each start over leave the final check nothing to go on from).
      const node = (await (await fetch(`${net.url}/api/nodes/${holder.id}`)).json()) as {
        verdicts: { task_id: string; evidence: { tokens: number; evaluatedTokens: number } }[];
      };
      const verdict = node.verdicts.find((v) => v.task_id === taskId);
      const tokens = verdict?.evidence.tokens ?? 0;
      expect(tokens).toBeGreaterThan(50);
      expect(verdict?.evidence.evaluatedTokens).toBeLessThan(tokens * 0.75);
    } finally {
      holder.process.child.kill('SIGUSR2');
      await stop(holder);
    }
  });

  it('never shows a token a worker lied in its stream: the stream stops at the failing chunk and goes on verified', async () => {
    await startNodeProcess(net.ws, net.url, 'w2', ['--role', 'worker', '--wallet', `0x${'d4'.repeat(20)}`]);
    net.connected++;
    await waitForNodes(net.url, net.connected);
    // Streams 12 characters of its honest text, then a snowman for every later character.
    const liar = await startCheater('liar', 'stream-lie', `0x${'c3'.repeat(20)}`);
    try {
      for (let round = 0; round < 8; round++) {
        const streams = await Promise.all(
          Array.from({ length: 3 }, (_, i) =>
            streamChat(`liar round ${round} prompt ${i}`, 700 + round * 3 + i, 96),
          ),
        );
        const read = await Promise.all(streams.map(async (s) => ({ ...s, ...(await readAll(s.events)) })));
        for (const answer of read) {
          expect(answer.pieces.join('')).not.toContain('\u2603');
          expect(answer.last?.omnitensor?.validation).toMatchObject({
            verdict: 'pass',
            level: 'likelihood',
            streamed: 'verified-prefix',
          });
        }
        const lied = tasksLiedOn(liar.record);
        const caught = read.find((answer) => lied.includes(answer.taskId));
        if (caught) {
          // The redo on the honest worker delivered the whole answer, verified.
          expect(caught.pieces.join('').length).toBeGreaterThan(12);
          return;
        }
      }
      throw new Error('the lying node never worked on a stream');
    } finally {
      await stop(liar);
    }
  });
});

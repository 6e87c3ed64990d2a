import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliProcess,
  prepareRouterData,
  runCheater,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// Verified streaming under `likelihood` (docs/verification.md): a validator scores the worker's stream in
// chunks as it comes, and the client gets each chunk once its tokens passed, never a token that did not.
let ws: Workspace;
let url: string;
let apiKey: string;
let connected = 1;

beforeAll(async () => {
  ws = await workspace('verified-stream-likelihood');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws, { args: ['--honeypot-rate', '0'] }));
  // The only validator: every chunk check and every final check is its.
  await startNodeProcess(ws, url, 'v1', ['--role', 'validator', '--wallet', `0x${'a1'.repeat(20)}`]);
  await waitForNodes(url, connected);
});

afterAll(async () => {
  await ws?.cleanup();
});

type Event = {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  omnitensor?: { validation: Record<string, unknown> };
};

async function* events(response: Response): AsyncGenerator<Event> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
      const data = buffer.slice(0, at).replace(/^data: /, '');
      buffer = buffer.slice(at + 2);
      if (data === '[DONE]') return;
      yield JSON.parse(data) as Event;
    }
  }
}

async function streamChat(prompt: string, seed: number, maxTokens: number) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: maxTokens,
      seed,
      validation: 'likelihood',
      stream: true,
    }),
  });
  return {
    response,
    taskId: response.headers.get('x-omnitensor-task-id') as string,
    events: events(response),
  };
}

async function readAll(stream: AsyncGenerator<Event>) {
  const pieces: string[] = [];
  let last: Event | undefined;
  for await (const event of stream) {
    const content = event.choices?.[0]?.delta?.content;
    if (content) pieces.push(content);
    last = event;
  }
  return { pieces, last };
}

async function taskStatus(taskId: string): Promise<string> {
  const response = await fetch(`${url}/api/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return ((await response.json()) as { status: string }).status;
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function startCheater(name: string, cheat: string, wallet: string) {
  const record = join(ws.dir, `${name}.jsonl`);
  const process = ws.track(
    runCheater({
      router: url,
      model: ws.model,
      data: join(ws.dir, name),
      cheat,
      record,
      wallet,
      roles: ['worker'],
    }),
  );
  const [, id] = await process.line(/cheater \S+ connected: (0x[0-9a-fA-F]{40})/);
  connected++;
  await waitForNodes(url, connected);
  return { process, id: (id as string).toLowerCase(), record };
}

async function stop(cheater: { process: CliProcess }) {
  cheater.process.child.kill('SIGKILL');
  await cheater.process.exited;
  connected--;
}

describe('verified streaming: likelihood', () => {
  it('streams a likelihood answer, chunk by checked chunk, before the worker’s result is stored', async () => {
    // The only worker holds its result until told (SIGUSR2): text that arrives before then was released by
    // chunk checks of its stream, not by the check of its result.
    const holder = await startCheater('hold', 'hold', `0x${'b2'.repeat(20)}`);
    try {
      const { response, taskId, events: stream } = await streamChat('stream while scoring', 11, 200);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-omnitensor-stream-check')).toBe('verified-prefix');
      const first = await deadline(
        (async () => {
          for (;;) {
            const next = await stream.next();
            if (next.done) throw new Error('the stream ended without content');
            if (next.value.choices?.[0]?.delta?.content) return next.value;
          }
        })(),
        60_000,
        'content before the held result',
      );
      await holder.process.line(/holding task_/);
      expect(first.choices?.[0]?.delta?.content).toBeTruthy();
      expect(await taskStatus(taskId)).not.toBe('done');
      holder.process.child.kill('SIGUSR2');
      const { last } = await readAll(stream);
      expect(last?.choices?.[0]?.finish_reason).toBeTruthy();
      expect(last?.omnitensor?.validation).toMatchObject({
        level: 'likelihood',
        verdict: 'pass',
        streamed: 'verified-prefix',
      });
    } finally {
      holder.process.child.kill('SIGUSR2');
      await stop(holder);
    }
  });

  it('never shows a token a worker lied in its stream: the stream stops at the failing chunk and goes on verified', async () => {
    await startNodeProcess(ws, url, 'w2', ['--role', 'worker', '--wallet', `0x${'d4'.repeat(20)}`]);
    connected++;
    await waitForNodes(url, connected);
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
        const lied = existsSync(liar.record)
          ? readFileSync(liar.record, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => (JSON.parse(line) as { task: string }).task)
          : [];
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

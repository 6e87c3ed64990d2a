import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
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

// Verified streaming (docs/verification.md): under checksum the replica runs beside the worker, and the
// client gets the text both streamed as it comes, never text only one of them streamed.
let ws: Workspace;
let url: string;
let apiKey: string;
let connected = 1;

beforeAll(async () => {
  ws = await workspace('verified-stream');
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws));
  await startNodeProcess(ws, url, 'h1', ['--wallet', `0x${'a1'.repeat(20)}`]);
  await waitForNodes(url, connected);
});

afterAll(async () => {
  await ws?.cleanup();
});

type Event = {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  omnitensor?: { validation: Record<string, unknown> };
  error?: unknown;
};

/** The server-sent events of a streamed answer, parsed, as they arrive. */
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

async function streamChat(prompt: string, seed: number, maxTokens = 200) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: prompt }],
      max_tokens: maxTokens,
      seed,
      validation: 'checksum',
      stream: true,
    }),
  });
  return {
    response,
    taskId: response.headers.get('x-omnitensor-task-id') as string,
    events: events(response),
  };
}

/** Reads a stream to its end: its content pieces and its last event. */
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
    } as never),
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
    await startNodeProcess(ws, url, 'h2', ['--wallet', `0x${'d4'.repeat(20)}`]);
    connected++;
    await waitForNodes(url, connected);
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
        const lied = existsSync(liar.record)
          ? readFileSync(liar.record, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => (JSON.parse(line) as { task: string }).task)
          : [];
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
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
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

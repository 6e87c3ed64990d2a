import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sseData } from '../../src/sdk/sse.js';
import { type CliProcess, runCheater, type Workspace, waitForNodes } from './harness.js';

/** One server-sent event of a streamed chat answer, as the verified-stream tests read it. */
export type StreamEvent = {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  omnitensor?: { validation: Record<string, unknown> };
  error?: unknown;
};

/** The server-sent events of a streamed answer, parsed, as they arrive. */
export async function* streamEvents(response: Response): AsyncGenerator<StreamEvent> {
  for await (const data of sseData(response)) yield JSON.parse(data) as StreamEvent;
}

/** Reads a stream to its end: its content pieces and its last event. */
export async function readAll(stream: AsyncGenerator<StreamEvent>) {
  const pieces: string[] = [];
  let last: StreamEvent | undefined;
  for await (const event of stream) {
    const content = event.choices?.[0]?.delta?.content;
    if (content) pieces.push(content);
    last = event;
  }
  return { pieces, last };
}

/** The stream's first event with content (the stream stays open for the rest). */
export async function firstContent(stream: AsyncGenerator<StreamEvent>): Promise<StreamEvent> {
  for (;;) {
    const next = await stream.next();
    if (next.done) throw new Error('the stream ended without content');
    if (next.value.choices?.[0]?.delta?.content) return next.value;
  }
}

/** `promise`, or an error naming `what` once `ms` have passed: bounds a wait for an event. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * A router under test and the nodes connected to it, for streamed chats under one validation level: its
 * fields are set by the test file's beforeAll, and `connected` counts the nodes the helpers wait for.
 */
export class StreamNetwork {
  ws!: Workspace;
  url = '';
  apiKey = '';
  connected = 0;

  constructor(readonly validation: string) {}

  streamChat = async (prompt: string, seed: number, maxTokens = 200) => {
    const response = await fetch(`${this.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny',
        messages: [{ role: 'user', content: prompt }],
        max_tokens: maxTokens,
        seed,
        validation: this.validation,
        stream: true,
      }),
    });
    return {
      response,
      taskId: response.headers.get('x-omnitensor-task-id') as string,
      events: streamEvents(response),
    };
  };

  taskStatus = async (taskId: string): Promise<string> => {
    const response = await fetch(`${this.url}/api/tasks/${taskId}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    return ((await response.json()) as { status: string }).status;
  };

  /** A cheater node (bench/sim/cheater-node.ts) that records what it did, connected before this returns. */
  startCheater = async (name: string, cheat: string, wallet: string, roles?: string[]) => {
    const record = join(this.ws.dir, `${name}.jsonl`);
    const process = this.ws.track(
      runCheater({
        router: this.url,
        model: this.ws.model,
        data: join(this.ws.dir, name),
        cheat,
        record,
        wallet,
        ...(roles ? { roles } : {}),
      }),
    );
    const [, id] = await process.line(/cheater \S+ connected: (0x[0-9a-fA-F]{40})/);
    this.connected++;
    await waitForNodes(this.url, this.connected);
    return { process, id: (id as string).toLowerCase(), record };
  };

  stop = async (cheater: { process: CliProcess }) => {
    cheater.process.child.kill('SIGKILL');
    await cheater.process.exited;
    this.connected--;
  };
}

/** The tasks a cheating node says it lied on (its record file: one JSON line per task), none before any. */
export function tasksLiedOn(recordFile: string): string[] {
  if (!existsSync(recordFile)) return [];
  return readFileSync(recordFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { task: string }).task);
}

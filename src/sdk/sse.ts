import type { UsageView, ValidationView } from '../protocol/index.js';
import { ApiError } from './api-error.js';

/** One chunk of a chat or text completion stream (OpenAI's shapes), or an error sent after the stream began. */
type StreamChunk = {
  error?: { code: string; message: string; param?: string | null };
  usage?: UsageView;
  omnitensor?: ValidationView;
  choices: { delta?: { content?: string }; text?: string }[];
};

/**
 * What a stream returns at its end: the usage (when asked for, as `stream_options.include_usage`) and the
 * receipt, `omnitensor.validation` of the final chunk: how the answer was checked and how its text was
 * released (`streamed`: `verified-prefix`, `held` or `unchecked`; docs/verification.md).
 */
export type StreamEnd = Partial<UsageView> & { omnitensor?: ValidationView };

/**
 * Reads a completion stream's server-sent events: yields the text pieces as they arrive and returns the
 * usage and the receipt sent at the end (undefined when neither came). An error event after the stream
 * began throws an ApiError.
 */
export async function* completionEvents(response: Response): AsyncGenerator<string, StreamEnd | undefined> {
  let last: StreamEnd | undefined;
  for await (const data of sseData(response)) {
    const chunk = JSON.parse(data) as StreamChunk;
    // The status went out with the stream's first bytes; a failure after that is the network's (502).
    if (chunk.error)
      throw new ApiError(502, chunk.error.code, chunk.error.message, chunk.error.param ?? null);
    if (chunk.usage) last = { ...last, ...chunk.usage };
    if (chunk.omnitensor) last = { ...last, omnitensor: chunk.omnitensor };
    const choice = chunk.choices[0];
    const text = choice?.delta?.content ?? choice?.text;
    if (text) yield text;
  }
  return last;
}

/** The `data:` payload of each server-sent event of a response, until `[DONE]` or the end of the body. */
export async function* sseData(response: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') return;
      yield data;
    }
  }
}

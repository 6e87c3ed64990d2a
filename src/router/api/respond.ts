import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatAmount } from '../../ledger/index.js';
import type {
  ChatCompletionView,
  OmniError,
  StreamReceiptView,
  TextCompletionView,
  UsageView,
  ValidationView,
} from '../../protocol/index.js';
import type { ResultRecord } from '../../store/index.js';
import { mark } from '../../timing/marks.js';
import { formatValidationLevel } from '../../verify/index.js';
import type { RouterServices } from '../context.js';
import { clientTaskKey } from '../tasks/idempotency.js';
import type { TaskHandle } from '../tasks/task-manager.js';
import { countedTokens } from '../tasks/token-counts.js';
import { toHttpError } from './http-errors.js';
import type { TaskRequest } from './requests.js';

export type Shape = 'chat' | 'completion';

/** Bytes of unsent stream a client may leave in the router before its stream is dropped. */
export const STREAM_BUFFER_LIMIT = 4 * 1024 * 1024;

/**
 * OpenAI `usage`: the counts that were charged (payments counted them when the result was accepted), or for
 * an answer replayed from the store, the node's claims within the router's bounds. Never a bare claim.
 */
export function usageOf(handle: TaskHandle, result: ResultRecord): UsageView {
  const counted =
    handle.payment.usage ?? countedTokens(handle.record.input, Number.MAX_SAFE_INTEGER, result.output, null);
  return {
    prompt_tokens: counted.promptTokens,
    completion_tokens: counted.completionTokens,
    total_tokens: counted.promptTokens + counted.completionTokens,
  };
}

const created = () => Math.floor(Date.now() / 1000);

/** The OpenAI JSON for a finished chat or completion task. */
export function completionBody(
  shape: Shape,
  handle: TaskHandle,
  result: ResultRecord,
): ChatCompletionView | TextCompletionView {
  const text = result.output.text ?? '';
  const finish_reason = result.output.finishReason ?? 'stop';
  const base = { id: idOf(shape, handle), created: created(), model: handle.record.modelName };
  if (shape === 'chat') {
    return {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason }],
      usage: usageOf(handle, result),
      system_fingerprint: `node_${result.nodeId.slice(2, 10)}`,
      ...validationField(handle),
    };
  }
  return {
    ...base,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason }],
    usage: usageOf(handle, result),
    ...validationField(handle),
  };
}

function idOf(shape: Shape, handle: TaskHandle): string {
  return `${shape === 'chat' ? 'chatcmpl' : 'cmpl'}-${handle.record.id}`;
}

export function taskHeaders(handle: TaskHandle, result?: ResultRecord): Record<string, string> {
  const headers: Record<string, string> = { 'x-omnitensor-task-id': handle.record.id };
  if (result) headers['x-omnitensor-node'] = result.nodeId;
  const validation = handle.check.receipt;
  if (validation) {
    headers['x-omnitensor-validation'] = validation.requested;
    headers['x-omnitensor-verdict'] = validation.verdict;
    if (validation.checkedBy.length > 0) headers['x-omnitensor-checked-by'] = validation.checkedBy.join(',');
  }
  return headers;
}

/**
 * A stream's headers go out with its first text, which under verified streaming comes before the check's
 * verdict: they say how the text is released (the verdict follows in the final chunk).
 */
function streamHeaders(handle: TaskHandle): Record<string, string> {
  const streamed = handle.check.streamed;
  const headers = taskHeaders(handle);
  if (streamed) headers['x-omnitensor-stream-check'] = streamed;
  if (!handle.check.receipt)
    headers['x-omnitensor-validation'] = formatValidationLevel(handle.record.validation ?? { kind: 'auto' });
  return headers;
}

/** The `omnitensor.validation` field of an answer: the level asked for, the check made and its verdict. */
export function validationField(handle: TaskHandle): { omnitensor?: ValidationView } {
  const v = handle.check.receipt;
  if (!v) return {};
  return {
    omnitensor: {
      validation: { requested: v.requested, level: v.level, verdict: v.verdict, checked_by: v.checkedBy },
    },
  };
}

/**
 * Streams a task as server-sent events in OpenAI's chunk format. Headers go out with the first text, so an
 * error before any text (no node, prompt too long) still gets its proper status code.
 */
export function streamTask(
  reply: FastifyReply,
  shape: Shape,
  handle: TaskHandle,
  includeUsage: boolean,
): void {
  reply.hijack();
  const res = reply.raw;
  const id = idOf(shape, handle);
  const model = handle.record.modelName;
  const stamp = created();
  let started = false;
  const chunk = (delta: string | null, finish: string | null, role = false) =>
    shape === 'chat'
      ? {
          id,
          object: 'chat.completion.chunk',
          created: stamp,
          model,
          choices: [
            {
              index: 0,
              delta: delta === null ? {} : role ? { role: 'assistant', content: delta } : { content: delta },
              logprobs: null,
              finish_reason: finish,
            },
          ],
        }
      : {
          id,
          object: 'text_completion',
          created: stamp,
          model,
          choices: [{ index: 0, text: delta ?? '', logprobs: null, finish_reason: finish }],
        };
  const write = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...streamHeaders(handle),
    });
    if (shape === 'chat') write(chunk('', null, true));
  };
  // The writes of one turn (headers, role and first text; last chunk, usage and end) leave in one packet.
  const corked = () => {
    if (res.writableCorked > 0) return;
    res.cork();
    process.nextTick(() => res.uncork());
  };
  const onText = (text: string) => {
    if (!started) corked();
    start();
    write(chunk(text, null));
    mark('r.sse');
    // A client that does not read must not make the router buffer without bound: past the limit the
    // stream is dropped (the task still finishes; its answer stays fetchable by task id or idempotency key).
    if (res.writableLength > STREAM_BUFFER_LIMIT) {
      detach();
      res.destroy(new Error('client is not reading the stream'));
    }
  };
  const onDone = (result: ResultRecord) => {
    corked();
    start();
    // The last chunk carries what the headers could not: the verdict and how the stream was checked (when
    // headers went out before the check ended), the node that answered and what it cost.
    write({
      ...chunk(null, result.output.finishReason ?? 'stop'),
      omnitensor: streamReceipt(handle, result),
    });
    if (includeUsage) {
      const usage = usageOf(handle, result);
      write(
        shape === 'chat'
          ? { id, object: 'chat.completion.chunk', created: stamp, model, choices: [], usage }
          : { id, object: 'text_completion', created: stamp, model, choices: [], usage },
      );
    }
    res.end('data: [DONE]\n\n');
    mark('r.end');
    detach();
  };
  const onError = (error: OmniError) => {
    const { status, body, headers } = toHttpError(error);
    if (!started) {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    } else {
      write(body);
      res.end('data: [DONE]\n\n');
    }
    detach();
  };
  // The task keeps running if the client leaves: it was accepted, and its result stays fetchable.
  const detach = () => {
    handle.off('text', onText);
    handle.off('done', onDone);
    handle.off('error', onError);
  };
  res.on('close', detach);
  handle.on('text', onText);
  handle.on('done', onDone);
  handle.on('error', onError);
  // A client joining a running task (same idempotency key) first gets the text streamed so far.
  if (handle.delivered) onText(handle.delivered);
}

/** The `omnitensor` field of a stream's last chunk: its check, the node that answered, and what it cost. */
export function streamReceipt(handle: TaskHandle, result: ResultRecord): StreamReceiptView {
  const validation = validationField(handle).omnitensor?.validation;
  const streamed = handle.check.streamed;
  const cost = handle.payment.cost;
  return {
    ...(validation ? { validation: { ...validation, ...(streamed ? { streamed } : {}) } } : {}),
    node: result.nodeId,
    ...(cost === null ? {} : { cost: formatAmount(cost) }),
  };
}

/** What the answer cost in tokens (the task and its checks), when the network charges for it. */
export function costHeader(handle: TaskHandle): Record<string, string> {
  const cost = handle.payment.cost;
  return cost === null ? {} : { 'x-omnitensor-cost': formatAmount(cost) };
}

/** Submits a generation task (chat or completion) and answers with JSON or a stream. */
export async function runGeneration(
  services: RouterServices,
  request: FastifyRequest,
  reply: FastifyReply,
  job: TaskRequest,
) {
  const shape: Shape = job.shape === 'completion' ? 'completion' : 'chat';
  const handle = services.tasks.submit({
    keyId: request.keyId,
    sessionId: job.sessionId,
    ...clientTaskKey(request),
    model: job.model,
    input: job.input,
    validation: job.validation,
  });
  if (job.stream) return streamTask(reply, shape, handle, job.includeUsage);
  const result = await handle.result;
  return reply
    .headers({ ...taskHeaders(handle, result), ...costHeader(handle) })
    .send(completionBody(shape, handle, result));
}

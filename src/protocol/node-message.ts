import type { z } from 'zod';
import {
  type NodeMessage,
  nodeMessage,
  type TaskOutput,
  type TaskResultMessage,
  type taskChunkMessage,
  taskOutput,
} from './messages.js';

type TaskChunkMessage = z.infer<typeof taskChunkMessage>;

/**
 * A node's message checked against `nodeMessage`. The stream's text chunks, several per answer, and a text
 * answer's result (one per answer) are checked by hand first: zod took a third of the gateway's time, and on
 * a request's cold path a schema costs 10-20 times its hot-loop time. The hand checks accept only what the
 * schema accepts and return what it returns (the known fields, unknown ones dropped); anything they do not
 * accept, and every other message, goes through the schema, so rejections read the same.
 */
export function parseNodeMessage(json: unknown): z.SafeParseReturnType<unknown, NodeMessage> {
  const fast = checkedChunk(json) ?? checkedTextResult(json);
  return fast ? { success: true, data: fast } : nodeMessage.safeParse(json);
}

const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= 100;
const isCount = (value: unknown, least: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= least;
const SHA256 = /^[0-9a-f]{64}$/;
const NONCE = /^[0-9]{1,30}$/;
const RESULT_SIGNATURE = /^0x[0-9a-fA-F]{128}$/;
const TEXT_OUTPUT_FIELDS = new Set(['text', 'promptTokens', 'completionTokens', 'finishReason']);

/** A `result` whose output is text (no embeddings or scores: those go through the schema). */
function checkedTextResult(json: unknown): TaskResultMessage | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { type, taskId, attempt, modelSha256, outputSha256, nonce, output, signature } = json as Record<
    string,
    unknown
  >;
  if (type !== 'result' || !isId(taskId) || !isCount(attempt, 1)) return undefined;
  if (typeof modelSha256 !== 'string' || !SHA256.test(modelSha256)) return undefined;
  if (typeof outputSha256 !== 'string' || !SHA256.test(outputSha256)) return undefined;
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return undefined;
  if (typeof signature !== 'string' || !RESULT_SIGNATURE.test(signature)) return undefined;
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return undefined;
  const fields = output as Record<string, unknown>;
  // Any other field the schema knows (embeddings, scores) is left to it; unknown ones it drops, and so do we.
  for (const key in fields)
    if (!TEXT_OUTPUT_FIELDS.has(key) && Object.hasOwn(taskOutput.shape, key)) return undefined;
  const { text, promptTokens, completionTokens, finishReason } = fields;
  if (text !== undefined && typeof text !== 'string') return undefined;
  if (!isCount(promptTokens, 0) || !isCount(completionTokens, 0)) return undefined;
  if (finishReason !== undefined && finishReason !== 'stop' && finishReason !== 'length') return undefined;
  const checked: TaskOutput = {
    ...(text === undefined ? {} : { text }),
    promptTokens,
    completionTokens,
    ...(finishReason === undefined ? {} : { finishReason }),
  };
  return { type, taskId, attempt, modelSha256, outputSha256, nonce, output: checked, signature };
}

function checkedChunk(json: unknown): TaskChunkMessage | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { type, taskId, attempt, seq, text } = json as Record<string, unknown>;
  if (type !== 'chunk' || typeof text !== 'string') return undefined;
  if (typeof taskId !== 'string' || taskId.length < 1 || taskId.length > 100) return undefined;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) return undefined;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return undefined;
  return { type, taskId, attempt, seq, text };
}

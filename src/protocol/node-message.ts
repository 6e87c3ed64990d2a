import type { z } from 'zod';
import { type NodeMessage, nodeMessage, type taskChunkMessage } from './messages.js';

type TaskChunkMessage = z.infer<typeof taskChunkMessage>;

/**
 * A node's message checked against `nodeMessage`. The stream's text chunks, several per answer, are checked
 * by hand first: zod took a third of the gateway's time. The hand check accepts only what the schema
 * accepts and returns what it returns (the known fields, unknown ones dropped); anything it does not accept,
 * and every other message, goes through the schema, so rejections read the same.
 */
export function parseNodeMessage(json: unknown): z.SafeParseReturnType<unknown, NodeMessage> {
  const chunk = checkedChunk(json);
  return chunk ? { success: true, data: chunk } : nodeMessage.safeParse(json);
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

import { OmniError, type TaskInput } from '../../protocol/index.js';
import type { ResultRecord } from '../../store/index.js';
import { formatValidationLevel, parseValidationLevel } from '../../verify/index.js';
import type { RouterServices } from '../context.js';
import type { TaskHandle } from '../tasks/task-manager.js';
import { toHttpError } from './http-errors.js';
import { type TaskEndpoint, taskEndpoints, taskRequest } from './requests.js';
import { completionBody, usageOf } from './respond.js';

export const batchEndpoints = taskEndpoints;
export type BatchEndpoint = TaskEndpoint;

/** Why one line could not run; `param` names the bad field (`body.max_tokens`, `url`, ...). */
export type LineError = { status: number | null; code: string; message: string; param: string | null };

/** A line that passed the shape checks, or the reason it did not. `line` counts non-blank lines from 0. */
export type ParsedLine =
  | { line: number; customId: string; body: Record<string, unknown> }
  | { line: number; customId: string | null; error: LineError };

/** What a valid line becomes: the task to submit and how to shape its answer. */
export type PreparedLine = {
  modelSha256: string;
  sessionId: string;
  shape: 'chat' | 'completion' | 'embedding';
  base64: boolean;
  input: TaskInput;
  /** The line's validation level as asked (checked when the line was read); absent means the session's. */
  validation?: string;
};

const lineError = (code: string, message: string, param: string | null): LineError => ({
  status: 400,
  code,
  message,
  param,
});

/** Splits a JSONL file into its non-blank lines. */
export function splitJsonl(content: string): string[] {
  return content.split(/\r?\n/).filter((line) => line.trim().length > 0);
}

/** Checks one line's envelope (`custom_id`, `method`, `url`, `body`); the body itself is checked later. */
export function parseLine(text: string, line: number, endpoint: string, seen: Set<string>): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Name the line's custom_id if it can be read at all, so the error can be matched to its request.
    const customId = /"custom_id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? null;
    const reason = error instanceof Error ? error.message : 'parse error';
    return {
      line,
      customId,
      error: lineError('invalid_json', `Line ${line + 1} is not valid JSON: ${reason}`, null),
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      line,
      customId: null,
      error: lineError('invalid_request', `Line ${line + 1} is not a JSON object.`, null),
    };
  }
  const request = value as Record<string, unknown>;
  const customId = typeof request.custom_id === 'string' ? request.custom_id : null;
  const fail = (code: string, message: string, param: string): ParsedLine => ({
    line,
    customId,
    error: lineError(code, `Line ${line + 1}: ${message}`, param),
  });
  if (customId === null || customId.length === 0 || customId.length > 512)
    return fail('invalid_custom_id', "'custom_id' must be a string of 1 to 512 characters.", 'custom_id');
  if (seen.has(customId))
    return fail('duplicate_custom_id', `'custom_id' '${customId}' is used by an earlier line.`, 'custom_id');
  seen.add(customId);
  if (request.method !== 'POST')
    return fail(
      'invalid_method',
      `'method' must be 'POST', not ${JSON.stringify(request.method)}.`,
      'method',
    );
  if (request.url !== endpoint)
    return fail(
      'invalid_url',
      `'url' ${JSON.stringify(request.url)} does not match the batch's endpoint '${endpoint}'.`,
      'url',
    );
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return fail('invalid_body', "'body' must be a JSON object.", 'body');
  return { line, customId, body: body as Record<string, unknown> };
}

/** Validates a line's body like the endpoint itself would and turns it into a task; throws OmniError. */
export function prepareLine(
  services: RouterServices,
  keyId: string,
  endpoint: BatchEndpoint,
  body: Record<string, unknown>,
): PreparedLine {
  // A batch waits for nodes within its window: the model must be registered, not served right now.
  const who = { keyId, keyValidation: services.keys.identity(keyId)?.validation ?? null };
  const job = taskRequest(services, who, endpoint, body, { live: false });
  return {
    modelSha256: job.model.sha256,
    sessionId: job.sessionId,
    shape: job.shape,
    base64: job.base64,
    input: job.input,
    validation: formatValidationLevel(job.validation),
  };
}

/** The validation level a prepared line asks for. */
export function lineValidation(prepared: PreparedLine) {
  return parseValidationLevel(prepared.validation ?? 'auto');
}

/** An error as a line error; a parameter error inside the body is named `body.<field>`. */
export function toLineError(error: unknown): LineError {
  const { status, body } = toHttpError(error);
  const inBody = error instanceof OmniError && status === 400 && body.error.param;
  return {
    status,
    code: body.error.code,
    message: body.error.message,
    param: inBody ? `body.${body.error.param}` : body.error.param,
  };
}

/** An output line in OpenAI's batch shape. */
export function outputLine(
  customId: string,
  prepared: PreparedLine,
  handle: TaskHandle,
  result: ResultRecord,
) {
  const taskId = handle.record.id;
  const body =
    prepared.shape === 'embedding'
      ? {
          object: 'list',
          data: (result.output.embeddings ?? []).map((embedding, index) => ({
            object: 'embedding',
            index,
            embedding: prepared.base64
              ? Buffer.from(new Float32Array(embedding).buffer).toString('base64')
              : embedding,
          })),
          model: handle.record.modelName,
          usage: {
            prompt_tokens: usageOf(handle, result).prompt_tokens,
            total_tokens: usageOf(handle, result).prompt_tokens,
          },
        }
      : completionBody(prepared.shape, handle, result);
  return JSON.stringify({
    id: `batch_req_${taskId}`,
    custom_id: customId,
    response: { status_code: 200, request_id: taskId, body },
    error: null,
  });
}

/** An error line: the HTTP-style response when the request was understood, and the error itself. */
export function errorLine(customId: string | null, line: number, error: LineError, taskId?: string): string {
  const id = taskId ?? `line_${line}`;
  return JSON.stringify({
    id: `batch_req_${id}`,
    custom_id: customId,
    response:
      error.status === null
        ? null
        : {
            status_code: error.status,
            request_id: id,
            body: {
              error: {
                message: error.message,
                type: error.status >= 500 ? 'server_error' : 'invalid_request_error',
                param: error.param,
                code: error.code,
              },
            },
          },
    error: { code: error.code, message: error.message, param: error.param, line: line + 1 },
  });
}

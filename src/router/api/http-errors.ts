import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_ERRORS, OmniError } from '../../protocol/index.js';
import type { Logger } from '../log.js';

export type OpenAiError = { error: { message: string; type: string; param: string | null; code: string } };

/** The one place an error becomes an HTTP status and OpenAI's error JSON. */
export function toHttpError(error: unknown): {
  status: number;
  body: OpenAiError;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  const body = (message: string, type: string, code: string, param: string | null = null): OpenAiError => ({
    error: { message, type, param, code },
  });
  if (error instanceof OmniError) {
    const { status, type } = HTTP_ERRORS[error.kind];
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    // A deliberate internal error keeps its message; an unexpected one (below) says only where to look.
    return { status, headers, body: body(error.message, type, error.code, error.param) };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    // Fastify's own rejections: malformed JSON, body too large, wrong content type.
    const message =
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError instanceof SyntaxError
        ? `The request body is not valid JSON: ${fastifyError.message}`
        : (fastifyError.message ?? 'Bad request');
    return {
      status: fastifyError.statusCode,
      headers,
      body: body(message, 'invalid_request_error', fastifyError.code ?? 'bad_request', 'body'),
    };
  }
  return {
    status: 500,
    headers,
    body: body('Internal error in the router; see its log.', 'server_error', 'internal_error'),
  };
}

/**
 * Fastify's error handler for a router: answers with `toHttpError` and logs every unexpected failure (a
 * 500) once, with its stack and the request id, through the router's own logger (fastify's is off).
 */
export function createErrorHandler(log: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, headers } = toHttpError(error);
    // Unexpected failures only: a deliberate 502 or 503 (no node, a check that cannot be made) is an answer.
    if (!(error instanceof OmniError) || error.kind === 'internal') {
      // One line per event: the stack's frames joined on that line.
      const stack = (error instanceof Error ? (error.stack ?? error.message) : String(error)).replace(
        /\n\s*/g,
        ' <- ',
      );
      log('error', 'request failed', {
        request: request.id,
        method: request.method,
        url: request.url.split('?')[0],
        status,
        error: stack,
      });
    }
    reply
      .code(status)
      .headers({ ...headers, 'x-request-id': request.id })
      .send(body);
  };
}

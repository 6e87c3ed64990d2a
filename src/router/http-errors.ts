import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthenticationError,
  ContextLengthError,
  InvalidParameterError,
  NoNodeError,
  NotFoundError,
  OmniError,
  QueueFullError,
  TaskFailedError,
} from '../protocol/index.js';
import type { Logger } from './log.js';

/** A client sent more requests than its rate allows: HTTP 429 with Retry-After. */
export class RateLimitedError extends OmniError {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly per: string,
    readonly ratePerSecond: number,
    readonly retryAfterSeconds: number,
    code = 'rate_limit_exceeded',
    message = `Too many requests for this ${per} (limit ${ratePerSecond}/s). Retry after ${retryAfterSeconds} s.`,
  ) {
    super(code, message);
  }
}

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
  if (error instanceof InvalidParameterError) {
    return {
      status: 400,
      headers,
      body: body(error.message, 'invalid_request_error', error.code, error.param),
    };
  }
  if (error instanceof AuthenticationError) {
    return { status: 401, headers, body: body(error.message, 'invalid_request_error', error.code) };
  }
  if (error instanceof NotFoundError) {
    return {
      status: 404,
      headers,
      body: body(error.message, 'invalid_request_error', error.code, error.resource),
    };
  }
  if (error instanceof ContextLengthError) {
    return {
      status: 413,
      headers,
      body: body(error.message, 'invalid_request_error', error.code, 'messages'),
    };
  }
  if (error instanceof QueueFullError || error instanceof RateLimitedError) {
    headers['retry-after'] = String(error.retryAfterSeconds);
    return { status: 429, headers, body: body(error.message, 'rate_limit_error', error.code) };
  }
  if (error instanceof NoNodeError) {
    return { status: 503, headers, body: body(error.message, 'service_unavailable', error.code, 'model') };
  }
  if (error instanceof TaskFailedError) {
    return { status: 502, headers, body: body(error.message, 'server_error', error.code) };
  }
  if (error instanceof OmniError) {
    const status = (error as OmniError & { status?: number }).status ?? 500;
    return {
      status,
      headers,
      body: body(
        error.message,
        status < 500 ? 'invalid_request_error' : 'server_error',
        error.code,
        // An error about one field names it (IdempotencyKeyReusedError: 'Idempotency-Key').
        (error as OmniError & { param?: string | null }).param ?? null,
      ),
    };
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
    if (status >= 500) {
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

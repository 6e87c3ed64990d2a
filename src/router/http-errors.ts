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
  VerificationUnavailableError,
} from '../protocol/index.js';

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
  if (error instanceof QueueFullError) {
    headers['retry-after'] = String(error.retryAfterSeconds);
    return { status: 429, headers, body: body(error.message, 'rate_limit_error', error.code) };
  }
  if (error instanceof NoNodeError) {
    return { status: 503, headers, body: body(error.message, 'service_unavailable', error.code, 'model') };
  }
  if (error instanceof VerificationUnavailableError) {
    return {
      status: 503,
      headers,
      body: body(error.message, 'service_unavailable', error.code, 'validation'),
    };
  }
  if (error instanceof TaskFailedError) {
    return { status: 502, headers, body: body(error.message, 'server_error', error.code) };
  }
  if (error instanceof OmniError) {
    const status = (error as OmniError & { status?: number }).status ?? 500;
    return {
      status,
      headers,
      body: body(error.message, status < 500 ? 'invalid_request_error' : 'server_error', error.code),
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

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, headers } = toHttpError(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  reply.code(status).headers(headers).send(body);
}

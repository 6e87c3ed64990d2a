/**
 * What an error is, in the terms a client acts on. Each error class says its kind; the router's one table
 * (src/router/http-errors.ts) turns a kind into an HTTP status and OpenAI's error type.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'unauthenticated'
  | 'payment_required'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'upstream_failed'
  | 'unavailable'
  | 'internal';

/**
 * The one table from what an error is to its HTTP status and OpenAI's error `type`: the router answers with
 * it (src/router/http-errors.ts), stores a failed task's status with it, and the SDK reads statuses back.
 */
export const HTTP_ERRORS: Record<ErrorKind, { status: number; type: string }> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unauthenticated: { status: 401, type: 'invalid_request_error' },
  payment_required: { status: 402, type: 'invalid_request_error' },
  forbidden: { status: 403, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  too_large: { status: 413, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  internal: { status: 500, type: 'server_error' },
  upstream_failed: { status: 502, type: 'server_error' },
  unavailable: { status: 503, type: 'service_unavailable' },
};

/** The kind an HTTP status stands for (a stored failure read back); unknown statuses are upstream failures. */
export function errorKindOfStatus(status: number): ErrorKind {
  for (const [kind, entry] of Object.entries(HTTP_ERRORS))
    if (entry.status === status) return kind as ErrorKind;
  return 'upstream_failed';
}

/** Base of every error the project raises on purpose: a stable `code`, a short message, optional details. */
export class OmniError extends Error {
  override readonly name: string = 'OmniError';
  /** What the error is; `internal` (a 500) unless the class says otherwise. */
  readonly kind: ErrorKind = 'internal';
  /** The request field (or header) the error is about, when one is. */
  readonly param: string | null = null;
  /** For `rate_limited` and `unavailable`: when to try again. */
  readonly retryAfterSeconds: number | undefined;
  readonly code: string;
  readonly details: string | undefined;

  constructor(code: string, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** An error read back from the store (a failed task's code, message and status), of the kind its status says. */
export class StoredError extends OmniError {
  override readonly name = 'StoredError';
  override readonly kind: ErrorKind;
  constructor(stored: { code: string; message: string; status: number }) {
    super(stored.code, stored.message);
    this.kind = errorKindOfStatus(stored.status);
  }
}

/** A request field is missing or wrong; `param` names it. */
export class InvalidParameterError extends OmniError {
  override readonly name = 'InvalidParameterError';
  override readonly kind: ErrorKind = 'invalid_request';
  override readonly param: string;
  constructor(param: string, message: string) {
    super('invalid_parameter', message);
    this.param = param;
  }
}

export class AuthenticationError extends OmniError {
  override readonly name = 'AuthenticationError';
  override readonly kind = 'unauthenticated';
  constructor(message: string) {
    super('invalid_api_key', message);
  }
}

export class NotFoundError extends OmniError {
  override readonly name = 'NotFoundError';
  override readonly kind = 'not_found';
  override readonly param: string;
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(`${resource}_not_found`, message);
    this.param = resource;
  }
}

/** The prompt (plus the requested completion) does not fit in the model's context. */
export class ContextLengthError extends OmniError {
  override readonly name = 'ContextLengthError';
  override readonly kind = 'too_large';
  override readonly param = 'messages';
  constructor(
    readonly promptTokens: number,
    readonly contextLength: number,
    /** Said after the message (e.g. that a node's report of it was not confirmed). */
    note = '',
  ) {
    super(
      'context_length_exceeded',
      `The prompt is ${promptTokens} tokens (with max_tokens) but the model's context holds ${contextLength}. Shorten the prompt or lower max_tokens.${note}`,
    );
  }
}

/** The router's queue is full; retry after `retryAfterSeconds`. */
export class QueueFullError extends OmniError {
  override readonly name = 'QueueFullError';
  override readonly kind = 'rate_limited';
  override readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('queue_full', `The router's queue is full. Retry after ${retryAfterSeconds} s.`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No connected node can serve the model right now. */
export class NoNodeError extends OmniError {
  override readonly name = 'NoNodeError';
  override readonly kind = 'unavailable';
  override readonly param = 'model';
  constructor(readonly model: string) {
    super(
      'no_node_available',
      `No connected compute node serves the model '${model}'. Start a node with it.`,
    );
  }
}

/**
 * The check the request's validation level asks for cannot be made by the nodes connected now (no
 * validator, too few independent workers), or stopped being possible while the task waited: 503, naming
 * what is missing, instead of holding the task and its payment with no end.
 */
export class VerificationUnavailableError extends OmniError {
  override readonly name = 'VerificationUnavailableError';
  override readonly kind = 'unavailable';
  override readonly param = 'validation';
  constructor(
    readonly missing: string,
    hint = 'Retry when one is, or ask for another validation level.',
  ) {
    super('verification_unavailable', `${missing}. ${hint}`);
  }
}

/** A task failed on every attempt the router allows. */
export class TaskFailedError extends OmniError {
  override readonly name = 'TaskFailedError';
  override readonly kind = 'upstream_failed';
  constructor(
    readonly taskId: string,
    readonly attempts: number,
    reason: string,
  ) {
    super('task_failed', `Task ${taskId} failed after ${attempts} attempt(s): ${reason}`);
  }
}

/** A node message failed validation, signature or replay checks. */
export class ProtocolError extends OmniError {
  override readonly name = 'ProtocolError';
  constructor(reason: string, message: string) {
    super(`protocol_${reason}`, message);
  }
}

/** The caller may not do this (another account's data, an operator's action): HTTP 403. */
export class ForbiddenError extends OmniError {
  override readonly name = 'ForbiddenError';
  override readonly kind = 'forbidden';
  override readonly param: string | null;
  constructor(
    message: string,
    /** The request field that asked for what is not allowed, when one did. */
    param: string | null = null,
  ) {
    super('forbidden', message);
    this.param = param;
  }
}

/** A request the payer cannot cover, refused before any node works on it: HTTP 402. */
export class PaymentRequiredError extends OmniError {
  override readonly name = 'PaymentRequiredError';
  override readonly kind = 'payment_required';
  constructor(message: string, code = 'insufficient_funds') {
    super(code, message);
  }
}

/** A client sent more requests than its rate allows: HTTP 429 with Retry-After. */
export class RateLimitedError extends OmniError {
  override readonly name: string = 'RateLimitedError';
  override readonly kind = 'rate_limited';
  override readonly retryAfterSeconds: number;
  constructor(
    readonly per: string,
    readonly ratePerSecond: number,
    retryAfterSeconds: number,
    code = 'rate_limit_exceeded',
    message = `Too many requests for this ${per} (limit ${ratePerSecond}/s). Retry after ${retryAfterSeconds} s.`,
  ) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** An Idempotency-Key sent again with a different request: HTTP 409, as Stripe answers. */
export class IdempotencyKeyReusedError extends OmniError {
  override readonly name = 'IdempotencyKeyReusedError';
  override readonly kind = 'conflict';
  override readonly param = 'Idempotency-Key';
  constructor(message: string) {
    super('idempotency_key_reused', message);
  }
}

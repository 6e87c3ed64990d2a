/** Base of every error the project raises on purpose: a stable `code`, a short message, optional details. */
export class OmniError extends Error {
  override readonly name: string = 'OmniError';
  readonly code: string;
  readonly details: string | undefined;

  constructor(code: string, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** A request field is missing or wrong; `param` names it. */
export class InvalidParameterError extends OmniError {
  override readonly name = 'InvalidParameterError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super('invalid_parameter', message);
  }
}

export class AuthenticationError extends OmniError {
  override readonly name = 'AuthenticationError';
  constructor(message: string) {
    super('invalid_api_key', message);
  }
}

export class NotFoundError extends OmniError {
  override readonly name = 'NotFoundError';
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(`${resource}_not_found`, message);
  }
}

/** The prompt (plus the requested completion) does not fit in the model's context. */
export class ContextLengthError extends OmniError {
  override readonly name = 'ContextLengthError';
  constructor(
    readonly promptTokens: number,
    readonly contextLength: number,
  ) {
    super(
      'context_length_exceeded',
      `The prompt is ${promptTokens} tokens (with max_tokens) but the model's context holds ${contextLength}. Shorten the prompt or lower max_tokens.`,
    );
  }
}

/** The router's queue is full; retry after `retryAfterSeconds`. */
export class QueueFullError extends OmniError {
  override readonly name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number) {
    super('queue_full', `The router's queue is full. Retry after ${retryAfterSeconds} s.`);
  }
}

/** No connected node can serve the model right now. */
export class NoNodeError extends OmniError {
  override readonly name = 'NoNodeError';
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
  readonly status = 503;
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

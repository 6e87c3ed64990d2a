import {
  chatCompletionRequest,
  checkedChatBody,
  completionRequest,
  embeddingRequest,
  type GenerationParams,
  InvalidParameterError,
  NoNodeError,
  NotFoundError,
  parseBody,
  parseValidationLevel,
  sessionPromptRequest,
  type TaskInput,
  type ValidationLevel,
} from '../../protocol/index.js';
import type { ModelRecord, SessionParams, SessionRecord } from '../../store/index.js';
import type { RouterServices } from '../context.js';

/**
 * The one path from an API request to a task: the OpenAI routes, batch lines and session prompts all turn
 * their bodies into a `TaskRequest` here (model, session, input with its generation parameters, validation
 * level). What it may cost is quoted when the task manager admits it (payments hold the most it can cost).
 */
export const taskEndpoints = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
export type TaskEndpoint = (typeof taskEndpoints)[number];

export type TaskRequest = {
  model: ModelRecord;
  sessionId: string;
  input: TaskInput;
  validation: ValidationLevel;
  /** How the answer is shaped: the endpoint it came to. */
  shape: 'chat' | 'completion' | 'embedding';
  stream: boolean;
  includeUsage: boolean;
  /** Embeddings as base64 float32 (OpenAI's client asks for it by default). */
  base64: boolean;
};

/** Who asks: the key whose account pays, and that key's default validation level. */
export type Requester = { keyId: string; keyValidation: string | null };

type SamplingFields = {
  max_tokens?: number | null | undefined;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  seed?: number | null | undefined;
  stop?: string | string[] | null | undefined;
};

/**
 * A request body for `endpoint` as a task. `live` requests need a node serving the model now (503 otherwise);
 * batch lines only need the model registered, since a batch waits for nodes within its window.
 */
export function taskRequest(
  services: RouterServices,
  who: Requester,
  endpoint: TaskEndpoint,
  body: unknown,
  options: { live: boolean },
): TaskRequest {
  const find = (name: string) => {
    const model = options.live ? servableModel(services, name) : registeredModel(services, name);
    return { model, session: services.sessions.implicitFor(who.keyId, model.sha256, model.name) };
  };
  if (endpoint === '/v1/embeddings') {
    const request = parseBody(embeddingRequest, body);
    const { model, session } = find(request.model);
    return {
      model,
      sessionId: session.id,
      input: {
        kind: 'embedding',
        input: typeof request.input === 'string' ? [request.input] : request.input,
      },
      validation: validationOf(request.validation, session.params, who.keyValidation),
      shape: 'embedding',
      stream: false,
      includeUsage: false,
      base64: request.encoding_format === 'base64',
    };
  }
  if (endpoint === '/v1/completions') {
    const request = parseBody(completionRequest, body);
    const { model, session } = find(request.model);
    const prompt = typeof request.prompt === 'string' ? request.prompt : (request.prompt[0] as string);
    return {
      model,
      sessionId: session.id,
      input: {
        kind: 'completion',
        prompt,
        params: generationParams(services, model, request, session.params),
      },
      validation: validationOf(request.validation, session.params, who.keyValidation),
      shape: 'completion',
      stream: request.stream === true,
      includeUsage: request.stream_options?.include_usage === true,
      base64: false,
    };
  }
  const request = checkedChatBody(body) ?? parseBody(chatCompletionRequest, body);
  const { model, session } = find(request.model);
  const maxField = request.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const params = generationParams(
    services,
    model,
    { ...request, max_tokens: request.max_completion_tokens ?? request.max_tokens },
    session.params,
    maxField,
  );
  const messages = request.messages.map((m) => ({
    role: m.role === 'developer' ? ('system' as const) : m.role,
    content: m.content,
  }));
  return {
    model,
    sessionId: session.id,
    input: { kind: 'chat', messages, params },
    validation: validationOf(request.validation, session.params, who.keyValidation),
    shape: 'chat',
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    base64: false,
  };
}

/** A prompt sent to a session (`POST /api/sessions/{id}/prompts`): the session's model and defaults. */
export function sessionTaskRequest(
  services: RouterServices,
  who: Requester,
  session: SessionRecord,
  body: unknown,
): TaskRequest {
  const request = parseBody(sessionPromptRequest, body);
  if (!request.messages && request.prompt === undefined)
    throw new InvalidParameterError('prompt', "Send 'messages' or 'prompt'.");
  const model = servableModel(services, session.modelSha256);
  const params = generationParams(services, model, {}, session.params);
  const messages = request.messages ?? [{ role: 'user' as const, content: request.prompt ?? '' }];
  return {
    model: { ...model, name: session.modelName },
    sessionId: session.id,
    input: { kind: 'chat', messages, params },
    validation: validationOf(undefined, session.params, who.keyValidation),
    shape: 'chat',
    stream: request.stream === true,
    includeUsage: true,
    base64: false,
  };
}

/** A registered model that some connected node can serve right now. */
export function servableModel(services: RouterServices, name: string): ModelRecord {
  const model = registeredModel(services, name);
  if (!services.scheduler.canServe(model.sha256)) throw new NoNodeError(name);
  return model;
}

function registeredModel(services: RouterServices, name: string): ModelRecord {
  const model = services.models.resolve(name);
  if (!model)
    throw new NotFoundError('model', `The model '${name}' does not exist. List models with GET /v1/models.`);
  return model;
}

/** Request sampling fields, then the session's defaults, then the router's. */
export function generationParams(
  services: RouterServices,
  model: ModelRecord,
  fields: SamplingFields,
  defaults: SessionParams = {},
  maxTokensField = 'max_tokens',
): GenerationParams {
  const maxTokens =
    fields.max_tokens ?? defaults.maxTokens ?? Math.min(services.defaultMaxTokens, model.contextLength - 1);
  if (maxTokens >= model.contextLength) {
    throw new InvalidParameterError(
      maxTokensField,
      `'${maxTokensField}' is ${maxTokens} but the model's context holds ${model.contextLength} tokens in all.`,
    );
  }
  const seed = fields.seed ?? defaults.seed;
  const stop = fields.stop == null ? [] : typeof fields.stop === 'string' ? [fields.stop] : fields.stop;
  return {
    maxTokens,
    temperature: fields.temperature ?? defaults.temperature ?? 1,
    topP: fields.top_p ?? defaults.topP ?? 1,
    stop: stop.filter((s) => s.length > 0),
    ...(seed === undefined ? {} : { seed }),
  };
}

/** The request's validation level, else the session's, else the API key's default, else `auto`. */
export function validationOf(
  field: string | null | undefined,
  defaults: SessionParams = {},
  keyDefault: string | null = null,
): ValidationLevel {
  if (field != null) return parseValidationLevel(field, 'validation');
  return parseValidationLevel(defaults.validation ?? keyDefault ?? 'auto', 'validation');
}

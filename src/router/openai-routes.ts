import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatAmount } from '../ledger/index.js';
import {
  chatCompletionRequest,
  completionRequest,
  type EmbeddingListView,
  embeddingRequest,
  type GenerationParams,
  InvalidParameterError,
  type ListView,
  type ModelView,
  NoNodeError,
  NotFoundError,
  parseBody,
  type TaskInput,
} from '../protocol/index.js';
import type { ModelRecord, SessionParams } from '../store/index.js';
import { parseValidationLevel, type ValidationLevel } from '../verify/index.js';
import type { RouterServices } from './context.js';
import { clientTaskKey } from './idempotency.js';
import { completionBody, type Shape, streamTask, taskHeaders, usageOf, validationField } from './respond.js';

type SamplingFields = {
  max_tokens?: number | null | undefined;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  seed?: number | null | undefined;
  stop?: string | string[] | null | undefined;
};

/** A registered model that some connected node can serve right now. */
export function servableModel(services: RouterServices, name: string): ModelRecord {
  const model = services.models.resolve(name);
  if (!model)
    throw new NotFoundError('model', `The model '${name}' does not exist. List models with GET /v1/models.`);
  if (!services.scheduler.canServe(model.sha256)) throw new NoNodeError(name);
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

/** What the answer cost in tokens (the task and its checks), when the network charges for it. */
function costHeader(handle: { cost: bigint | null }): Record<string, string> {
  return handle.cost === null ? {} : { 'x-omnitensor-cost': formatAmount(handle.cost) };
}

/** Submits a generation task and answers with JSON or a stream. */
export async function runGeneration(
  services: RouterServices,
  request: FastifyRequest,
  reply: FastifyReply,
  job: {
    model: ModelRecord;
    sessionId: string;
    input: TaskInput;
    shape: Shape;
    stream: boolean;
    includeUsage: boolean;
    validation: ValidationLevel;
  },
) {
  const handle = services.tasks.submit({
    keyId: request.keyId,
    sessionId: job.sessionId,
    ...clientTaskKey(request),
    model: job.model,
    input: job.input,
    validation: job.validation,
  });
  if (job.stream) return streamTask(reply, job.shape, handle, job.includeUsage);
  const result = await handle.result;
  return reply
    .headers({ ...taskHeaders(handle, result), ...costHeader(handle) })
    .send(completionBody(job.shape, handle, result));
}

/** The OpenAI-compatible user API under /v1. */
export function openAiRoutes(app: FastifyInstance, services: RouterServices): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parseBody(chatCompletionRequest, request.body);
    const model = servableModel(services, body.model);
    const session = services.sessions.implicitFor(request.keyId, model.sha256, model.name);
    const maxField = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    const params = generationParams(
      services,
      model,
      { ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens },
      session.params,
      maxField,
    );
    const messages = body.messages.map((m) => ({
      role: m.role === 'developer' ? ('system' as const) : m.role,
      content: m.content,
    }));
    return runGeneration(services, request, reply, {
      model,
      sessionId: session.id,
      input: { kind: 'chat', messages, params },
      shape: 'chat',
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      validation: validationOf(body.validation, session.params, request.keyValidation),
    });
  });

  app.post('/v1/completions', async (request, reply) => {
    const body = parseBody(completionRequest, request.body);
    const model = servableModel(services, body.model);
    const session = services.sessions.implicitFor(request.keyId, model.sha256, model.name);
    const prompt = typeof body.prompt === 'string' ? body.prompt : (body.prompt[0] as string);
    return runGeneration(services, request, reply, {
      model,
      sessionId: session.id,
      input: { kind: 'completion', prompt, params: generationParams(services, model, body, session.params) },
      shape: 'completion',
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      validation: validationOf(body.validation, session.params, request.keyValidation),
    });
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = parseBody(embeddingRequest, request.body);
    const model = servableModel(services, body.model);
    const session = services.sessions.implicitFor(request.keyId, model.sha256, model.name);
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    const handle = services.tasks.submit({
      keyId: request.keyId,
      sessionId: session.id,
      ...clientTaskKey(request),
      model,
      input: { kind: 'embedding', input },
      validation: validationOf(body.validation, session.params, request.keyValidation),
    });
    const result = await handle.result;
    const vectors = result.output.embeddings ?? [];
    return reply.headers({ ...taskHeaders(handle, result), ...costHeader(handle) }).send({
      object: 'list',
      data: vectors.map((embedding, index) => ({
        object: 'embedding',
        index,
        // base64 is float32 little-endian bytes, as OpenAI sends it (its client asks for this by default).
        embedding:
          body.encoding_format === 'base64'
            ? Buffer.from(new Float32Array(embedding).buffer).toString('base64')
            : embedding,
      })),
      model: model.name,
      usage: {
        prompt_tokens: usageOf(handle, result).prompt_tokens,
        total_tokens: usageOf(handle, result).prompt_tokens,
      },
      ...validationField(handle),
    } satisfies EmbeddingListView);
  });

  app.get('/v1/models', async (): Promise<ListView<ModelView>> => {
    const servable = services.scheduler.servableModels();
    // Each id answers a request for it: a name lists the file it means (the newest the operator registered under
    // it), other files, and those only nodes announced, list under their sha256. list() is newest first by name.
    const named = new Set<string>();
    const data = services.models.list().flatMap((m): ModelView[] => {
      const id = m.registered && !named.has(m.name) ? m.name : m.sha256;
      if (m.registered) named.add(m.name);
      if (!servable.has(m.sha256)) return [];
      return [
        {
          id,
          object: 'model',
          created: Math.floor(m.addedAt / 1000),
          owned_by: 'omnitensor',
          sha256: m.sha256,
          context_length: m.contextLength,
          quantization: m.quantization,
        },
      ];
    });
    return { object: 'list', data };
  });
}

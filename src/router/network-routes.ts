import type { FastifyInstance } from 'fastify';
import { NotFoundError, parseBody, sessionPromptRequest, sessionRequest } from '../protocol/index.js';
import type { RouterServices } from './context.js';
import { generationParams, runGeneration, servableModel } from './openai-routes.js';

/** The network's own API under /api: sessions (seed 004) and task lookup. */
export function networkRoutes(app: FastifyInstance, services: RouterServices): void {
  app.post('/api/sessions', async (request, reply) => {
    const body = parseBody(sessionRequest, request.body);
    // The model must be servable now, before the session accepts any prompt.
    const model = servableModel(services, body.model);
    const params = {
      ...(body.max_tokens === undefined ? {} : { maxTokens: body.max_tokens }),
      ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
      ...(body.top_p === undefined ? {} : { topP: body.top_p }),
      ...(body.seed === undefined ? {} : { seed: body.seed }),
    };
    generationParams(services, model, {}, params);
    const session = services.sessions.create({
      keyId: request.keyId,
      modelSha256: model.sha256,
      modelName: model.name,
      params,
      implicit: false,
    });
    return reply.code(201).send(sessionView(session));
  });

  app.get<{ Params: { id: string } }>('/api/sessions/:id', async (request) =>
    sessionView(ownSession(services, request.keyId, request.params.id)),
  );

  app.post<{ Params: { id: string } }>('/api/sessions/:id/prompts', async (request, reply) => {
    const session = ownSession(services, request.keyId, request.params.id);
    const body = parseBody(sessionPromptRequest, request.body);
    const model = servableModel(services, session.modelSha256);
    const params = generationParams(services, model, {}, session.params);
    const input = body.messages
      ? { kind: 'chat' as const, messages: body.messages, params }
      : { kind: 'chat' as const, messages: [{ role: 'user' as const, content: body.prompt ?? '' }], params };
    if (!body.messages && body.prompt === undefined) {
      return reply.code(400).send({
        error: {
          message: "Send 'messages' or 'prompt'.",
          type: 'invalid_request_error',
          param: 'prompt',
          code: 'invalid_parameter',
        },
      });
    }
    return runGeneration(services, request, reply, {
      model: { ...model, name: session.modelName },
      sessionId: session.id,
      input,
      shape: 'chat',
      stream: body.stream === true,
      includeUsage: true,
    });
  });

  app.get<{ Params: { id: string } }>('/api/tasks/:id', async (request) => {
    const task = services.taskStore.get(request.params.id);
    if (!task || task.keyId !== request.keyId)
      throw new NotFoundError('task', `No task '${request.params.id}' for this key.`);
    const result = task.status === 'done' ? services.taskStore.result(task.id) : undefined;
    return {
      id: task.id,
      status: task.status,
      model: task.modelName,
      attempts: task.attempts,
      created: task.createdAt,
      ...(result ? { node: result.nodeId, output: result.output } : {}),
      ...(task.error ? { error: task.error } : {}),
    };
  });
}

function ownSession(services: RouterServices, keyId: string, id: string) {
  const session = services.sessions.get(id);
  // Another key's session is reported as missing, not forbidden: ids of others are not confirmed.
  if (!session || session.keyId !== keyId)
    throw new NotFoundError('session', `No session '${id}' for this key.`);
  return session;
}

function sessionView(session: ReturnType<RouterServices['sessions']['get']> & object) {
  return {
    id: session.id,
    object: 'session',
    model: session.modelName,
    model_sha256: session.modelSha256,
    params: session.params,
    created: Math.floor(session.createdAt / 1000),
  };
}

import type { FastifyInstance } from 'fastify';
import { formatAmount, InsufficientFundsError, parseJsonAmount } from '../../ledger/index.js';
import type { SessionView, TaskView } from '../../protocol/index.js';
import { ForbiddenError, NotFoundError, parseBody, sessionRequest } from '../../protocol/index.js';
import type { RouterServices } from '../context.js';
import { generationParams, servableModel, sessionTaskRequest, validationOf } from './requests.js';
import { runGeneration } from './respond.js';

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
      ...(body.validation === undefined ? {} : { validation: body.validation }),
    };
    generationParams(services, model, {}, params);
    validationOf(body.validation);
    // A budget (whole tokens) is escrowed from the account now; without one each prompt pays from the balance.
    const budgetField = (request.body as { budget?: unknown }).budget;
    let budget: bigint | undefined;
    if (budgetField !== undefined && budgetField !== null) {
      budget = parseJsonAmount(budgetField, 'budget');
      if (!request.account)
        throw new ForbiddenError('A session budget is paid from an account, and this API key has none.');
      const balance = services.ledger.balance(request.account);
      if (balance < budget) throw new InsufficientFundsError(request.account, budget, balance);
    }
    const session = services.sessions.create({
      keyId: request.keyId,
      modelSha256: model.sha256,
      modelName: model.name,
      params,
      implicit: false,
    });
    if (budget !== undefined && budget > 0n) {
      services.payments.openBudget(session.id, request.account as string, budget);
      await services.ledger.sync();
    }
    return reply.code(201).send(sessionView(services, session));
  });

  app.get<{ Params: { id: string } }>('/api/sessions/:id', async (request) =>
    sessionView(services, ownSession(services, request.keyId, request.params.id)),
  );

  // Ends a session: what its budget's holds do not reserve returns to the account now, the rest as they end.
  app.delete<{ Params: { id: string } }>('/api/sessions/:id', async (request): Promise<SessionView> => {
    const session = ownSession(services, request.keyId, request.params.id);
    if (services.payments.budget(session.id)) services.ledger.escrows.close(session.id);
    await services.ledger.sync();
    return { ...sessionView(services, session), closed: true };
  });

  app.post<{ Params: { id: string } }>('/api/sessions/:id/prompts', async (request, reply) => {
    const session = ownSession(services, request.keyId, request.params.id);
    return runGeneration(
      services,
      request,
      reply,
      sessionTaskRequest(services, request, session, request.body),
    );
  });

  // A node's public record (GET /api/nodes/{id}) moved to metrics-routes.ts with the node pages (issue 11).

  app.get<{ Params: { id: string } }>('/api/tasks/:id', async (request): Promise<TaskView> => {
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

function sessionView(
  services: RouterServices,
  session: ReturnType<RouterServices['sessions']['get']> & object,
): SessionView {
  const escrow = services.payments.budget(session.id);
  return {
    id: session.id,
    object: 'session',
    model: session.modelName,
    model_sha256: session.modelSha256,
    params: session.params,
    created: Math.floor(session.createdAt / 1000),
    ...(escrow
      ? {
          budget: {
            status: escrow.status,
            escrowed: formatAmount(escrow.balance),
            held: formatAmount(escrow.held),
            available: formatAmount(escrow.available),
            expires_at: escrow.expiresAt === null ? null : Math.floor(escrow.expiresAt / 1000),
          },
        }
      : {}),
  };
}

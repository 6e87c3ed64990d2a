import type { FastifyInstance } from 'fastify';
import type { EmbeddingListView, ListView, ModelView } from '../../protocol/index.js';
import type { RouterServices } from '../context.js';
import { clientTaskKey } from '../tasks/idempotency.js';
import { taskRequest } from './requests.js';
import { costHeader, runGeneration, taskHeaders, usageOf, validationField } from './respond.js';

/** The OpenAI-compatible user API under /v1. */
export function openAiRoutes(app: FastifyInstance, services: RouterServices): void {
  // Each generation route turns its body into a task through the one request module (./requests.ts).
  for (const endpoint of ['/v1/chat/completions', '/v1/completions'] as const) {
    app.post(endpoint, async (request, reply) =>
      runGeneration(
        services,
        request,
        reply,
        taskRequest(services, request, endpoint, request.body, { live: true }),
      ),
    );
  }

  app.post('/v1/embeddings', async (request, reply) => {
    const job = taskRequest(services, request, '/v1/embeddings', request.body, { live: true });
    const handle = services.tasks.submit({
      keyId: request.keyId,
      sessionId: job.sessionId,
      ...clientTaskKey(request),
      model: job.model,
      input: job.input,
      validation: job.validation,
    });
    const result = await handle.result;
    const vectors = result.output.embeddings ?? [];
    return reply.headers({ ...taskHeaders(handle, result), ...costHeader(handle) }).send({
      object: 'list',
      data: vectors.map((embedding, index) => ({
        object: 'embedding',
        index,
        // base64 is float32 little-endian bytes, as OpenAI sends it (its client asks for this by default).
        embedding: job.base64
          ? Buffer.from(new Float32Array(embedding).buffer).toString('base64')
          : embedding,
      })),
      model: job.model.name,
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

import { createReadStream, type Stats, statSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ListView, ModelCatalogEntry } from '../../protocol/index.js';
import { NotFoundError } from '../../protocol/index.js';
import type { ModelRecord, RouterServices } from '../context.js';

export type { ModelCatalogEntry } from '../../protocol/index.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Model distribution, public (nodes hold no API key): the catalog of registered models with the number of
 * nodes serving each, and the model files the router holds, with Range support so downloads resume.
 */
export function modelRoutes(app: FastifyInstance, services: RouterServices): void {
  app.get('/api/models', async (): Promise<ListView<ModelCatalogEntry>> => {
    const nodes = services.scheduler.nodesPerModel();
    const data: ModelCatalogEntry[] = services.models.list().map((m) => ({
      name: m.name,
      sha256: m.sha256,
      architecture: m.architecture,
      quantization: m.quantization,
      parameters: m.parameterCount,
      context_length: m.contextLength,
      size_bytes: m.sizeBytes,
      nodes: nodes.get(m.sha256) ?? 0,
      downloadable: fileOf(m) !== undefined,
      created: Math.floor(m.addedAt / 1000),
      registered: m.registered,
    }));
    return { object: 'list', data };
  });

  app.route<{ Params: { sha256: string } }>({
    method: ['GET', 'HEAD'],
    url: '/api/models/:sha256/file',
    handler: async (request, reply) => serveFile(services, request, reply),
  });
}

function fileOf(model: ModelRecord): Stats | undefined {
  if (!model.path) return undefined;
  try {
    const stats = statSync(model.path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

async function serveFile(
  services: RouterServices,
  request: FastifyRequest<{ Params: { sha256: string } }>,
  reply: FastifyReply,
) {
  const sha = request.params.sha256.toLowerCase();
  const model = SHA256.test(sha) ? services.models.get(sha) : undefined;
  const stats = model && fileOf(model);
  if (!model || !stats || !model.path)
    throw new NotFoundError(
      'model',
      model
        ? `The router has model '${model.name}' (${sha}) registered but holds no file for it; register the file with \`otensor-cli model add FILE|URL --name ${model.name}\`.`
        : `No model with sha256 '${request.params.sha256}' is registered on this router. List models with GET /api/models.`,
    );
  const size = stats.size;
  const etag = `"${sha}"`;
  reply.header('accept-ranges', 'bytes');
  reply.header('etag', etag);
  reply.header('cache-control', 'public, max-age=31536000, immutable');
  if (request.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) return reply.code(304).send();

  const ifRange = request.headers['if-range'];
  const header = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const range = header === undefined ? undefined : parseRange(header, size);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    return reply.code(416).send({
      error: {
        message: `Range '${header}' is outside the file's ${size} bytes.`,
        type: 'invalid_request_error',
        param: 'range',
        code: 'range_not_satisfiable',
      },
    });
  }
  reply.header('content-type', 'application/octet-stream');
  reply.header('content-disposition', `attachment; filename="${sha}.gguf"`);
  const [start, end] = range ?? [0, size - 1];
  if (range) {
    reply.code(206);
    reply.header('content-range', `bytes ${start}-${end}/${size}`);
  }
  reply.header('content-length', String(Math.max(0, end - start + 1)));
  if (request.method === 'HEAD' || size === 0) return reply.send();
  return reply.send(createReadStream(model.path, { start, end }));
}

/**
 * One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the file. undefined (serve the whole
 * file, as RFC 9110 allows) for a malformed header or several ranges; 'unsatisfiable' when it starts past
 * the end.
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return [start, end];
}

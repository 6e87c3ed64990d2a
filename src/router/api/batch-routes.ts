import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type {
  BatchListView,
  BatchView,
  FileDeletedView,
  FileListView,
  FileView,
} from '../../protocol/index.js';
import { InvalidParameterError, NotFoundError, parseBody } from '../../protocol/index.js';
import type { BatchRecord, Db, FileRecord } from '../../store/index.js';
import type { RouterServices } from '../context.js';
import type { Logger } from '../log.js';
import { batchEndpoints } from './batch-lines.js';
import { BatchService } from './batches.js';
import { boundaryOf, parseMultipart } from './multipart.js';

/** Uploads may be larger than JSON request bodies. */
export const maxFileBytes = 200 * 1024 * 1024;

const batchRequest = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.enum(batchEndpoints),
  completion_window: z.literal('24h'),
  metadata: z.record(z.string().max(512)).optional().nullable(),
});

function seconds(ms: number): number;
function seconds(ms: number | null): number | null;
function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

export function fileView(file: FileRecord): FileView {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: seconds(file.createdAt),
    expires_at: null,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    status_details: null,
  };
}

export function batchView(batch: BatchRecord, counts: { completed: number; failed: number }): BatchView {
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    errors: batch.errors ? { object: 'list', data: batch.errors } : null,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: seconds(batch.createdAt),
    in_progress_at: seconds(batch.inProgressAt),
    expires_at: seconds(batch.expiresAt),
    finalizing_at: seconds(batch.finalizingAt),
    completed_at: seconds(batch.completedAt),
    failed_at: seconds(batch.failedAt),
    expired_at: seconds(batch.expiredAt),
    cancelling_at: seconds(batch.cancellingAt),
    cancelled_at: seconds(batch.cancelledAt),
    request_counts: { total: batch.total, completed: counts.completed, failed: counts.failed },
    metadata: batch.metadata,
  };
}

function limitOf(query: unknown): number {
  const raw = (query as { limit?: string }).limit;
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new InvalidParameterError('limit', "'limit' must be a whole number from 1 to 100.");
  return limit;
}

/** OpenAI's Files and Batch APIs under /v1; files and batches belong to the key that made them. */
export function batchRoutes(
  api: FastifyInstance,
  services: RouterServices,
  options: { db: Db; log: Logger; queueLimit: number; batchWindowMs: number },
): void {
  const batches = new BatchService({
    db: options.db,
    services,
    log: options.log,
    maxQueued: Math.max(1, Math.min(64, Math.floor(options.queueLimit / 4))),
    windowMs: options.batchWindowMs,
  });
  const { files } = batches;
  api.addHook('onReady', async () => batches.start());
  api.addHook('onClose', async () => batches.stop());

  const ownFile = (keyId: string, id: string) => {
    const file = files.get(id);
    if (!file || file.keyId !== keyId) throw new NotFoundError('file', `No file '${id}' for this key.`);
    return file;
  };
  const ownBatch = (keyId: string, id: string) => {
    const batch = batches.store.get(id);
    if (!batch || batch.keyId !== keyId) throw new NotFoundError('batch', `No batch '${id}' for this key.`);
    return batch;
  };
  const view = (batch: BatchRecord) => batchView(batch, batches.store.counts(batch.id));

  api.register(async (scope) => {
    scope.addContentTypeParser(
      'multipart/form-data',
      { parseAs: 'buffer', bodyLimit: maxFileBytes },
      (_r, body, done) => done(null, body),
    );
    scope.post('/v1/files', async (request) => {
      if (!Buffer.isBuffer(request.body))
        throw new InvalidParameterError('file', 'Upload the file as multipart/form-data.');
      const parts = parseMultipart(request.body, boundaryOf(request.headers['content-type']));
      const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8');
      if (purpose === undefined) throw new InvalidParameterError('purpose', "'purpose' is required.");
      if (purpose !== 'batch')
        throw new InvalidParameterError('purpose', `'purpose' must be 'batch', not '${purpose}'.`);
      const file = parts.find((p) => p.name === 'file' && p.filename !== null);
      if (!file)
        throw new InvalidParameterError('file', "'file' is required: a JSONL file part with a filename.");
      if (file.data.length === 0) throw new InvalidParameterError('file', 'The file is empty.');
      const record = files.add(
        { keyId: request.keyId, purpose: 'batch', filename: file.filename ?? 'upload.jsonl' },
        Buffer.from(file.data),
      );
      return fileView(record);
    });
  });

  api.get(
    '/v1/files',
    async (request) =>
      ({
        object: 'list',
        data: files.list(request.keyId, limitOf(request.query)).map(fileView),
        has_more: false,
      }) satisfies FileListView,
  );
  api.get<{ Params: { id: string } }>('/v1/files/:id', async (request) =>
    fileView(ownFile(request.keyId, request.params.id)),
  );
  api.delete<{ Params: { id: string } }>('/v1/files/:id', async (request): Promise<FileDeletedView> => {
    const file = ownFile(request.keyId, request.params.id);
    files.delete(file.id);
    return { id: file.id, object: 'file', deleted: true };
  });
  api.get<{ Params: { id: string } }>('/v1/files/:id/content', async (request, reply) => {
    const file = ownFile(request.keyId, request.params.id);
    return reply.type('application/jsonl').send(files.content(file.id));
  });

  api.post('/v1/batches', async (request) => {
    const body = parseBody(batchRequest, request.body);
    const input = files.get(body.input_file_id);
    if (!input || input.keyId !== request.keyId)
      throw new InvalidParameterError('input_file_id', `No file '${body.input_file_id}' for this key.`);
    if (input.purpose !== 'batch')
      throw new InvalidParameterError(
        'input_file_id',
        `File '${input.id}' has purpose '${input.purpose}', not 'batch'.`,
      );
    const batch = batches.create(request.keyId, {
      inputFileId: input.id,
      endpoint: body.endpoint,
      completionWindow: body.completion_window,
      metadata: body.metadata ?? null,
    });
    return view(batch);
  });
  api.get('/v1/batches', async (request): Promise<BatchListView> => {
    const limit = limitOf(request.query);
    const after = (request.query as { after?: string }).after;
    const before = after ? ownBatch(request.keyId, after).createdAt : undefined;
    let list = batches.store.list(request.keyId, limit + 2, before);
    if (after) list = list.filter((b) => b.id !== after);
    const page = list.slice(0, limit);
    return {
      object: 'list',
      data: page.map(view),
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
      has_more: list.length > limit,
    };
  });
  api.get<{ Params: { id: string } }>('/v1/batches/:id', async (request) =>
    view(ownBatch(request.keyId, request.params.id)),
  );
  api.post<{ Params: { id: string } }>('/v1/batches/:id/cancel', async (request) =>
    view(batches.cancel(ownBatch(request.keyId, request.params.id))),
  );
}

import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskHandle } from '../tasks/task-manager.js';
import { STREAM_BUFFER_LIMIT, streamTask } from './respond.js';

const handle = () =>
  new TaskHandle({
    id: 'task_1',
    keyId: 'k',
    sessionId: null,
    idempotencyKey: null,
    modelSha256: 'a'.repeat(64),
    modelName: 'tiny',
    input: { kind: 'completion', prompt: 'p', params: { maxTokens: 1, temperature: 0, topP: 1, stop: [] } },
    status: 'running',
    attempts: 1,
    nodeId: null,
    error: null,
    createdAt: Date.now(),
    validation: null,
  });

describe('streaming to a client', () => {
  const apps: ReturnType<typeof Fastify>[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('drops the stream of a client that stops reading, instead of buffering without bound', async () => {
    const task = handle();
    const app = Fastify({ forceCloseConnections: true });
    apps.push(app);
    let closed = false;
    app.get('/stream', (_request, reply) => {
      reply.raw.on('close', () => {
        closed = true;
      });
      streamTask(reply, 'completion', task, false);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    client.write(`GET /stream HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
    client.pause();
    while (task.listenerCount('text') === 0) await new Promise((r) => setTimeout(r, 5));

    // The client reads nothing; the node keeps producing text (64 KiB pieces, up to 64 MiB).
    const piece = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (!closed && sent < 64 * 1024 * 1024) {
      task.emit('text', piece);
      sent += piece.length;
      await new Promise((r) => setImmediate(r));
    }
    expect(closed).toBe(true);
    // Dropped once the kernel's buffers and the router's limit were full, not at the first pause.
    expect(sent).toBeGreaterThan(STREAM_BUFFER_LIMIT);
    // The task no longer feeds the dropped stream, and still finishes for anyone fetching it later.
    expect(task.listenerCount('text')).toBe(0);
    client.destroy();
  });
});

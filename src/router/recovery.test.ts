import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ModelRecord } from '../store/index.js';
import { routerConfig } from './main.js';
import { buildRouter, type RouterApp } from './server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const model: ModelRecord = {
  sha256: 'a'.repeat(64),
  name: 'tiny',
  architecture: 'llama',
  quantization: 'Q8_0',
  parameterCount: 1,
  contextLength: 512,
  sizeBytes: 1,
  path: null,
  addedAt: 0,
};

it('a task recovered after a restart keeps the validation level its request asked for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-recover-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const start = (): RouterApp => {
    const router = buildRouter({
      ...routerConfig.parse({ port: 0, dataDir: dir, verifyThreads: 0 }),
      log: () => {},
    });
    return router;
  };

  const first = start();
  first.services.models.add(model);
  const key = first.services.keys.create('test');
  // A task as the router stores it when a request asks for redundant:3 (admission needs three workers,
  // which this test does not start: the row is what a restart reads back).
  const id = 'task_recovered';
  first.services.taskStore.insert({
    id,
    keyId: key.id,
    sessionId: null,
    idempotencyKey: null,
    modelSha256: model.sha256,
    modelName: model.name,
    input: {
      kind: 'chat',
      messages: [{ role: 'user', content: 'hello' }],
      params: { maxTokens: 8, temperature: 0.7, topP: 1, stop: [], seed: 1 },
    },
    status: 'queued',
    attempts: 0,
    nodeId: null,
    error: null,
    createdAt: Date.now(),
    validation: { kind: 'redundant', k: 3 },
  });
  await first.close();

  const second = start();
  cleanups.push(() => second.close());
  const recovered = second.services.tasks.handle(id);
  expect(recovered?.record.validation).toEqual({ kind: 'redundant', k: 3 });
});

it("a full queue refuses a client's task with 429 but never the check of a task it accepted", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-queue-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const router = buildRouter({
    ...routerConfig.parse({ port: 0, dataDir: dir, verifyThreads: 0, queueLimit: 1 }),
    log: () => {},
  });
  cleanups.push(() => router.close());
  router.services.models.add(model);
  const key = router.services.keys.create('test');
  const input = {
    kind: 'chat' as const,
    messages: [{ role: 'user' as const, content: 'hello' }],
    params: { maxTokens: 8, temperature: 0, topP: 1, stop: [], seed: 1 },
  };
  const submit = (idempotencyKey: string, check: boolean) =>
    router.services.tasks.submit({
      keyId: key.id,
      sessionId: null,
      idempotencyKey,
      model,
      input,
      ...(check ? { placement: { role: 'worker' as const, check: true } } : {}),
    });
  // No node is connected: the first task waits in the queue, which then has no room for another client task.
  submit('client:1', false);
  expect(() => submit('client:2', false)).toThrow(/queue is full/);
  // A check (as verification submits one for an accepted task's result) still gets in.
  const check = submit('check:task_x:1:1', true);
  expect(check.record.status).toBe('queued');
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { Logger } from './log.js';
import { routerConfig } from './main.js';
import { buildRouter } from './server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

it('logs every 500 once, with its stack and request id, through the router logger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-500-'));
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = (level, message, fields = {}) => {
    lines.push({ level, message, fields });
  };
  const router = buildRouter({ ...routerConfig.parse({ port: 0, dataDir: dir, verifyThreads: 0 }), log });
  cleanups.push(async () => {
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // A store failure the routes do not expect, as a full disk or a corrupt page would give.
  vi.spyOn(router.services.keys, 'authenticate').mockImplementation(() => {
    throw new Error('disk I/O error');
  });

  const reply = await router.app.inject({
    method: 'GET',
    url: '/v1/models',
    headers: { authorization: 'Bearer ot-anything' },
  });

  expect(reply.statusCode).toBe(500);
  expect(reply.json().error.code).toBe('internal_error');
  const failures = lines.filter((line) => line.message === 'request failed');
  expect(failures).toHaveLength(1);
  expect(failures[0]?.level).toBe('error');
  expect(failures[0]?.fields.request).toBe(reply.headers['x-request-id']);
  expect(String(failures[0]?.fields.error)).toMatch(/disk I\/O error <- .*error-log\.test\.ts/);
});

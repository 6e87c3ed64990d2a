import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWeb, WEB_SOURCE } from '../../../scripts/build-web.js';
import { WEB_DIST, webRoutes } from './web-routes.js';

const app = Fastify();
beforeAll(async () => {
  webRoutes(app);
  app.get('/v1/models', async () => ({ object: 'list', data: [] }));
  await app.ready();
});
afterAll(() => app.close());

it('serves the dashboard at / as HTML that loads only from this router', async () => {
  const page = await app.inject({ url: '/' });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  expect(page.body).toContain('<script type="module" src="/app.js">');
  expect(page.body).not.toMatch(/https?:\/\//);
});

it('serves the script and style sheet with their types, revalidated by ETag', async () => {
  const script = await app.inject({ url: '/app.js' });
  expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(script.headers['cache-control']).toBe('no-cache');
  const again = await app.inject({
    url: '/app.js',
    headers: { 'if-none-match': String(script.headers.etag) },
  });
  expect(again.statusCode).toBe(304);
  expect(again.body).toBe('');
  expect((await app.inject({ url: '/app.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
  // The API beside it is untouched, and nothing else is served from the folder.
  expect((await app.inject({ url: '/v1/models' })).json()).toEqual({ object: 'list', data: [] });
  expect((await app.inject({ url: '/app.ts' })).statusCode).toBe(404);
});

it('says how to build the dashboard when a copy lacks it, rather than failing to start', async () => {
  const bare = Fastify();
  webRoutes(bare, join(WEB_DIST, 'no-such-folder'));
  const page = await bare.inject({ url: '/' });
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('npm run build:web');
  await bare.close();
});

it('has web/dist built from the current src/web (run `npm run build:web` after changing it)', async () => {
  const built = await buildWeb(WEB_DIST, false);
  expect(built.map((f) => basename(f.path)).sort()).toEqual(['app.css', 'app.js']);
  for (const file of built) expect(file.text, basename(file.path)).toBe(readFileSync(file.path, 'utf8'));
  for (const name of ['index.html', 'favicon.svg'])
    expect(readFileSync(join(WEB_DIST, name), 'utf8'), name).toBe(
      readFileSync(join(WEB_SOURCE, name), 'utf8'),
    );
}, 30_000);

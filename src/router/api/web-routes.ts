import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The built dashboard (web/dist at the package root), the same depth from src/router/api and dist/router/api. */
export const WEB_DIST = resolve(fileURLToPath(import.meta.url), '../../../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

// Everything the page loads comes from this router: no CDN, font or script from elsewhere (blob: is media the
// review page fetched from this router with the user's key, since an <img> cannot send it).
const POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

type WebFile = { body: Buffer; type: string; etag: string };

/**
 * The dashboard at `/`: the few static files of web/dist, read once when the router starts (about 100 KB).
 * Their names carry no hash, so each is revalidated (no-cache plus an ETag of its content): a rebuilt
 * dashboard shows at the next load, and an unchanged one costs a 304.
 */
export function webRoutes(app: FastifyInstance, dir = WEB_DIST): void {
  const files = new Map<string, WebFile>();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const body = readFileSync(join(dir, name));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(name === 'index.html' ? '/' : `/${name}`, { body, type, etag });
    }
  }
  if (!files.has('/')) {
    const body = Buffer.from(
      'The dashboard is not built in this copy: run `npm run build:web` in the package folder and restart.\n',
    );
    files.set('/', { body, type: 'text/plain; charset=utf-8', etag: '"missing"' });
  }
  for (const [path, file] of files) {
    app.get(path, async (request, reply) => {
      reply.headers({
        'content-type': file.type,
        'cache-control': 'no-cache',
        etag: file.etag,
        'x-content-type-options': 'nosniff',
        ...(file.type.startsWith('text/html') ? { 'content-security-policy': POLICY } : {}),
      });
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.send(file.body);
    });
  }
}

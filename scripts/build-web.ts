/**
 * Builds the dashboard (src/web) into web/dist: app.js and app.css bundled and minified by esbuild, with
 * index.html and the icon copied. The output is committed; src/router/api/web-routes.test.ts fails when it is
 * not what this script makes from the source, so run `npm run build:web` after changing src/web.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type OutputFile } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SOURCE = join(root, 'src/web');
const COPIED = ['index.html', 'favicon.svg'];

/** Bundles the app; with `write: false` returns the files (path and bytes) instead of writing them. */
export async function buildWeb(outdir = join(root, 'web/dist'), write = true): Promise<OutputFile[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(WEB_SOURCE, 'main.tsx') },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(WEB_SOURCE, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'warning',
    write,
  });
  if (write) {
    mkdirSync(outdir, { recursive: true });
    for (const name of COPIED) copyFileSync(join(WEB_SOURCE, name), join(outdir, name));
  }
  return result.outputFiles ?? [];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb();
  process.stdout.write('built web/dist\n');
}

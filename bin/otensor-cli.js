#!/usr/bin/env node
// Which code runs: in a checkout (src/ beside bin/) the TypeScript sources, through tsx, so a fresh clone needs
// no build and a stale dist/ from an earlier build never shadows newer sources. The installed package ships
// dist/ and no src/, so there the built JavaScript runs and no TypeScript loader is needed.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/main.js');
}

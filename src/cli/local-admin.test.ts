import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { routerStoreDir } from './local-admin.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-admin-'));
  dirs.push(dir);
  return dir;
};

it("takes the folder given to `up --data` as its router's store", () => {
  const up = fresh();
  mkdirSync(join(up, 'router'));
  writeFileSync(join(up, 'router', 'router.db'), '');
  expect(routerStoreDir(up)).toBe(join(up, 'router'));
});

it("takes a router's own data folder, and a new folder, as they are", () => {
  const own = fresh();
  writeFileSync(join(own, 'router.db'), '');
  expect(routerStoreDir(own)).toBe(own);
  const empty = fresh();
  expect(routerStoreDir(empty)).toBe(empty);
});

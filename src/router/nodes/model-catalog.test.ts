import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelAnnouncement } from '../../protocol/index.js';
import { ModelStore, openDatabase } from '../../store/index.js';
import { migrations } from '../../store/schema.js';
import type { Logger } from '../log.js';
import type { NodeRole } from '../tasks/scheduler.js';
import { ANNOUNCED_MODEL_TTL_MS, announceModels, expireAnnouncedModels } from './model-catalog.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const REGISTERED = 'a'.repeat(64);
const MADE_UP = 'b'.repeat(64);
const OTHER = 'c'.repeat(64);

const file = {
  architecture: 'llama',
  quantization: 'Q8_0',
  parameterCount: 1,
  contextLength: 2048,
  sizeBytes: 1,
};
const announcement = (sha256: string, name: string): ModelAnnouncement => ({
  ...file,
  sha256,
  name,
  tokensPerSecond: 10,
  slots: 1,
});

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-catalog-'));
  dirs.push(dir);
  const models = new ModelStore(openDatabase(dir));
  models.add({ ...file, sha256: REGISTERED, name: 'tiny', path: '/models/tiny.gguf', addedAt: 1 });
  return models;
}

/** A scheduler stand-in: which models connected workers and validators serve. */
const serving = (workers: string[], validators: string[] = []) => ({
  nodesPerModel: (role: NodeRole = 'worker') =>
    new Map((role === 'worker' ? workers : validators).map((sha) => [sha, 1])),
});

describe('names belong to registered models', () => {
  it('a node announcing another file under a registered name neither rebinds nor shadows it', () => {
    const models = store();
    const warnings: unknown[] = [];
    const log: Logger = (level, _message, fields) => level === 'warn' && warnings.push(fields);
    announceModels(
      models,
      [announcement(MADE_UP, 'tiny'), announcement(OTHER, 'unclaimed')],
      'node-1',
      log,
      5,
    );
    expect(models.resolve('tiny')?.sha256).toBe(REGISTERED);
    expect(models.resolve('unclaimed')).toBeUndefined();
    expect(models.resolve(MADE_UP)).toMatchObject({ name: MADE_UP, registered: false });
    expect(warnings).toEqual([{ node: 'node-1', name: 'tiny', announced: MADE_UP, registered: REGISTERED }]);
  });

  it('an announcement of a registered file keeps the operator name; an operator registration takes over an announced file', () => {
    const models = store();
    announceModels(
      models,
      [announcement(REGISTERED, 'evil'), announcement(OTHER, 'x')],
      'node-1',
      () => {},
      5,
    );
    expect(models.get(REGISTERED)).toMatchObject({
      name: 'tiny',
      registered: true,
      path: '/models/tiny.gguf',
    });
    models.add({ ...file, sha256: OTHER, name: 'second', path: '/models/second.gguf', addedAt: 6 });
    expect(models.resolve('second')).toMatchObject({ sha256: OTHER, registered: true });
  });
});

describe('announced models leave the catalog', () => {
  it('drops an announced file once no node has served it for the TTL, and never a registered one', () => {
    const models = store();
    const t0 = 1_000_000;
    announceModels(models, [announcement(MADE_UP, 'm'), announcement(OTHER, 'n')], 'node-1', () => {}, t0);
    // Served by a worker and a validator: seen now, kept however long.
    const later = t0 + 2 * ANNOUNCED_MODEL_TTL_MS;
    expect(expireAnnouncedModels(models, serving([MADE_UP], [OTHER]), later)).toEqual([]);
    expect(models.list().map((m) => m.sha256)).toEqual(expect.arrayContaining([MADE_UP, OTHER]));
    // MADE_UP's last node left at `later`: kept through the TTL, then dropped. Nobody serves REGISTERED either.
    expect(expireAnnouncedModels(models, serving([], [OTHER]), later + ANNOUNCED_MODEL_TTL_MS - 1)).toEqual(
      [],
    );
    expect(expireAnnouncedModels(models, serving([], [OTHER]), later + ANNOUNCED_MODEL_TTL_MS)).toEqual([
      MADE_UP,
    ]);
    expect(models.get(MADE_UP)).toBeUndefined();
    expect(models.get(OTHER)).toBeDefined();
    expect(models.resolve('tiny')?.sha256).toBe(REGISTERED);
  });

  it('a node announcing the file again keeps it', () => {
    const models = store();
    announceModels(models, [announcement(MADE_UP, 'm')], 'node-1', () => {}, 0);
    announceModels(models, [announcement(MADE_UP, 'm')], 'node-2', () => {}, ANNOUNCED_MODEL_TTL_MS);
    expect(expireAnnouncedModels(models, serving([]), ANNOUNCED_MODEL_TTL_MS + 1)).toEqual([]);
    expect(expireAnnouncedModels(models, serving([]), 2 * ANNOUNCED_MODEL_TTL_MS)).toEqual([MADE_UP]);
  });
});

describe('upgrading a store', () => {
  it('turns files nodes announced under a name (no path) into announced models known by sha256', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otensor-catalog-'));
    dirs.push(dir);
    // A store as the previous version left it: an announced file had taken the newest `tiny` entry.
    const old = new Database(join(dir, 'router.db'));
    const before = migrations.findIndex((m) => m.includes('ADD COLUMN announced'));
    for (const migration of migrations.slice(0, before)) old.exec(migration);
    old.pragma(`user_version = ${before}`);
    const insert = old.prepare(
      `INSERT INTO models (sha256, name, architecture, quantization, parameter_count, context_length, size_bytes, path, added_at)
       VALUES (?, 'tiny', 'llama', 'Q8_0', 1, 2048, 1, ?, ?)`,
    );
    insert.run(REGISTERED, '/models/tiny.gguf', 1);
    insert.run(MADE_UP, null, 2);
    old.close();
    const models = new ModelStore(openDatabase(dir));
    expect(models.resolve('tiny')?.sha256).toBe(REGISTERED);
    expect(models.get(MADE_UP)).toMatchObject({ name: MADE_UP, registered: false });
  });
});

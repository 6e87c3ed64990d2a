import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { migrations } from './schema.js';
import { type TaskRecord, TaskStore } from './tasks.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const task = (id: string, idempotencyKey: string | null, extra: Partial<TaskRecord> = {}): TaskRecord => ({
  id,
  keyId: 'key_1',
  sessionId: null,
  idempotencyKey,
  modelSha256: 'ab'.repeat(32),
  modelName: 'tiny',
  input: { kind: 'completion', prompt: 'hi', params: { maxTokens: 4, temperature: 0, topP: 1, stop: [] } },
  status: 'queued',
  attempts: 0,
  nodeId: null,
  error: null,
  createdAt: 1,
  validation: null,
  ...extra,
});

describe('task store idempotency keys', () => {
  it("moves clients' stored keys under 'client:' and leaves the router's own keys as they are", () => {
    const dir = mkdtempSync(join(tmpdir(), 'otensor-tasks-'));
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    // A store written before issue 9: every migration up to the one that adds request hashes.
    const upTo = migrations.findIndex((m) => m.includes('ADD COLUMN request_sha256'));
    expect(upTo).toBeGreaterThan(0);
    const old = new Database(join(dir, 'router.db'));
    for (const migration of migrations.slice(0, upTo)) old.exec(migration);
    old.pragma(`user_version = ${upTo}`);
    old
      .prepare(
        "INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, status, created_at) VALUES ('batch_1', 'key_1', '/v1/chat/completions', 'file_1', '24h', 'in_progress', 1)",
      )
      .run();
    const insert = old.prepare(
      "INSERT INTO tasks (id, key_id, idempotency_key, kind, model_sha256, model_name, input, status, created_at) VALUES (?, 'key_1', ?, 'completion', 'x', 'tiny', '{}', 'done', 1)",
    );
    for (const [id, key] of [
      ['task_a', 'my-key'],
      ['task_b', 'client:my-key'],
      ['task_c', 'check:task_a:1:1'],
      ['task_d', 'batch_1:7'],
      ['task_e', 'CHECK:task_a:1:2'],
      ['task_f', null],
    ] as const)
      insert.run(id, key);
    old.close();

    const db = openDatabase(dir);
    try {
      const keys = db.prepare('SELECT id, idempotency_key AS key FROM tasks ORDER BY id').all();
      expect(keys).toEqual([
        { id: 'task_a', key: 'client:my-key' },
        { id: 'task_b', key: 'client:client:my-key' },
        { id: 'task_c', key: 'check:task_a:1:1' },
        { id: 'task_d', key: 'batch_1:7' },
        { id: 'task_e', key: 'client:CHECK:task_a:1:2' },
        { id: 'task_f', key: null },
      ]);
      // A client re-sending its key after the upgrade still finds its task.
      expect(new TaskStore(db).byIdempotencyKey('key_1', 'client:my-key')?.id).toBe('task_a');
    } finally {
      db.close();
    }
  });

  it('keeps the hash of the request made under a key, pending and committed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otensor-tasks-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    try {
      const store = new TaskStore(db);
      store.insertSoon(task('task_1', 'client:k', { requestSha256: 'ff'.repeat(32) }), () => {});
      expect(store.byIdempotencyKey('key_1', 'client:k')?.requestSha256).toBe('ff'.repeat(32));
      store.flush();
      expect(store.byIdempotencyKey('key_1', 'client:k')?.requestSha256).toBe('ff'.repeat(32));
      store.insert(task('task_2', null));
      expect(store.get('task_2')).not.toHaveProperty('requestSha256');
    } finally {
      db.close();
    }
  });
});

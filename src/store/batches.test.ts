import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchStore, inInputOrder } from './batches.js';
import { openDatabase } from './database.js';
import { FileStore } from './files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stores() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-batches-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  const files = new FileStore(db);
  return { db, files, batches: new BatchStore(db, files) };
}

describe('batch output ordering', () => {
  it('joins result lines in input order', () => {
    expect(
      inInputOrder([
        { line: 2, result: 'c' },
        { line: 0, result: 'a' },
        { line: 1, result: 'b' },
      ]),
    ).toBe('a\nb\nc\n');
  });

  it('writes output and error files in input order whatever order lines finished in, each line once', () => {
    const { db, files, batches } = stores();
    const input = files.add({ keyId: 'k1', purpose: 'batch', filename: 'in.jsonl' }, Buffer.from('x\n'));
    batches.create(
      {
        id: 'batch_1',
        keyId: 'k1',
        endpoint: '/v1/chat/completions',
        inputFileId: input.id,
        completionWindow: '24h',
        metadata: null,
      },
      86_400_000,
    );
    const lines = Array.from({ length: 6 }, (_, line) => ({
      line,
      customId: `c${line}`,
      request: line === 3 ? null : '{}',
      outcome: line === 3 ? ('error' as const) : null,
      result: line === 3 ? 'E3' : null,
    }));
    batches.startLines('batch_1', lines);
    expect(batches.get('batch_1')).toMatchObject({ status: 'in_progress', total: 6 });
    expect(batches.pending('batch_1', 0, 10).map((p) => p.line)).toEqual([0, 1, 2, 4, 5]);
    for (const line of [5, 0, 4, 2]) expect(batches.finishLine('batch_1', line, 'ok', `R${line}`)).toBe(true);
    expect(batches.finishLine('batch_1', 1, 'error', 'E1')).toBe(true);
    // A second outcome for a line is refused.
    expect(batches.finishLine('batch_1', 5, 'error', 'again')).toBe(false);
    expect(batches.counts('batch_1')).toEqual({ total: 6, completed: 4, failed: 2, pending: 0 });
    const done = batches.finalize('batch_1', 'completed');
    expect(done.status).toBe('completed');
    expect(files.content(done.outputFileId as string)?.toString()).toBe('R0\nR2\nR4\nR5\n');
    expect(files.content(done.errorFileId as string)?.toString()).toBe('E1\nE3\n');
    // Finalizing again changes nothing.
    expect(batches.finalize('batch_1', 'completed').outputFileId).toBe(done.outputFileId);
    db.close();
  });

  it('expires a batch: unanswered lines get the expiry error, answered ones stay, and it is stamped', () => {
    const { db, files, batches } = stores();
    const input = files.add({ keyId: 'k1', purpose: 'batch', filename: 'in.jsonl' }, Buffer.from('x\n'));
    const created = batches.create(
      {
        id: 'batch_2',
        keyId: 'k1',
        endpoint: '/v1/chat/completions',
        inputFileId: input.id,
        completionWindow: '24h',
        metadata: null,
      },
      5_000,
    );
    expect(created.expiresAt).toBe(created.createdAt + 5_000);
    const lines = [0, 1, 2].map((line) => ({
      line,
      customId: `c${line}`,
      request: '{}',
      outcome: null,
      result: null,
    }));
    batches.startLines('batch_2', lines);
    batches.finishLine('batch_2', 1, 'ok', 'R1');
    const expired = batches.finalize('batch_2', 'expired', (l) => `expired ${l.customId}`);
    expect(expired.status).toBe('expired');
    expect(expired.expiredAt).not.toBeNull();
    expect(files.content(expired.outputFileId as string)?.toString()).toBe('R1\n');
    expect(files.content(expired.errorFileId as string)?.toString()).toBe('expired c0\nexpired c2\n');
    expect(batches.counts('batch_2')).toEqual({ total: 3, completed: 1, failed: 2, pending: 0 });
    db.close();
  });
});

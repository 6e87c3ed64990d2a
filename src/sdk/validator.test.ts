import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { DataBatchView } from '../protocol/index.js';
import { type DataBatch, defaultChecks, NearDuplicates, Validator } from './validator.js';

const batch = (kind: DataBatchView['kind'], items: Partial<DataBatchView['items'][number]>[]): DataBatch => ({
  object: 'data_batch',
  batch_id: 'dbatch_1',
  campaign: 'camp_1',
  taskId: 'camp_1',
  kind,
  instructions: '',
  schema: kind === 'jsonl' ? { type: 'object', required: ['label'] } : null,
  max_bytes: 100,
  lease_expires_at: 0,
  items: items.map((i, n) => ({
    id: `item_${n}`,
    kind,
    format: kind === 'jsonl' ? 'json' : 'utf-8',
    size: 10,
    sha256: String(n),
    metadata: null,
    text: null,
    ...i,
  })),
});

describe('Validator.validate: automatic checks, then the judge', () => {
  // No router is contacted: validate works on a batch already fetched.
  const validator = new Validator({ router: 'http://127.0.0.1:1' });

  it('rejects by default with the failed checks as reasons, and accepts what passes', async () => {
    const results = await validator.validate(
      batch('text', [
        { text: 'a small brown dog sleeps under the old wooden table' },
        { text: 'A small brown dog sleeps under the old wooden table!' },
        { text: '   ', size: 3 },
        { text: 'fine', size: 500 },
        { text: 'an image?', kind: 'image', format: 'png' },
      ]),
    );
    expect(results.map((r) => r.verdict)).toEqual(['accept', 'reject', 'reject', 'reject', 'reject']);
    expect(results[1]?.reasons?.[0]).toBe('near-duplicate: nearly the same text as item item_0');
    expect(results[2]?.reasons).toEqual(['empty: empty']);
    expect(results[3]?.reasons).toEqual(['size: 500 bytes is over 100']);
    expect(results[4]?.reasons?.[0]).toMatch(/^format:/);
  });

  it("checks jsonl records against the campaign's schema", async () => {
    const results = await validator.validate(
      batch('jsonl', [{ text: '{"label": "cat"}' }, { text: '{"x": 1}' }, { text: 'nope' }]),
    );
    expect(results.map((r) => r.reasons ?? [])).toEqual([
      [],
      ['schema: $.label is required'],
      ['schema: not valid JSON'],
    ]);
  });

  it('leaves the judgment to a person or a program', async () => {
    const results = await validator.validate(batch('text', [{ text: 'anything at all' }]), {
      judge: (_item, checks) => ({ verdict: 'reject', reasons: [`${checks.length} checks ran`], flag: true }),
    });
    expect(results[0]).toMatchObject({
      id: 'item_0',
      taskId: 'camp_1',
      verdict: 'reject',
      flag: true,
      reasons: ['5 checks ran'],
    });
    expect(defaultChecks.map((c) => c.name)).toEqual(['format', 'schema', 'empty', 'near-duplicate', 'size']);
  });

  it('near-duplicates: word 3-grams, punctuation and case ignored', () => {
    const seen = new NearDuplicates();
    expect(seen.check('a', 'The quick brown fox jumps over the lazy dog')).toBeNull();
    expect(seen.check('b', 'the quick brown fox, jumps over the lazy dog.')).toBe('a');
    expect(seen.check('c', 'an entirely different sentence about the weather today')).toBeNull();
  });

  it("near-duplicates: pictures by the router's perceptual hash, read through `load`", async () => {
    // A diagonal ramp with a dark square, drawn at two sizes; and the same ramp mirrored.
    const draw = (size: number, mirror: boolean) => {
      const png = new PNG({ width: size, height: size });
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const u = mirror ? 1 - x / size : x / size;
          const dark = u > 0.2 && u < 0.4 && y / size > 0.5 && y / size < 0.7;
          const v = dark ? 10 : Math.round(255 * (u * 0.7 + (y / size) * 0.3));
          png.data.set([v, v, v, 255], (y * size + x) * 4);
        }
      return PNG.sync.write(png);
    };
    const pictures = [draw(64, false), draw(100, false), draw(64, true)];
    const seen = new NearDuplicates();
    seen.load = async (item) => pictures[Number(item.sha256)] as Buffer;
    const b = batch(
      'image',
      [0, 1, 2].map(() => ({ kind: 'image' as const, format: 'png', text: null })),
    );
    const found = [];
    for (const item of b.items) found.push(await seen.checkItem(item, b));
    expect(found).toEqual([null, 'item_0', null]);
  });
});

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAmount } from '../../ledger/index.js';
import { address, LedgerFixture } from '../../ledger/testing.js';
import { uploadLines } from '../jsonl.js';
import { campaignsOn } from '../testing.js';
import { uploadFile } from '../uploads.js';
import { checker, jpg, png, scene } from './test-pictures.js';

// Near-duplicates through the campaign service on a real SQLite file: refused at upload, naming the earlier
// item, with nothing stored; a rejected item blocks nothing; the index survives a restart.
const OWNER = address(1);
const ALICE = address(2);
const BOB = address(3);

let fx: LedgerFixture;
afterEach(() => fx?.dispose());

const service = () => campaignsOn(fx);

function setUp(kind: 'text' | 'image') {
  fx = new LedgerFixture({ feePpm: 10_000n, slashPpm: 200_000n });
  fx.ledger.genesis([{ account: OWNER, amount: parseAmount('100') }]);
  fx.ledger.flush();
  const c = service();
  const campaign = c.create(OWNER, {
    title: 't',
    kind,
    reviewers: 1,
    reward: '0.1',
    review_reward: '0.01',
    budget: '10',
  });
  return { c, campaign: campaign.id };
}

const jsonl = (...texts: string[]) => [Buffer.from(texts.map((text) => JSON.stringify({ text })).join('\n'))];
const KITE = 'A red kite hangs over the harbour wall while two children hold the string tight.';

describe('near-duplicate uploads', () => {
  it('refuses a JSONL line nearly the same as an earlier one (in the same file or before), naming it', async () => {
    const { c, campaign } = setUp('text');
    const first = await uploadLines(
      c,
      campaign,
      ALICE,
      'a.jsonl',
      jsonl(KITE, KITE.toUpperCase(), 'Fog over a field.'),
    );
    const kite = first[0]?.id as string;
    expect(first.map((o) => o.code ?? 'ok')).toEqual(['ok', 'near_duplicate', 'ok']);
    expect(first[1]?.reason).toBe(
      `nearly the same as item ${kite} already in this campaign (about 100 % of its word 3-grams shared)`,
    );
    // Another contributor, later, a word changed: still refused, and its bytes are not kept.
    const copy = KITE.replace('tight', 'firmly');
    const later = await uploadFile(c, campaign, BOB, 'b.txt', [Buffer.from(copy)]);
    expect(later).toMatchObject({ accepted: false, code: 'near_duplicate' });
    expect(later.reason).toContain(kite);
    expect(c.store.items(campaign)).toHaveLength(2);
    // After a restart the index is read back from the store.
    const again = await uploadFile(service(), campaign, BOB, 'b.txt', [Buffer.from(copy)]);
    expect(again.code).toBe('near_duplicate');
    // A rejected item blocks no one: a better version of it may come in.
    c.store.decideItem({ item: kite, verdict: 'reject', agreementPpm: 1_000_000, reasons: [], at: 0 });
    expect((await uploadFile(c, campaign, BOB, 'b.txt', [Buffer.from(copy)])).accepted).toBe(true);
  });

  it('refuses the same picture re-encoded and resized, and takes a different one', async () => {
    const { c, campaign } = setUp('image');
    const original = await uploadFile(c, campaign, ALICE, 'scene.png', [png(240, 180, scene)]);
    expect(original.accepted).toBe(true);
    const small = jpg(120, 90, scene, 50);
    const resized = await uploadFile(c, campaign, BOB, 'small.jpg', [small]);
    expect(resized).toMatchObject({ accepted: false, code: 'near_duplicate' });
    expect(resized.reason).toMatch(
      new RegExp(`^nearly the same as item ${original.id} .*perceptual hash \\d+ of 64 bits apart`),
    );
    expect(c.blobs.has(createHash('sha256').update(small).digest('hex'))).toBe(false);
    expect((await uploadFile(c, campaign, BOB, 'other.png', [png(240, 180, checker)])).accepted).toBe(true);
  });
});

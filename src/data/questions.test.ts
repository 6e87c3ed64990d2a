import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAmount } from '../ledger/index.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import { uploadLines } from './jsonl.js';
import { leaseBatch, submitResults } from './reviews.js';
import { rewardKey } from './rewards.js';
import { campaignsOn } from './testing.js';
import { exportView, itemStatusView } from './views.js';

const OWNER = address(1);
const ALICE = address(2);
const reviewer = (n: number) => address(100 + n);

let fx: LedgerFixture;
afterEach(() => fx?.dispose());

function setUp() {
  fx = new LedgerFixture({ feePpm: 0n, slashPpm: 200_000n });
  fx.ledger.genesis([{ account: OWNER, amount: parseAmount('100') }]);
  fx.ledger.flush();
  return campaignsOn(fx);
}

const base = {
  title: 'animals',
  kind: 'text',
  reviewers: 3,
  reward: '1',
  review_reward: '0.1',
  budget: '50',
};
const jsonl = (...texts: string[]) => [Buffer.from(texts.map((text) => JSON.stringify({ text })).join('\n'))];
const param = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as { param?: string }).param;
  }
  return 'no error';
};

describe('campaign questions', () => {
  it('checks the question at creation, naming the field', () => {
    const c = setUp();
    expect(param(() => c.create(OWNER, { ...base, question: 'label' }))).toBe('labels');
    expect(param(() => c.create(OWNER, { ...base, question: 'label', labels: ['a', 'a'] }))).toBe('labels');
    expect(param(() => c.create(OWNER, { ...base, question: 'rating', scale: { min: 5, max: 1 } }))).toBe(
      'scale',
    );
    expect(param(() => c.create(OWNER, { ...base, question: 'maybe' }))).toBe('question');
    expect(param(() => c.create(OWNER, { ...base, labels: ['a', 'b'] }))).toBe('labels');
    const gold = [{ text: 'a fish', label: 'fish' }];
    expect(param(() => c.create(OWNER, { ...base, question: 'label', labels: ['cat', 'dog'], gold }))).toBe(
      'gold.0.label',
    );
  });

  it('decides labels weighted by gold, records the final label, pays agreeing reviewers and exports it', async () => {
    const c = setUp();
    const campaign = c.create(OWNER, {
      ...base,
      question: 'label',
      labels: ['cat', 'dog'],
      min_evidence: 100,
      gold: [
        { text: 'gold: a cat', label: 'cat' },
        { text: 'gold: a dog', label: 'dog' },
        { text: 'gold: spam', answer: 'reject' },
      ],
      gold_share: 1,
    });
    await uploadLines(c, campaign.id, ALICE, null, jsonl('a cat on a mat', 'a dog in the fog'));
    const truth = (text: string) => (text.includes('cat') ? 'cat' : 'dog');
    const answer = (n: number, text: string) =>
      text.includes('spam')
        ? { verdict: 'reject' as const }
        : { label: n === 0 ? (truth(text) === 'cat' ? 'dog' : 'cat') : truth(text) };
    // Reviewer 0 labels every item wrong; the gold items in its batch show it before its votes count.
    for (const n of [0, 1, 2]) {
      const batch = leaseBatch(c, campaign.id, reviewer(n));
      expect(batch.question).toEqual({ type: 'label', labels: ['cat', 'dog'] });
      const results = batch.items.map((i) => ({ item_id: i.id, ...answer(n, i.text ?? '') }));
      // A wrong shape is refused whole, naming the field; nothing of it is recorded.
      expect(
        param(() =>
          submitResults(c, campaign.id, reviewer(n), {
            results: [...results, { item_id: 'x', label: 'cow' }],
          }),
        ),
      ).toBe(`results.${results.length}.label`);
      expect(
        param(() =>
          submitResults(c, campaign.id, reviewer(n), { results: [{ item_id: 'x', verdict: 'accept' }] }),
        ),
      ).toBe('results.0.label');
      expect(
        submitResults(c, campaign.id, reviewer(n), { results }).results.every((r) => r.status === 'recorded'),
      ).toBe(true);
    }
    const items = c.store.items(campaign.id, { contributor: ALICE });
    expect(items.map((i) => i.state)).toEqual(['accepted', 'accepted']);
    const views = items.map((i) => itemStatusView(i, c.answers.final(i.id)));
    expect(views.map((v) => v.label)).toEqual(['cat', 'dog']);
    // The wrong reviewer is not paid for its reviews; the two right ones are, and the contributor too.
    for (const item of items) {
      expect(fx.ledger.entry(rewardKey(campaign.id, item.id))).toBeDefined();
      expect(
        fx.ledger.entry(`campaign:${campaign.id}:item:${item.id}:review:${reviewer(0)}`),
      ).toBeUndefined();
      expect(fx.ledger.entry(`campaign:${campaign.id}:item:${item.id}:review:${reviewer(1)}`)).toBeDefined();
    }
    // Gold measured reviewer 0 as wrong on every label it gave.
    expect(c.reviews.record(campaign.id, reviewer(0))).toMatchObject({ goodRight: 0, badRight: 1 });
    const manifest = exportView(c, campaign);
    expect(manifest.question).toEqual({ type: 'label', labels: ['cat', 'dog'] });
    expect(manifest.items.map((l) => l.label).sort()).toEqual(['cat', 'dog']);
    expect(fx.ledger.verify().ok).toBe(true);
  });

  it('revokes a reviewer who gives every item the same label, on gold alone', async () => {
    const c = setUp();
    const gold = ['cat', 'dog', 'reject'].flatMap((l) =>
      Array.from({ length: 4 }, (_, i) =>
        l === 'reject' ? { text: `gold spam ${i}`, answer: 'reject' } : { text: `gold ${l} ${i}`, label: l },
      ),
    );
    const campaign = c.create(OWNER, {
      ...base,
      question: 'label',
      labels: ['cat', 'dog'],
      min_evidence: 12,
      gold,
    });
    await uploadLines(c, campaign.id, ALICE, null, jsonl('a cat on a mat'));
    const batch = leaseBatch(c, campaign.id, reviewer(0));
    expect(batch.items).toHaveLength(13);
    const answer = submitResults(c, campaign.id, reviewer(0), {
      results: batch.items.map((i) => ({ item_id: i.id, label: 'cat' })),
    });
    expect(answer.revoked).toBe(true);
    expect(c.reviews.record(campaign.id, reviewer(0))).toEqual({
      goodRight: 4,
      goodTotal: 8,
      badRight: 0,
      badTotal: 4,
    });
  });

  it('labels a crowd right with an always-cat and a random labeller among honest ones, and revokes both', async () => {
    const c = setUp();
    const LABELS = ['cat', 'dog', 'bird'];
    const truthOf = (text: string) =>
      text.includes('spam') ? null : (LABELS.find((l) => text.includes(l)) ?? null);
    const gold = Array.from({ length: 12 }, (_, i) =>
      i % 4 === 3
        ? { text: `gold spam ${i}`, answer: 'reject' }
        : { text: `gold a ${LABELS[i % 4]} ${i}`, label: LABELS[i % 4] },
    );
    const campaign = c.create(OWNER, {
      ...base,
      budget: '90',
      question: 'label',
      labels: LABELS,
      gold,
      gold_share: 0.5,
    });
    const texts = Array.from({ length: 40 }, (_, i) =>
      i % 10 === 0 ? `spam ${i}` : `a ${LABELS[i % 3]} number ${i}`,
    );
    await uploadLines(c, campaign.id, ALICE, null, jsonl(...texts));
    const hash = (s: string) => createHash('sha256').update(s).digest();
    const answer = (n: number, id: string, text: string) => {
      if (n === 0) return { label: 'cat' };
      if (n === 1) {
        const pick = (hash(`${n}${id}`)[0] as number) % 4;
        return pick === 3 ? { verdict: 'reject' as const } : { label: LABELS[pick] as string };
      }
      const truth = truthOf(text);
      return truth === null ? { verdict: 'reject' as const } : { label: truth };
    };
    for (let turn = 0; turn < 100; turn++) {
      let leased = 0;
      for (let n = 0; n < 8; n++) {
        if (c.reviews.isRevoked(campaign.id, reviewer(n))) continue;
        const batch = leaseBatch(c, campaign.id, reviewer(n), 5);
        leased += batch.items.length;
        if (batch.items.length > 0)
          submitResults(c, campaign.id, reviewer(n), {
            results: batch.items.map((i) => ({ item_id: i.id, ...answer(n, i.id, i.text ?? '') })),
          });
      }
      if (leased === 0) break;
    }
    expect(
      c.reviews
        .revoked(campaign.id)
        .map((r) => r.reviewer)
        .sort(),
    ).toEqual([reviewer(0), reviewer(1)]);
    const items = c.store.items(campaign.id, { contributor: ALICE });
    const text = (sha: string) => readFileSync(c.blobs.pathOf(sha), 'utf8');
    const wrong = items.filter((i) => {
      const truth = truthOf(text(i.sha256));
      return i.state === 'accepted'
        ? c.answers.final(i.id).label !== truth
        : truth !== null && i.state !== 'rejected';
    });
    expect(wrong).toEqual([]);
    expect(items.filter((i) => i.state === 'accepted').length).toBeGreaterThanOrEqual(34);
    expect(fx.ledger.verify().ok).toBe(true);
  });

  it('decides ratings by the weighted median and refuses a rating off the scale', async () => {
    const c = setUp();
    const campaign = c.create(OWNER, {
      ...base,
      question: 'rating',
      scale: { min: 1, max: 5 },
      gold: [{ text: 'gold: fine', rating: 4 }],
    });
    await uploadLines(c, campaign.id, ALICE, null, jsonl('a good caption'));
    const ratings = [3, 4, 5];
    for (const [n, r] of ratings.entries()) {
      const batch = leaseBatch(c, campaign.id, reviewer(n));
      expect(
        param(() => submitResults(c, campaign.id, reviewer(n), { results: [{ item_id: 'x', rating: 6 }] })),
      ).toBe('results.0.rating');
      expect(
        param(() => submitResults(c, campaign.id, reviewer(n), { results: [{ item_id: 'x', label: 'a' }] })),
      ).toBe('results.0.label');
      submitResults(c, campaign.id, reviewer(n), {
        results: batch.items.map((i) => ({ item_id: i.id, rating: i.text === 'gold: fine' ? 4 : r })),
      });
    }
    const [item] = c.store.items(campaign.id, { contributor: ALICE });
    expect(item?.state).toBe('accepted');
    expect(c.answers.final(item?.id as string)).toEqual({ label: null, rating: 4 });
    expect(exportView(c, campaign).items[0]).toMatchObject({ rating: 4, agreement: 1 });
  });
});

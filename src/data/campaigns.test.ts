import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAmount, TREASURY } from '../ledger/index.js';
import { address, LedgerFixture } from '../ledger/testing.js';
import type { ReviewResultRequest } from '../protocol/index.js';
import { uploadLines } from './jsonl.js';
import { leaseBatch, submitResults } from './reviews.js';
import { afterFee, itemHold } from './rewards.js';
import { campaignsOn } from './testing.js';
import { uploadFile } from './uploads.js';
import { campaignView } from './views.js';

const OWNER = address(1);
const ALICE = address(2);
const BOB = address(3);
const reviewer = (n: number) => address(100 + n);
const TEN = parseAmount('10');
const FEE = 10_000n;

let fx: LedgerFixture;
afterEach(() => fx?.dispose());

function setUp(reviewers: number, extra: { account: string; amount: bigint }[] = []) {
  fx = new LedgerFixture({ feePpm: FEE, slashPpm: 200_000n });
  fx.ledger.genesis([
    { account: OWNER, amount: parseAmount('100') },
    ...Array.from({ length: reviewers }, (_, i) => ({ account: reviewer(i), amount: TEN })),
    ...extra,
  ]);
  fx.ledger.flush();
  return campaignsOn(fx);
}

const jsonl = (...lines: unknown[]) => [Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n'))];
const vote = (id: string, verdict: 'accept' | 'reject'): ReviewResultRequest => ({ item_id: id, verdict });

describe('campaign escrow arithmetic, to the smallest unit', () => {
  it('pays accepted items and agreeing reviews from the escrow and refunds the rest at close', async () => {
    const c = setUp(4);
    // Odd amounts, so every fee rounds.
    const reward = parseAmount('1.000000000000000003');
    const reviewReward = parseAmount('0.100000000000000007');
    const campaign = c.create(OWNER, {
      title: 'captions',
      kind: 'text',
      reviewers: 2,
      reward: '1.000000000000000003',
      review_reward: '0.100000000000000007',
      budget: '10',
    });
    const hold = itemHold({ reward, reviewReward, reviewers: 2, secondRound: 2 });
    expect(hold).toBe(reward + 4n * reviewReward);
    const uploaded = await uploadLines(
      c,
      campaign.id,
      ALICE,
      'a.jsonl',
      jsonl({ text: 'one' }, { text: 'two' }, { text: 'three' }),
    );
    expect(uploaded.every((o) => o.accepted)).toBe(true);
    expect(c.store.undecided(campaign.id)).toBe(3);
    expect(fx.ledger.escrows.get(campaign.id)?.balance).toBe(TEN);

    const [one, two, three] = uploaded.map((o) => o.id as string);
    const first = leaseBatch(c, campaign.id, reviewer(0));
    expect(first.items.map((i) => i.text).sort()).toEqual(['one', 'three', 'two']);
    submitResults(c, campaign.id, reviewer(0), {
      results: [
        vote(one as string, 'accept'),
        vote(two as string, 'accept'),
        vote(three as string, 'accept'),
      ],
    });
    leaseBatch(c, campaign.id, reviewer(1));
    submitResults(c, campaign.id, reviewer(1), {
      results: [
        vote(one as string, 'accept'),
        vote(two as string, 'accept'),
        vote(three as string, 'reject'),
      ],
    });
    expect(c.store.item(three as string)?.state).toBe('second_round');
    for (const n of [2, 3]) {
      const batch = leaseBatch(c, campaign.id, reviewer(n));
      expect(batch.items.map((i) => i.id)).toEqual([three]);
      submitResults(c, campaign.id, reviewer(n), { results: [vote(three as string, 'reject')] });
    }
    expect(c.store.item(three as string)).toMatchObject({ state: 'rejected', round: 2 });

    const net = (amount: bigint) => afterFee(amount, FEE);
    expect(fx.ledger.balance(ALICE)).toBe(2n * net(reward));
    expect(fx.ledger.balance(reviewer(0))).toBe(TEN + 2n * net(reviewReward));
    expect(fx.ledger.balance(reviewer(1))).toBe(TEN + 3n * net(reviewReward));
    expect(fx.ledger.balance(reviewer(2))).toBe(TEN + net(reviewReward));
    const gross = 2n * reward + 7n * reviewReward;
    expect(fx.ledger.balance(TREASURY)).toBe(gross - 2n * net(reward) - 7n * net(reviewReward));

    // Settling again (recovery after a restart) pays nothing twice.
    expect(c.recover()).toBe(0);
    expect(fx.ledger.balance(ALICE)).toBe(2n * net(reward));
    c.close(campaign.id, OWNER, false);
    expect(fx.ledger.balance(OWNER)).toBe(parseAmount('100') - gross);
    expect(fx.ledger.escrows.get(campaign.id)?.balance).toBe(0n);
    expect(fx.ledger.verify().ok).toBe(true);
  });

  it('records no vote, and pays nothing, for items not leased to the voter or voted on twice', async () => {
    const c = setUp(3);
    const campaign = c.create(OWNER, {
      title: 'liars',
      kind: 'text',
      reviewers: 2,
      reward: '1',
      review_reward: '0.1',
      budget: '10',
    });
    const uploaded = await uploadLines(c, campaign.id, ALICE, 'a.jsonl', jsonl({ text: 'one' }));
    const id = uploaded[0]?.id as string;
    // A reviewer with no lease votes anyway; the contributor votes on its own item.
    const stranger = submitResults(c, campaign.id, reviewer(2), { results: [vote(id, 'accept')] });
    const own = submitResults(c, campaign.id, ALICE, { results: [vote(id, 'accept')] });
    expect(stranger.results).toEqual([{ item_id: id, status: 'not_assigned' }]);
    expect(own.results).toEqual([{ item_id: id, status: 'not_assigned' }]);
    // A leased reviewer's second vote on the same item is not a second review.
    leaseBatch(c, campaign.id, reviewer(0));
    submitResults(c, campaign.id, reviewer(0), { results: [vote(id, 'accept')] });
    const again = submitResults(c, campaign.id, reviewer(0), { results: [vote(id, 'reject')] });
    expect(again.results).toEqual([{ item_id: id, status: 'duplicate' }]);
    expect(c.store.item(id)?.state).not.toBe('accepted');
    expect(fx.ledger.balance(reviewer(2))).toBe(TEN);
    expect(fx.ledger.balance(reviewer(0))).toBe(TEN);
    expect(fx.ledger.balance(ALICE)).toBe(0n);
    // Closed with the item undecided: the budget went back whole, and nothing shows as still held.
    c.close(campaign.id, OWNER, false);
    expect(campaignView(c, c.get(campaign.id)).escrow).toMatchObject({ balance: '0', held: '0' });
  });

  it('refuses an upload the budget cannot cover, and a budget smaller than one item', async () => {
    const c = setUp(0);
    expect(() =>
      c.create(OWNER, {
        title: 't',
        kind: 'text',
        reviewers: 3,
        reward: '1',
        review_reward: '1',
        budget: '6',
      }),
    ).toThrow(/budget/);
    const campaign = c.create(OWNER, {
      title: 't',
      kind: 'text',
      reviewers: 3,
      reward: '1',
      review_reward: '1',
      budget: '7',
    });
    const [first, second] = await uploadLines(
      c,
      campaign.id,
      ALICE,
      null,
      jsonl({ text: 'a' }, { text: 'b' }),
    );
    expect(first?.accepted).toBe(true);
    expect(second).toMatchObject({ accepted: false, code: 'budget_exhausted' });
    expect(c.store.items(campaign.id)).toHaveLength(1);
  });
});

describe('uploads', () => {
  it('refuses malformed, schema-breaking, empty, oversize, duplicate and wrongly typed items and stores none of them', async () => {
    const c = setUp(0);
    const campaign = c.create(OWNER, {
      title: 't',
      kind: 'text',
      reviewers: 1,
      reward: '1',
      review_reward: '0',
      budget: '50',
      max_bytes: 64,
    });
    const lines = [
      Buffer.from(
        [
          '{"text": "a good line"}',
          '{"text": "a good line"}',
          '{"text": oops}',
          '{"txt": "x"}',
          '{"text": "   "}',
          JSON.stringify({ text: 'x'.repeat(100) }),
          '',
        ].join('\n'),
      ),
    ];
    const outcomes = await uploadLines(c, campaign.id, ALICE, 'f.jsonl', lines);
    expect(outcomes.map((o) => o.code ?? 'ok')).toEqual([
      'ok',
      'duplicate',
      'malformed',
      'schema',
      'empty',
      'oversize',
    ]);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect(await uploadFile(c, campaign.id, BOB, 'cat.txt', [png])).toMatchObject({ code: 'wrong_kind' });
    expect(await uploadFile(c, campaign.id, BOB, 'empty.txt', [])).toMatchObject({ code: 'empty' });
    expect(
      await uploadFile(c, campaign.id, BOB, 'big.txt', [Buffer.alloc(40, 97), Buffer.alloc(40, 97)]),
    ).toMatchObject({
      code: 'oversize',
    });
    expect(await uploadFile(c, campaign.id, BOB, 'same.txt', [Buffer.from('a good line')])).toMatchObject({
      code: 'duplicate',
    });
    // One file stored, under its hash; no temporary file left.
    const files = join(fx.dir, 'campaign-files');
    const stored = readdirSync(files)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(files, d)));
    expect(stored).toEqual([createHash('sha256').update('a good line').digest('hex')]);
    expect(readdirSync(join(files, 'tmp'))).toEqual([]);
  });
});

describe('media uploads', () => {
  it('an image campaign takes a PNG by its bytes whatever its name, and refuses text and audio', async () => {
    const c = setUp(0);
    const campaign = c.create(OWNER, {
      title: 'i',
      kind: 'image',
      reviewers: 1,
      reward: '1',
      review_reward: '0',
      budget: '10',
    });
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
    const wav = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), Buffer.alloc(16)]);
    // Streamed in small pieces: the magic bytes are read across chunk boundaries.
    const pieces = (b: Buffer) =>
      Array.from({ length: Math.ceil(b.length / 5) }, (_, i) => b.subarray(i * 5, i * 5 + 5));
    expect(await uploadFile(c, campaign.id, ALICE, 'notes.txt', pieces(png))).toMatchObject({
      accepted: true,
    });
    expect(c.store.items(campaign.id)[0]).toMatchObject({ kind: 'image', format: 'png', size: png.length });
    expect(await uploadFile(c, campaign.id, ALICE, 'a.png', [Buffer.from('just words')])).toMatchObject({
      code: 'wrong_kind',
      reason: 'the content is text (utf-8); the campaign takes image',
    });
    expect(await uploadFile(c, campaign.id, ALICE, 'b.png', [wav])).toMatchObject({ code: 'wrong_kind' });
    expect(await uploadLines(c, campaign.id, ALICE, 'x.jsonl', jsonl({ text: 'hi' }))).toMatchObject([
      { code: 'wrong_kind' },
    ]);
  });
});

describe('assignment', () => {
  it('never gives an item to its contributor or an account sharing its wallet, and takes back expired leases', async () => {
    const NODE = address(50); // a node account whose payout wallet is ALICE
    fx = new LedgerFixture({ feePpm: FEE });
    fx.ledger.genesis([{ account: OWNER, amount: parseAmount('100') }]);
    fx.ledger.flush();
    const c = campaignsOn(fx, (a) => (a === NODE ? ALICE : a));
    const campaign = c.create(OWNER, {
      title: 't',
      kind: 'text',
      reviewers: 2,
      reward: '1',
      review_reward: '0',
      budget: '10',
      lease_seconds: 60,
      gold: [{ text: 'known good', answer: 'accept' }],
    });
    await uploadLines(c, campaign.id, ALICE, null, jsonl({ text: "alice's" }));
    await uploadLines(c, campaign.id, BOB, null, jsonl({ text: "bob's" }));
    const texts = (who: string) =>
      leaseBatch(c, campaign.id, who)
        .items.map((i) => i.text)
        .sort();
    expect(texts(ALICE)).toEqual(["bob's", 'known good']);
    expect(texts(NODE)).toEqual(["bob's", 'known good']);
    expect(() => leaseBatch(c, campaign.id, OWNER)).toThrow(/owner does not review/);
    // Bob's item has its two reviewers (k = 2) leased: nobody else gets it until a lease ends.
    expect(texts(address(60))).toEqual(["alice's", 'known good']);
    fx.time += 61_000;
    expect(texts(address(61))).toEqual(["alice's", "bob's", 'known good']);
    // The first lease ended: its late answer is not counted.
    const late = submitResults(c, campaign.id, ALICE, {
      results: [vote(c.store.items(campaign.id, { contributor: BOB })[0]?.id as string, 'accept')],
    });
    expect(late.results[0]?.status).toBe('lease_expired');
  });
});

describe('a crowd with bad reviewers', () => {
  it('revokes and slashes an always-accept and a random reviewer, keeps the honest ones, and accepts no spam', async () => {
    const stake = parseAmount('5');
    const c = setUp(10);
    for (let i = 0; i < 10; i++)
      fx.ledger.staking.stake({ node: reviewer(i), owner: reviewer(i), amount: stake });
    const gold = Array.from({ length: 12 }, (_, i) => ({
      text: i % 2 === 0 ? `buy cheap pills now ${i}` : `a photo of a dog on a beach number ${i}`,
      answer: i % 2 === 0 ? 'reject' : 'accept',
    }));
    const campaign = c.create(OWNER, {
      title: 'captions',
      kind: 'text',
      reviewers: 3,
      reward: '0.1',
      review_reward: '0.01',
      budget: '90',
      reviewer_stake: '5',
      gold,
      gold_share: 0.5,
    });
    // Distinct words in each text: templated texts differing in one number are near-duplicates (refused).
    const words = (i: number) =>
      createHash('sha256').update(String(i)).digest('hex').slice(0, 30).match(/.{5}/g)?.join(' ');
    const items = Array.from({ length: 60 }, (_, i) =>
      i % 10 === 0
        ? { text: `spam spam visit my site ${words(i)}` }
        : { text: `a caption about a cat, ${words(i)}` },
    );
    await uploadLines(c, campaign.id, ALICE, null, jsonl(...items));
    const truth = (text: string) => (text.includes('spam') || text.includes('pills') ? 'reject' : 'accept');
    const coin = (who: string, id: string) =>
      (createHash('sha256')
        .update(who + id)
        .digest()[0] as number) < 128;
    const behaviour = (n: number, id: string, text: string): 'accept' | 'reject' =>
      n === 0 ? 'accept' : n === 1 ? (coin(reviewer(n), id) ? 'accept' : 'reject') : truth(text);
    for (let turn = 0; turn < 100; turn++) {
      let leased = 0;
      for (let n = 0; n < 10; n++) {
        if (c.reviews.isRevoked(campaign.id, reviewer(n))) continue;
        const batch = leaseBatch(c, campaign.id, reviewer(n), 5);
        leased += batch.items.length;
        if (batch.items.length === 0) continue;
        submitResults(c, campaign.id, reviewer(n), {
          results: batch.items.map((i) => vote(i.id, behaviour(n, i.id, i.text ?? ''))),
        });
      }
      if (leased === 0) break;
    }
    const revoked = c.reviews.revoked(campaign.id).map((r) => r.reviewer);
    expect(revoked.sort()).toEqual([reviewer(0), reviewer(1)]);
    expect(fx.ledger.staking.get(reviewer(0)).bonded).toBe(stake - stake / 5n);
    expect(fx.ledger.staking.get(reviewer(2)).bonded).toBe(stake);
    const accepted = c.store.items(campaign.id, { states: ['accepted'] });
    const text = (sha: string) => readFileSync(c.blobs.pathOf(sha), 'utf8');
    expect(accepted.filter((i) => truth(text(i.sha256)) === 'reject')).toEqual([]);
    expect(c.store.items(campaign.id, { states: ['received', 'in_review', 'second_round'] })).toEqual([]);
    expect(accepted).toHaveLength(54);
    expect(() => leaseBatch(c, campaign.id, reviewer(0))).toThrow(/lost its reviewing rights/);
    expect(fx.ledger.verify().ok).toBe(true);
  });
});

import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccountKey } from '../../src/cli/local-admin.js';
import { CampaignClient } from '../../src/sdk/index.js';
import { type Browser, openBrowser } from './browser.js';
import { startRouterProcess, type Workspace, workspace } from './harness.js';

// The web review page in real headless chromium against a real router process (no nodes: campaigns need none):
// an owner opens a text and an image campaign, a contributor uploads through the API, and a reviewer answers a
// batch with the keyboard. The votes must be what the API then shows.
type Who = 'owner' | 'alice' | 'rev';
const keys = {} as Record<Who, { key: string; account: string }>;
let ws: Workspace;
let url: string;
let browser: Browser;
const client = (who: Who) => new CampaignClient({ baseUrl: url, apiKey: keys[who].key });

/** A small real PNG (solid colour, with a stripe), so the page has an image to decode. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      rows.set(y % 16 < 8 ? [40, 120, 220] : [240, 180, 40], y * (1 + width * 3) + 1 + x * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A campaign where one vote decides (threshold 0.75 against the prior's 0.8), paid from a small budget. */
const campaign = (title: string, kind: 'text' | 'image', question: Record<string, unknown> = {}) =>
  client('owner').create({
    title,
    kind,
    instructions: 'Accept captions of a photo; reject anything else.',
    reviewers: 1,
    second_round_reviewers: 1,
    threshold: 0.75,
    reward: '1',
    review_reward: '0.1',
    budget: '10',
    reviewer_stake: '0',
    ...question,
  });

beforeAll(async () => {
  ws = await workspace('review-web');
  const dir = join(ws.dir, 'router');
  for (const who of ['owner', 'alice', 'rev'] as Who[]) keys[who] = createAccountKey(dir, { label: who });
  ({ url } = await startRouterProcess(ws, { args: ['--genesis', `${keys.owner.account}=100`] }));
  browser = await openBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ws?.cleanup();
});

/** Uses `who`'s key in the page, as the account page's "Use this key" does. */
async function signIn(who: Who) {
  const { page } = browser;
  await page.goto(`${url}/#/account`);
  await page.evaluate("localStorage.removeItem('omnitensor.credential')");
  await page.reload();
  await page.locator('input[name=api_key]').fill(keys[who].key);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText(keys[who].account).first().waitFor();
}

it('reviews a text batch with the keyboard, and the votes and reasons are stored', async () => {
  const { page } = browser;
  const text = await campaign('Photo captions', 'text');
  const upload = await client('alice').uploadJsonl(
    text.id,
    new TextEncoder().encode('{"text": "a cat asleep on a keyboard"}\n{"text": "buy cheap pills now"}\n'),
  );
  expect(upload.accepted).toBe(2);

  await signIn('rev');
  await page.goto(`${url}/#/data`);
  await page.locator(`tr[data-campaign="${text.id}"] a`, { hasText: 'Review' }).click();
  await page.getByTestId('standing').waitFor();
  expect(await page.getByTestId('standing').textContent()).toMatch(/Your votes\s*0/);
  await page.getByRole('button', { name: 'Get a batch' }).click();
  const position = page.getByTestId('position');
  await position.waitFor();
  expect(await position.textContent()).toBe('Item 1 of 2');
  await browser.shot('review-text');
  // The batch's order is random: answer each item by what the page shows.
  for (let i = 0; i < 2; i++) {
    const shown = await page.locator('.item-text').textContent();
    if (shown?.includes('pills')) {
      await page.keyboard.press('r');
      await page.locator('input[name=reason]').fill('not a caption');
      await page.keyboard.press('Enter');
    } else await page.keyboard.press('a');
  }
  // Arrows move between the answered items; each shows its answer.
  await page.keyboard.press('ArrowLeft');
  expect(await position.textContent()).toBe('Item 1 of 2');
  await page.getByTestId('verdict').waitFor();
  await page.keyboard.press('ArrowRight');
  expect(await position.textContent()).toBe('Item 2 of 2');
  expect(await page.locator('.dots li.accept').count()).toBe(1);
  expect(await page.locator('.dots li.reject').count()).toBe(1);
  await browser.shot('review-text-answered');
  const sent = page.waitForResponse((r) => r.url().endsWith('/reviews'));
  await page.keyboard.press('s');
  expect((await sent).status()).toBe(200);
  expect(await page.getByTestId('submitted').textContent()).toMatch(/2 of 2 answers recorded/);
  await expect
    .poll(() => page.getByTestId('standing').textContent(), { timeout: 10_000 })
    .toMatch(/Your votes\s*2/);

  // The API shows the two votes, the decisions, and the reason the contributor is told.
  const shownToOwner = await client('owner').get(text.id);
  expect(shownToOwner.votes).toBe(2);
  expect(shownToOwner.items).toMatchObject({ accepted: 1, rejected: 1 });
  const mine = await client('alice').items(text.id);
  const pills = mine.data.find((i) => i.state === 'rejected');
  expect(pills?.reasons).toEqual(['not a caption']);
  expect((await client('rev').standing(text.id)).votes).toBe(2);

  // The owner's campaign page shows that progress.
  await signIn('owner');
  await page.goto(`${url}/#/campaign/${text.id}`);
  const progress = page.getByTestId('progress');
  await progress.waitFor();
  expect(await progress.textContent()).toMatch(/accepted\s*1.*rejected\s*1.*Votes\s*2/);
  await page.locator('.progress .accepted').waitFor();
  await browser.shot('campaign-owner');
});

it('shows an image inline to its assigned reviewer only', async () => {
  const { page } = browser;
  const images = await campaign('Street photos', 'image');
  const photo = await client('alice').uploadItem(images.id, png(64, 48), { name: 'street.png' });
  const itemId = photo.items[0]?.id ?? '';
  expect(itemId).toMatch(/./);

  await signIn('rev');
  await page.goto(`${url}/#/review/${images.id}`);
  await page.getByRole('button', { name: 'Get a batch' }).click();
  const image = page.locator('.item img');
  await image.waitFor();
  // Decoded from the blob the page fetched with the reviewer's key: the real picture's size.
  await expect
    .poll(() =>
      image.evaluate((img) => {
        const { naturalWidth, naturalHeight } = img as unknown as {
          naturalWidth: number;
          naturalHeight: number;
        };
        return `${naturalWidth}x${naturalHeight}`;
      }),
    )
    .toBe('64x48');
  await browser.shot('review-image');
  await page.keyboard.press('a');
  await page.keyboard.press('s');
  await page.getByTestId('submitted').waitFor();
  expect((await client('owner').get(images.id)).items).toMatchObject({ accepted: 1 });

  // The raw item stays with the owner and the reviewer it was assigned to.
  expect((await client('rev').content(images.id, itemId)).status).toBe(200);
  expect((await client('owner').content(images.id, itemId)).status).toBe(200);
  await expect(client('alice').content(images.id, itemId)).rejects.toMatchObject({ status: 403 });
});

it('fits a phone screen in the dark theme while reviewing', async () => {
  const { page } = browser;
  const text = (await client('owner').list()).data.find((c) => c.kind === 'text');
  const id = text?.id ?? '';
  await client('alice').uploadJsonl(id, new TextEncoder().encode('{"text": "a red bicycle by a wall"}\n'));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${url}/#/review/${id}`);
  await page.getByRole('button', { name: 'Dark' }).click();
  await page.getByRole('button', { name: 'Get a batch' }).click();
  await page.getByTestId('position').waitFor();
  expect(await page.locator('.item-text').textContent()).toBe('a red bicycle by a wall');
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  await browser.shot('review-phone-dark');
});

it('labels a batch with number keys, and each item keeps its final label', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 1280, height: 800 });
  const animals = await campaign('Animals', 'text', {
    instructions: 'Pick the animal each line names.',
    question: 'label',
    labels: ['cat', 'dog'],
  });
  await client('alice').uploadJsonl(
    animals.id,
    new TextEncoder().encode('{"text": "a cat in a box"}\n{"text": "a dog with a ball"}\n'),
  );
  await signIn('rev');
  await page.goto(`${url}/#/review/${animals.id}`);
  await page.getByRole('button', { name: 'Get a batch' }).click();
  await page.getByTestId('position').waitFor();
  expect(await page.locator('[data-choice]').allTextContents()).toEqual(['cat (1)', 'dog (2)']);
  for (let i = 0; i < 2; i++) {
    const shown = await page.locator('.item-text').textContent();
    await page.keyboard.press(shown?.includes('cat') ? '1' : '2');
  }
  expect(await page.getByTestId('verdict').textContent()).toMatch(/^Labelled (cat|dog)$/);
  await browser.shot('review-labels');
  await page.keyboard.press('s');
  expect(await page.getByTestId('submitted').textContent()).toMatch(/2 of 2 answers recorded/);
  const mine = (await client('alice').items(animals.id)).data;
  expect(mine.map((i) => [i.state, i.label])).toEqual([
    ['accepted', 'cat'],
    ['accepted', 'dog'],
  ]);
  await page.goto(`${url}/#/campaign/${animals.id}`);
  await page.getByText('asks a label: cat, dog').waitFor();
});

it('ranks data contributors on the leaderboards page, by pseudonym, marking your own row', async () => {
  const { page } = browser;
  await signIn('alice');
  const overall = await client('alice').leaderboard();
  const mine = overall.contributors.find((c) => c.mine);
  expect(mine?.accepted).toBeGreaterThanOrEqual(2);
  await page.goto(`${url}/#/leaderboards`);
  const row = page.locator('[data-testid=contributors] tr.mine');
  await row.waitFor();
  expect(await row.textContent()).toBe(
    `${mine?.rank}${mine?.contributor} (you)${mine?.accepted}${mine?.earned} tokens`,
  );
  expect(await page.getByTestId('contributors').textContent()).not.toContain(keys.alice.account);
  await browser.shot('leaderboards-contributors');
});

it('logged no console error on any page', () => {
  expect(browser.errors).toEqual([]);
});

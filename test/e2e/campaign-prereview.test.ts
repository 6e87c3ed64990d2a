import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountKey, registerModel } from '../../src/cli/local-admin.js';
import { afterFee } from '../../src/data/index.js';
import { formatAmount, parseAmount } from '../../src/ledger/index.js';
import type { ItemStatusView } from '../../src/protocol/index.js';
import { CampaignClient, OmniClient, Validator } from '../../src/sdk/index.js';
import {
  type CliProcess,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

// Machine pre-review and near-duplicates (docs/data.md) against a real router charging 0.001 a token and one
// real node serving the tiny model: an uploaded text gets the model's opinion, paid from the campaign's
// escrow exactly; a near-duplicate upload is refused naming the earlier item.
const WALLET = '0x00000000000000000000000000000000000000a1';
const FEE = 10_000n; // the router's default platform fee, 1 %

let ws: Workspace;
let url: string;
let node: CliProcess;
let router: CliProcess;
const ROUTER_ARGS: string[] = [];
const keys = {} as Record<'owner' | 'alice' | 'r1' | 'operator', { key: string; account: string }>;
const api = (who: keyof typeof keys) => new OmniClient({ baseUrl: url, apiKey: keys[who].key });
const auth = (who: keyof typeof keys) => ['--router', url, '--api-key', keys[who].key];

async function cli(args: string[]) {
  const p = runCli(args);
  const code = await p.exited;
  return { code, stdout: p.stdout(), output: p.output() };
}

beforeAll(async () => {
  ws = await workspace('prereview');
  const data = join(ws.dir, 'router');
  await registerModel(data, ws.model, 'tiny');
  for (const who of ['owner', 'alice', 'r1'] as const) keys[who] = createAccountKey(data, { label: who });
  keys.operator = createAccountKey(data, { label: 'operator', operator: true });
  ROUTER_ARGS.push('--price-per-token', '0.001', '--genesis', `${keys.owner.account}=100`);
  ({ url, process: router } = await startRouterProcess(ws, { args: ROUTER_ARGS }));
  node = await startNodeProcess(ws, url, 'n1', ['--wallet', WALLET]);
  await waitForNodes(url, 1);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

/** The caller's items once no pre-review is pending (bounded by a deadline). */
async function settled(campaign: string): Promise<ItemStatusView[]> {
  const client = new CampaignClient({ baseUrl: url, apiKey: keys.alice.key });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { data } = await client.items(campaign);
    if (data.every((i) => i.machine_opinion && i.machine_opinion.status !== 'pending')) return data;
    if (Date.now() > deadline) throw new Error(`pre-reviews still pending: ${JSON.stringify(data)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a campaign with machine pre-review', () => {
  it('gets a paid machine opinion on each uploaded item, shown to reviewers, and refuses a near-duplicate', async () => {
    const created = await cli([
      'campaign',
      'create',
      ...['--title', 'photo captions', '--kind', 'text', '--reviewers', '1', '--reward', '0.1'],
      ...['--review-reward', '0.01', '--budget', '20', '--reviewer-stake', '0', '--prereview', 'tiny'],
      ...['--instructions', 'One sentence describing a photo.', ...auth('owner')],
    ]);
    expect(created.code, created.output).toBe(0);
    const campaign = created.stdout.trim();
    const owner = new CampaignClient({ baseUrl: url, apiKey: keys.owner.key });
    expect((await owner.get(campaign)).prereview).toBe('tiny');

    const file = join(ws.dir, 'captions.jsonl');
    writeFileSync(
      file,
      [
        '{"text": "A red kite hangs over the harbour wall while two children hold the string."}',
        '{"text": "Steam rises from a bowl of noodles on a wooden counter in a small shop."}',
      ].join('\n'),
    );
    const upload = await cli(['upload-data', '--task-id', campaign, '--file', file, ...auth('alice')]);
    expect(upload.code, upload.output).toBe(0);
    const items = await settled(campaign);
    expect(items).toHaveLength(2);
    const opinions = items.map((i) => i.machine_opinion as NonNullable<ItemStatusView['machine_opinion']>);
    for (const o of opinions) {
      expect(o).toMatchObject({ model: 'tiny', status: 'done', reason: null });
      expect(['accept', 'reject', 'unclear']).toContain(o.verdict);
      expect(o.task_id).toMatch(/^task_/);
    }
    expect(new Set(opinions.map((o) => o.task_id)).size).toBe(2);

    // Paid from the campaign's escrow, exactly: the node's wallet got each task's cost less the fee, once.
    const costs = opinions.map((o) => parseAmount(o.cost as string));
    for (const c of costs) expect(c).toBeGreaterThan(0n);
    const view = await owner.get(campaign);
    expect(view.escrow.balance).toBe(formatAmount(parseAmount('20') - costs.reduce((a, b) => a + b, 0n)));
    expect((await api('owner').account()).balance).toBe('80');
    const page = await api('operator').entries(WALLET, { limit: 200 });
    for (const [n, o] of opinions.entries()) {
      const paid = page.data.filter((e) => e.key === `task:${o.task_id}:payment`);
      expect(paid).toHaveLength(1);
      expect(parseAmount(paid[0]?.amount as string)).toBe(afterFee(costs[n] as bigint, FEE));
    }

    // The reviewer sees the opinion beside each item (a hint: the verdict is still the reviewer's).
    const reviewer = new Validator({ router: url, apiKey: keys.r1.key });
    const batch = await reviewer.getDataBatch(campaign);
    expect(batch.items.map((i) => i.machine_opinion?.status)).toEqual(['done', 'done']);
    await reviewer.submitResults(await reviewer.validate(batch));
    const decided = (await new CampaignClient({ baseUrl: url, apiKey: keys.alice.key }).items(campaign)).data;
    // One vote and a machine opinion decide nothing: both items wait for more reviewers (a second round).
    expect(decided.map((i) => i.state)).toEqual(['second_round', 'second_round']);
    const status = await cli(['check-status', '--task-id', campaign, ...auth('alice')]);
    expect(status.stdout).toMatch(/machine opinion \(tiny, a hint, not a vote\): (accept|reject|unclear)/);

    // A near-duplicate (case, punctuation and one word changed) is refused, naming the earlier item.
    const near = join(ws.dir, 'near.txt');
    writeFileSync(near, 'a red kite hangs over the harbour wall while two children hold the STRING!!');
    const refused = await cli(['upload-data', '--task-id', campaign, '--file', near, ...auth('alice')]);
    expect(refused.code).not.toBe(0);
    const first = items[0]?.id as string;
    expect(refused.stdout.trim()).toMatch(
      new RegExp(
        `^refused near\\.txt: nearly the same as item ${first} already in this campaign .*\\(near_duplicate\\)$`,
      ),
    );

    // With no node serving the model the opinion fails with its reason; the item is kept, waiting for people.
    node.child.kill('SIGKILL');
    const deadline = Date.now() + 30_000;
    while ((await api('alice').models()).data.length > 0) {
      if (Date.now() > deadline) throw new Error('the router still lists a model after its node died');
      await new Promise((r) => setTimeout(r, 100));
    }
    const late = join(ws.dir, 'late.txt');
    writeFileSync(late, 'An old tram turns the corner under falling snow, its windows fogged and bright.');
    expect((await cli(['upload-data', '--task-id', campaign, '--file', late, ...auth('alice')])).code).toBe(
      0,
    );
    const after = await settled(campaign);
    const failed = after.find((i) => i.name === 'late.txt');
    expect(failed?.state).toBe('received');
    expect(failed?.machine_opinion).toMatchObject({ status: 'failed', cost: null });
    expect(failed?.machine_opinion?.reason).toMatch(/tiny/);
    expect((await owner.get(campaign)).escrow.balance).toBe(view.escrow.balance);
    expect((await api('operator').verifyLedger()).ok).toBe(true);
  }, 120_000);

  it('a router killed while a pre-review runs joins the same task when it comes back, and pays it once', async () => {
    const second = await startNodeProcess(ws, url, 'n2', ['--wallet', WALLET]);
    await waitForNodes(url, 1);
    const owner = new CampaignClient({ baseUrl: url, apiKey: keys.owner.key });
    const { id: campaign } = await owner.create({
      title: 'restart',
      kind: 'text',
      reviewers: 1,
      reward: '0.1',
      review_reward: '0.01',
      budget: '5',
      prereview: 'tiny',
    });
    // The node is frozen: it holds the task's lease and cannot answer before the router dies.
    second.child.kill('SIGSTOP');
    const alice = new CampaignClient({ baseUrl: url, apiKey: keys.alice.key });
    const upload = await alice.uploadItem(
      campaign,
      Buffer.from('A heron stands still in the shallows at dawn.'),
    );
    expect(upload.accepted).toBe(1);
    const [before] = (await alice.items(campaign)).data;
    expect(before?.machine_opinion).toMatchObject({
      status: 'pending',
      task_id: expect.stringMatching(/^task_/),
    });
    router.child.kill('SIGKILL');
    await router.exited;
    const port = Number(new URL(url).port);
    ({ url, process: router } = await startRouterProcess(ws, { port, args: ROUTER_ARGS }));
    second.child.kill('SIGCONT');
    const [after] = await settled(campaign);
    const opinion = after?.machine_opinion;
    expect(opinion).toMatchObject({ status: 'done', task_id: before?.machine_opinion?.task_id });
    const cost = parseAmount(opinion?.cost as string);
    expect(cost).toBeGreaterThan(0n);
    const paid = (await api('operator').entries(WALLET, { limit: 200 })).data.filter(
      (e) => e.key === `task:${opinion?.task_id}:payment`,
    );
    expect(paid.map((e) => parseAmount(e.amount))).toEqual([afterFee(cost, FEE)]);
    expect((await owner.get(campaign)).escrow.balance).toBe(formatAmount(parseAmount('5') - cost));
    expect((await api('operator').verifyLedger()).ok).toBe(true);
  }, 120_000);

  it('pre-reviews a 20-line upload through its queue (8 at a time): every item once, the escrow exact', async () => {
    const owner = new CampaignClient({ baseUrl: url, apiKey: keys.owner.key });
    const { id: campaign } = await owner.create({
      title: 'many',
      kind: 'text',
      reviewers: 1,
      reward: '0.01',
      review_reward: '0.001',
      // Each item reserves its pre-review's most cost too (about 1.4 at this price): 20 items need ~28.
      budget: '50',
      prereview: 'tiny',
    });
    // Words of their own in each line: templated lines differing in a number are near-duplicates (refused).
    const words = (i: number) =>
      (createHash('sha256').update(`line ${i}`).digest('hex').match(/.{5}/g) ?? []).slice(0, 6).join(' ');
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `A photo: ${words(i)}` }));
    const alice = new CampaignClient({ baseUrl: url, apiKey: keys.alice.key });
    const upload = await alice.uploadJsonl(campaign, Buffer.from(lines.join('\n')));
    expect(upload.accepted, JSON.stringify(upload.items.filter((i) => !i.accepted))).toBe(20);
    const items = await settled(campaign);
    const opinions = items.map((i) => i.machine_opinion);
    expect(opinions.map((o) => o?.status)).toEqual(Array(20).fill('done'));
    expect(new Set(opinions.map((o) => o?.task_id)).size).toBe(20);
    const spent = opinions.reduce((sum, o) => sum + parseAmount(o?.cost as string), 0n);
    expect((await owner.get(campaign)).escrow.balance).toBe(formatAmount(parseAmount('50') - spent));
  }, 120_000);

  it('refuses a pre-review model that does not exist, naming the field', async () => {
    const response = await fetch(`${url}/api/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.owner.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 't',
        kind: 'text',
        reviewers: 1,
        reward: '0.1',
        review_reward: '0.01',
        budget: '1',
        prereview: 'no-such-model',
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('prereview');
  });
});

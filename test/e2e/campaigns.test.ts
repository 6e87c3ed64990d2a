import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountKey } from '../../src/cli/local-admin.js';
import { afterFee } from '../../src/data/index.js';
import { formatAmount, parseAmount } from '../../src/ledger/index.js';
import { ApiError, CampaignClient, OmniClient, Validator } from '../../src/sdk/index.js';
import {
  type CliProcess,
  cliOutput,
  runCli,
  startRouterProcess,
  type Workspace,
  workspace,
} from './harness.js';

// One campaign from creation to export against a real router process, with seven accounts: its owner, two
// contributors, and five reviewers (one of whom accepts everything). No model nodes: campaigns need none.
type Who = 'owner' | 'alice' | 'bob' | 'r1' | 'r2' | 'r3' | 'r4' | 'lazy';
const WHO: Who[] = ['owner', 'alice', 'bob', 'r1', 'r2', 'r3', 'r4', 'lazy'];
const REVIEWERS: Who[] = ['r1', 'r2', 'r3', 'r4', 'lazy'];
const FEE = 10_000n; // the router's default platform fee, 1 %
const net = (tokens: string) => afterFee(parseAmount(tokens), FEE);

let ws: Workspace;
let url: string;
let router: CliProcess;
let campaignId: string;
const keys = {} as Record<Who, { key: string; account: string }>;
const api = (who: Who) => new OmniClient({ baseUrl: url, apiKey: keys[who].key });
const data = (who: Who) => new CampaignClient({ baseUrl: url, apiKey: keys[who].key });
const auth = (who: Who) => ['--router', url, '--api-key', keys[who].key];
const balance = async (who: Who) => parseAmount((await api(who).account()).balance);

/** Runs a CLI command to its end; its exit code and output. */
async function cli(args: string[]) {
  const p = runCli(args);
  const code = await p.exited;
  return { code, stdout: p.stdout(), output: p.output() };
}

/**
 * `review` driven as a person would: answer each prompt from the item text shown above it. Resolves with the
 * command's stdout once it exits.
 */
function reviewInTerminal(who: Who, answer: (text: string) => string): Promise<string> {
  const child = spawn(
    process.execPath,
    ['bin/otensor-cli.js', 'review', '--task-id', campaignId, ...auth(who)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let answered = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const prompts = out.split(' > ').length - 1;
    if (prompts <= answered || !out.endsWith(' > ')) return;
    answered = prompts;
    if (out.endsWith('reason (optional) > ')) {
      child.stdin.write('looks wrong\n');
      return;
    }
    // The item's text is the line under its "[i/n] kind (format), size" header.
    const shown = [...out.matchAll(/\n\[\d+\/\d+\] [^\n]*\n([^\n]*)/g)].at(-1)?.[1] ?? '';
    child.stdin.write(`${answer(shown)}\n`);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`review exited ${code}: ${out}`)),
    );
  });
}

const honest = (text: string) => (/spam|contested/.test(text) ? 'reject' : 'accept');

beforeAll(async () => {
  ws = await workspace('campaigns');
  const dir = join(ws.dir, 'router');
  for (const who of WHO) keys[who] = createAccountKey(dir, { label: who });
  const genesis = [`${keys.owner.account}=100`, ...REVIEWERS.map((r) => `${keys[r].account}=10`)];
  ({ url, process: router } = await startRouterProcess(ws, {
    args: genesis.flatMap((g) => ['--genesis', g]),
  }));
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

describe('a data campaign end to end', () => {
  it('creates, collects, reviews in two rounds, survives a restart, pays exactly and exports', async () => {
    // Reviewers stake on their own address; the campaign asks for 1 token of stake.
    for (const r of REVIEWERS) await api(r).stake({ node: keys[r].account, amount: '1' });

    const gold = join(ws.dir, 'gold.jsonl');
    writeFileSync(
      gold,
      [
        { text: 'spam: cheap pills, click now', answer: 'reject' },
        { text: 'spam spam spam win money', answer: 'reject' },
        { text: 'free spam offer, reply today', answer: 'reject' },
        { text: 'a red bicycle leaning on a wall', answer: 'accept' },
      ]
        .map((g) => JSON.stringify(g))
        .join('\n'),
    );
    const created = await cliOutput([
      ...['campaign', 'create', '--title', 'Image captions', '--kind', 'text', '--reviewers', '2'],
      ...[
        '--reward',
        '1',
        '--review-reward',
        '0.1',
        '--budget',
        '30',
        '--gold',
        gold,
        '--reviewer-stake',
        '1',
      ],
      ...['--gold-share', '1', '--min-evidence', '4', '--max-bytes', '4096', ...auth('owner')],
    ]);
    expect(created).toMatch(/^camp_[0-9a-f]{16}\n$/);
    campaignId = created.trim();
    expect(await balance('owner')).toBe(parseAmount('70'));

    // Alice: a JSONL file, four good lines and four that are refused, each with its reason.
    const lines = join(ws.dir, 'alice.jsonl');
    writeFileSync(
      lines,
      [
        '{"text": "a cat asleep on a keyboard"}',
        '{"text": "two dogs running on a beach"}',
        '{"text": "a bowl of ramen with an egg"}',
        '{"text": "contested: a blurry photo of something"}',
        '{"text": oops}',
        '{"caption": "wrong field"}',
        '{"text": ""}',
        '{"text": "a cat asleep on a keyboard"}',
      ].join('\n'),
    );
    const alice = await cli(['upload-data', '--task-id', campaignId, '--file', lines, ...auth('alice')]);
    expect(alice.code).toBe(0);
    expect(alice.stdout.trim().split('\n')).toEqual([
      'refused alice.jsonl:5: the line is not valid JSON (malformed)',
      'refused alice.jsonl:6: $.text is required (a text campaign\'s line is {"text": "..."}) (schema)',
      'refused alice.jsonl:7: the text is empty (empty)',
      `refused alice.jsonl:8: the same bytes (sha256 ${createHash('sha256').update('a cat asleep on a keyboard').digest('hex')}) are already in this campaign (duplicate)`,
    ]);

    // Bob: a folder with one good text file and four refused: a PNG, an empty file, an oversize one, a duplicate.
    const folder = join(ws.dir, 'bob');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a-good.txt'), 'a lighthouse at dusk');
    writeFileSync(join(folder, 'b-picture.txt'), Buffer.from('89504e470d0a1a0a0000000d4948445200', 'hex'));
    writeFileSync(join(folder, 'c-empty.txt'), '');
    writeFileSync(join(folder, 'd-big.txt'), 'x'.repeat(5000));
    writeFileSync(join(folder, 'e-copy.txt'), 'two dogs running on a beach');
    const bob = await cli(['upload-data', '--task-id', campaignId, '--file', folder, ...auth('bob')]);
    expect(bob.code).toBe(0);
    const refusals = bob.stdout.trim().split('\n');
    expect(refusals.map((l) => /\((\w+)\)$/.exec(l)?.[1])).toEqual([
      'wrong_kind',
      'empty',
      'oversize',
      'duplicate',
    ]);
    expect(refusals[0]).toContain('the content is image (png); the campaign takes text');
    // Refused items left nothing stored: 5 items and 4 gold files, no temporary file.
    const files = join(ws.dir, 'router', 'campaign-files');
    const stored = readdirSync(files)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(files, d)));
    expect(stored).toHaveLength(9);
    expect(readdirSync(join(files, 'tmp'))).toEqual([]);

    const status = JSON.parse(
      await cliOutput(['check-status', '--task-id', campaignId, '--json', ...auth('alice')]),
    ) as { sha256: string; state: string; id: string }[];
    expect(status.map((s) => s.state)).toEqual(['received', 'received', 'received', 'received']);
    const bobItem = (await data('bob').items(campaignId)).data[0];
    // A contributor cannot read others' raw items, nor export the dataset.
    await expect(data('alice').content(campaignId, bobItem?.id as string)).rejects.toMatchObject({
      status: 403,
    });
    await expect(data('alice').exportManifest(campaignId)).rejects.toMatchObject({ status: 403 });

    // The lazy reviewer accepts everything through the SDK; the gold items catch it at once.
    const lazy = new Validator({ router: url, apiKey: keys.lazy.key, judge: () => ({ verdict: 'accept' }) });
    const lazyBatch = await lazy.getDataBatch(campaignId);
    expect(lazyBatch.items).toHaveLength(9);
    const [lazyAnswer] = await lazy.submitResults(await lazy.validate(lazyBatch));
    expect(lazyAnswer?.revoked).toBe(true);
    await expect(lazy.getDataBatch(campaignId)).rejects.toMatchObject({ status: 403 });
    expect((await api('lazy').stakeOf(keys.lazy.account)).bonded).toBe('0.9');

    // r1 in the terminal (accepts the contested item), r2 through the SDK (rejects it): a split, so round two.
    const shown = await reviewInTerminal('r1', (text) => (/spam/.test(text) ? 'r' : 'a'));
    expect(shown).toContain('sent 9 verdicts: 9 recorded');
    const r2 = new Validator({
      router: url,
      apiKey: keys.r2.key,
      judge: (item) => ({ verdict: honest(item.text ?? ''), reasons: ['not a clear caption'] }),
    });
    const r2Results = await r2.validate(await r2.getDataBatch(campaignId));
    await r2.submitResults(r2Results);
    let mine = (await data('alice').items(campaignId)).data;
    expect(mine.map((i) => i.state)).toEqual(['accepted', 'accepted', 'accepted', 'second_round']);
    const paidBefore = await Promise.all(WHO.map(balance));
    const votesBefore = (await data('owner').get(campaignId)).votes;

    // The router dies mid-campaign and comes back on the same data folder.
    router.child.kill('SIGKILL');
    await router.exited;
    ({ url, process: router } = await startRouterProcess(ws));
    expect((await data('owner').get(campaignId)).votes).toBe(votesBefore);
    expect(await Promise.all(WHO.map(balance))).toEqual(paidBefore);
    // A client retrying its results after the restart changes nothing.
    const [retry] = await new Validator({ router: url, apiKey: keys.r2.key }).submitResults(r2Results);
    expect(retry?.results.every((r) => r.status === 'duplicate')).toBe(true);
    expect(await Promise.all(WHO.map(balance))).toEqual(paidBefore);

    // Round two: two more reviewers reject the contested item.
    for (const r of ['r3', 'r4'] as const) {
      const v = new Validator({
        router: url,
        apiKey: keys[r].key,
        judge: (item) => ({ verdict: honest(item.text ?? '') }),
      });
      const batch = await v.getDataBatch(campaignId);
      expect(batch.items.filter((i) => /contested/.test(i.text ?? ''))).toHaveLength(1);
      await v.submitResults(await v.validate(batch));
    }
    mine = (await data('alice').items(campaignId)).data;
    expect(mine[3]).toMatchObject({
      state: 'rejected',
      round: 2,
      verdict: 'reject',
      reasons: ['not a clear caption'],
    });

    // Balances to the smallest unit: 4 accepted items; r1 agreed 4 times, r2 5, r3 and r4 once, lazy never.
    expect(await balance('alice')).toBe(3n * net('1'));
    expect(await balance('bob')).toBe(net('1'));
    const staked = parseAmount('9');
    expect(await balance('r1')).toBe(staked + 4n * net('0.1'));
    expect(await balance('r2')).toBe(staked + 5n * net('0.1'));
    expect(await balance('r3')).toBe(staked + net('0.1'));
    expect(await balance('lazy')).toBe(staked);
    const rewards = await cliOutput(['check-rewards', '--wallet', keys.alice.account, ...auth('alice')]);
    expect(rewards).toContain(
      `data rewards         ${formatAmount(3n * net('1'))} OMNIT for 3 accepted items`,
    );

    // Export twice: byte-identical, pseudonymous, one manifest line per accepted item.
    const exportTo = async (dir: string) => {
      await cliOutput(['dataset', 'export', '--task-id', campaignId, '--out', dir, ...auth('owner')]);
      const read = (f: string) => readFileSync(join(dir, f));
      return [
        read('manifest.jsonl'),
        read('README.md'),
        ...readdirSync(join(dir, 'items'))
          .sort()
          .map((f) => read(`items/${f}`)),
      ];
    };
    const first = await exportTo(join(ws.dir, 'export-1'));
    const second = await exportTo(join(ws.dir, 'export-2'));
    expect(second).toEqual(first);
    const manifest = (first[0] as Buffer)
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const accepted = [...status.slice(0, 3).map((s) => s.sha256), bobItem?.sha256].sort();
    expect(manifest.map((m: { sha256: string }) => m.sha256)).toEqual(accepted);
    expect((first[0] as Buffer).toString()).not.toMatch(/0x[0-9a-f]{40}/);

    // Closing returns the rest of the budget; the ledger holds.
    await cliOutput(['campaign', 'close', campaignId, ...auth('owner')]);
    expect(await balance('owner')).toBe(parseAmount('100') - parseAmount('4') - 11n * parseAmount('0.1'));
    const verify = await cli(['ledger', 'verify', '--data', join(ws.dir, 'router')]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('ok:');
    await expect(data('bob').uploadItem(campaignId, Buffer.from('late'))).rejects.toBeInstanceOf(ApiError);
  }, 180_000);

  it("asks a label from a fixed set: created, reviewed and exported with each item's final label", async () => {
    const gold = join(ws.dir, 'gold-labels.jsonl');
    writeFileSync(
      gold,
      [
        { text: 'gold: a cat on a sofa', label: 'cat' },
        { text: 'gold: spam, click here', answer: 'reject' },
      ]
        .map((g) => JSON.stringify(g))
        .join('\n'),
    );
    const create = ['campaign', 'create', '--title', 'Animals', '--kind', 'text', '--reviewers', '2'];
    const money = ['--reward', '1', '--review-reward', '0.1', '--budget', '20'];
    const missing = await cli([...create, ...money, '--question', 'label', ...auth('owner')]);
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain("A 'label' question needs 'labels'");
    await expect(
      data('owner').create({
        title: 't',
        kind: 'text',
        reviewers: 1,
        reward: '1',
        review_reward: '0',
        budget: '1',
        question: 'rating',
        scale: { min: 5, max: 1 },
      }),
    ).rejects.toMatchObject({ status: 400, param: 'scale' });
    const labels = ['--question', 'label', '--labels', 'cat,dog', '--gold', gold, '--gold-share', '1'];
    campaignId = (await cliOutput([...create, ...money, ...labels, ...auth('owner')])).trim();
    expect(await cliOutput(['campaign', 'show', campaignId, ...auth('owner')])).toContain(
      'question        a label: cat, dog (or reject)',
    );
    const lines = join(ws.dir, 'animals.jsonl');
    writeFileSync(
      lines,
      ['a cat in a box', 'a dog with a ball', 'spam: buy now']
        .map((text) => JSON.stringify({ text }))
        .join('\n'),
    );
    expect(
      (await cli(['upload-data', '--task-id', campaignId, '--file', lines, ...auth('alice')])).code,
    ).toBe(0);

    // r3 in the terminal, by the labels' numbers; r4 through the SDK, whose first answer has a label off the set.
    const byNumber = (text: string) => (/spam/.test(text) ? 'r' : /cat/.test(text) ? '1' : '2');
    expect(await reviewInTerminal('r3', byNumber)).toContain('sent 5 verdicts: 5 recorded');
    const votes = (await data('owner').get(campaignId)).votes;
    const r4 = new Validator({
      router: url,
      apiKey: keys.r4.key,
      judge: (item) =>
        /spam/.test(item.text ?? '')
          ? { verdict: 'reject' }
          : { label: /cat/.test(item.text ?? '') ? 'cat' : 'dog' },
    });
    const batch = await r4.getDataBatch(campaignId);
    expect(batch.question).toEqual({ type: 'label', labels: ['cat', 'dog'] });
    const results = await r4.validate(batch);
    await expect(
      r4.submitResults([{ ...(results[0] as (typeof results)[number]), label: 'cow' }]),
    ).rejects.toMatchObject({
      status: 400,
      param: 'results.0.label',
    });
    expect((await data('owner').get(campaignId)).votes).toBe(votes);
    await r4.submitResults(results);

    const status = JSON.parse(
      await cliOutput(['check-status', '--task-id', campaignId, '--json', ...auth('alice')]),
    ) as { sha256: string; state: string; label?: string }[];
    expect(status.map((s) => [s.state, s.label])).toEqual([
      ['accepted', 'cat'],
      ['accepted', 'dog'],
      ['rejected', undefined],
    ]);
    const exportTo = async (dir: string) => {
      await cliOutput(['dataset', 'export', '--task-id', campaignId, '--out', dir, ...auth('owner')]);
      return readFileSync(join(dir, 'manifest.jsonl'), 'utf8');
    };
    const first = await exportTo(join(ws.dir, 'animals-1'));
    expect(await exportTo(join(ws.dir, 'animals-2'))).toBe(first);
    const manifest = first
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { sha256: string; label: string });
    const bySha = new Map(status.map((s) => [s.sha256, s.label]));
    expect(manifest.map((m) => m.label).sort()).toEqual(['cat', 'dog']);
    for (const m of manifest) expect(m.label).toBe(bySha.get(m.sha256));
  }, 120_000);
});

/**
 * `npm run bench -- campaigns` (issue 12): a simulated crowd through a real router process (HTTP, SQLite,
 * ledger), and upload throughput and memory.
 *
 * Crowd: 2,000 text items of which 10 % spam; 40 reviewers of which 20 % vote at random, 10 % accept
 * everything and the rest are honest (right 95 % of the time); gold items 5 % of the items (100, half of them
 * spam). The campaign's consensus (balanced one-coin Dawid-Skene, K = 2, a second round of 2) runs in the
 * router. Plain majority of 3 is computed from the same run's votes: each item's first three votes, whoever
 * cast them, as a campaign without weighting or rights would take them. Reviewers are simulated (their
 * verdicts come from a seeded generator); everything else is the real router.
 *
 * Uploads: a 10,000-line JSONL file in one request (items/s), and a 1 GB item streamed to the router while
 * its resident memory is sampled from /proc (growth over its idle size).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccountKey } from '../src/cli/local-admin.js';
import { majority, type Verdict } from '../src/data/index.js';
import { CampaignClient, OmniClient } from '../src/sdk/index.js';
import { workspace } from '../test/e2e/harness.js';
import { runCli, stopProcess } from './sim/processes.js';

/** Six words of its own for item i: texts that differ only in a number are near-duplicates (refused). */
const words = (i: number) =>
  (createHash('sha256').update(`item ${i}`).digest('hex').slice(0, 36).match(/.{6}/g) ?? []).join(' ');

const ITEMS = Number(process.env.CAMPAIGN_ITEMS ?? 2000);
const REVIEWERS = 40;
const UPLOAD_LINES = 10_000;
const BIG_BYTES = Number(process.env.CAMPAIGN_BIG_BYTES ?? 1024 ** 3);

/** A small seeded generator (mulberry32): the same crowd every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rssOf = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
};

type Kind = 'honest' | 'random' | 'always';

/** A simulated reviewer's verdict: honest ones are right 95 % of the time. */
function behave(kind: Kind, right: Verdict, random: () => number): Verdict {
  if (kind === 'always') return 'accept';
  if (kind === 'random') return random() < 0.5 ? 'accept' : 'reject';
  if (random() < 0.95) return right;
  return right === 'accept' ? 'reject' : 'accept';
}

export async function campaignsBench(): Promise<Record<string, unknown>> {
  const ws = await workspace('bench-campaigns');
  const dir = join(ws.dir, 'router');
  const owner = createAccountKey(dir, { label: 'owner' });
  const contributor = createAccountKey(dir, { label: 'contributor' });
  const reviewers = Array.from({ length: REVIEWERS }, (_, i) => ({
    ...createAccountKey(dir, { label: `r${i}` }),
    kind: (i < 8 ? 'random' : i < 12 ? 'always' : 'honest') as Kind,
  }));
  const genesis = [`${owner.account}=100000`, ...reviewers.map((r) => `${r.account}=10`)];
  const router = ws.track(
    runCli([
      'router',
      'start',
      '--port',
      '0',
      '--data',
      dir,
      '--rate-limit',
      '0',
      ...genesis.flatMap((g) => ['--genesis', g]),
    ]),
  );
  const [, url] = await router.line(/router: (https?:\/\/\S+)/);
  const base = url as string;
  const campaigns = (key: string) => new CampaignClient({ baseUrl: base, apiKey: key });
  try {
    for (const r of reviewers)
      await new OmniClient({ baseUrl: base, apiKey: r.key }).stake({ node: r.account, amount: '1' });
    const random = seeded(12);
    const truth = new Map<string, Verdict>();
    const lines: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      const spam = i % 10 === 0;
      const text = spam
        ? `SPAM ${i}: cheap pills, visit my site ${words(i)}`
        : `caption ${i}: a photo of something ordinary ${words(i)}`;
      truth.set(text, spam ? 'reject' : 'accept');
      lines.push(JSON.stringify({ text }));
    }
    const gold = Array.from({ length: ITEMS / 20 }, (_, i) => {
      const spam = i % 2 === 0;
      const text = spam ? `SPAM gold ${i}: win money now` : `gold caption ${i}: a quiet street`;
      truth.set(text, spam ? 'reject' : 'accept');
      return { text, answer: spam ? ('reject' as const) : ('accept' as const) };
    });
    const campaign = await campaigns(owner.key).create({
      title: 'bench crowd',
      kind: 'text',
      reviewers: 2,
      second_round_reviewers: 2,
      reward: '1',
      review_reward: '0.1',
      budget: String(ITEMS * 2),
      reviewer_stake: '1',
      gold,
      gold_share: 0.1,
      batch_size: 20,
    });
    const upload = await campaigns(contributor.key).uploadJsonl(campaign.id, Buffer.from(lines.join('\n')));
    if (upload.accepted !== ITEMS) throw new Error(`only ${upload.accepted} items uploaded`);

    // The crowd: every turn, each reviewer still allowed takes a batch and answers it, in a seeded order.
    const votes = new Map<string, Verdict[]>(); // item text -> votes in the order cast
    const diag: string[] = [];
    let reviews = 0;
    let goldReviews = 0;
    const started = performance.now();
    for (let turn = 0; turn < 400; turn++) {
      let leased = 0;
      const order = [...reviewers].sort(() => random() - 0.5);
      for (const r of order) {
        const api = campaigns(r.key);
        let batch: Awaited<ReturnType<CampaignClient['batch']>>;
        try {
          batch = await api.batch(campaign.id);
        } catch {
          continue; // revoked
        }
        leased += batch.items.length;
        if (batch.items.length === 0) continue;
        const results = batch.items.map((item) => {
          const verdict = behave(r.kind, truth.get(item.text ?? '') as Verdict, random);
          if ((item.text ?? '').includes('gold')) goldReviews += 1;
          else {
            reviews += 1;
            votes.set(item.text ?? '', [...(votes.get(item.text ?? '') ?? []), verdict]);
          }
          if (process.env.CAMPAIGN_DIAG) diag.push(`${item.text}|${r.kind}|${verdict}|${turn}`);
          return { item_id: item.id, verdict };
        });
        await api.submitReviews(campaign.id, results);
      }
      if (leased === 0) break;
    }
    const crowdSeconds = (performance.now() - started) / 1000;

    // The router's decisions, read back as the contributor sees them.
    const items = (await campaigns(contributor.key).items(campaign.id)).data;
    const bySha = new Map<string, string>();
    for (const text of truth.keys()) bySha.set(createHash('sha256').update(text).digest('hex'), text);
    const score = (decided: { text: string; verdict: Verdict }[]) => {
      const accepted = decided.filter((d) => d.verdict === 'accept');
      const right = accepted.filter((d) => truth.get(d.text) === 'accept').length;
      const spam = [...truth.entries()].filter(([t, v]) => v === 'reject' && !t.includes('gold')).length;
      const spamAccepted = accepted.filter((d) => truth.get(d.text) === 'reject').length;
      const correct = decided.filter((d) => truth.get(d.text) === d.verdict).length;
      return {
        accepted_dataset_accuracy: Number((right / Math.max(1, accepted.length)).toFixed(4)),
        spam_accepted_share: Number((spamAccepted / spam).toFixed(4)),
        spam_accepted: spamAccepted,
        verdict_accuracy: Number((correct / Math.max(1, decided.length)).toFixed(4)),
        decided: decided.length,
      };
    };
    const ours = items
      .filter((i) => i.verdict !== null)
      .map((i) => ({ text: bySha.get(i.sha256) as string, verdict: i.verdict as Verdict }));
    // Plain majority of 3, the same crowd: three distinct reviewers drawn at random per item, no weights,
    // no gold, no rights to lose (simulated in this process with the same reviewer model).
    const draw = seeded(34);
    const plain = lines.map((line) => {
      const text = (JSON.parse(line) as { text: string }).text;
      const picked = new Set<number>();
      while (picked.size < 3) picked.add(Math.floor(draw() * REVIEWERS));
      const v = [...picked].map((n) =>
        behave((reviewers[n] as { kind: Kind }).kind, truth.get(text) as Verdict, draw),
      );
      return { text, verdict: majority(v) };
    });
    void votes;
    if (process.env.CAMPAIGN_DIAG)
      for (const o of ours.filter((d) => d.verdict === 'accept' && truth.get(d.text) === 'reject'))
        process.stderr.write(
          `SPAM ${o.text}: ${diag.filter((d) => d.startsWith(`${o.text}|`)).join(' ; ')}\n`,
        );
    const show = await campaigns(owner.key).get(campaign.id);
    const badIds = new Set(reviewers.filter((r) => r.kind !== 'honest').map((r) => r.account));
    const stripped = show.revoked.filter((r) => badIds.has(r.reviewer)).length;
    const consensus = {
      ...score(ours),
      reviews_per_item: Number((reviews / ITEMS).toFixed(3)),
      reviews_per_item_with_gold: Number(((reviews + goldReviews) / ITEMS).toFixed(3)),
      second_round_items: items.filter((i) => i.round === 2).length,
      bad_reviewers_stripped: `${stripped} of ${badIds.size}`,
      honest_reviewers_stripped: show.revoked.length - stripped,
    };
    const plainMajority = {
      ...score(plain),
      reviews_per_item: 3,
      bad_reviewers_stripped: `0 of ${badIds.size} (no rights to strip)`,
    };

    // Uploads: 10,000 JSONL lines in one request.
    const uploads = await campaigns(owner.key).create({
      title: 'bench uploads',
      kind: 'text',
      reviewers: 1,
      reward: '0.001',
      review_reward: '0',
      budget: '100',
      max_bytes: BIG_BYTES + 1,
    });
    const many = Array.from({ length: UPLOAD_LINES }, (_, i) =>
      JSON.stringify({ text: `line ${i} ${words(i)} ${'x'.repeat(50)}` }),
    );
    const t0 = performance.now();
    const manyResult = await campaigns(contributor.key).uploadJsonl(uploads.id, Buffer.from(many.join('\n')));
    const linesPerSecond = UPLOAD_LINES / ((performance.now() - t0) / 1000);

    // A 1 GB item, generated as it is sent (the client holds 1 MiB), the router's RSS sampled meanwhile.
    const pid = router.child.pid as number;
    const idle = rssOf(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 50);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const big = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= BIG_BYTES) return controller.close();
        const n = Math.min(chunk.length, BIG_BYTES - sent);
        sent += n;
        controller.enqueue(chunk.subarray(0, n));
      },
    });
    const t1 = performance.now();
    const bigResult = await campaigns(contributor.key).uploadItem(uploads.id, big, { name: 'big.txt' });
    const bigSeconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    return {
      crowd: {
        items: ITEMS,
        spam_share: 0.1,
        reviewers: REVIEWERS,
        random_reviewers: 8,
        always_accept_reviewers: 4,
        gold_items: gold.length,
        seconds: Number(crowdSeconds.toFixed(1)),
      },
      consensus,
      plain_majority_of_3: plainMajority,
      uploads: {
        jsonl_lines: UPLOAD_LINES,
        jsonl_accepted: manyResult.accepted,
        jsonl_items_per_second: Math.round(linesPerSecond),
        big_bytes: BIG_BYTES,
        big_accepted: bigResult.accepted,
        big_mb_per_second: Number((BIG_BYTES / 1e6 / bigSeconds).toFixed(1)),
        router_rss_idle_mb: Number((idle / 1e6).toFixed(1)),
        router_rss_peak_mb: Number((peak / 1e6).toFixed(1)),
        router_rss_growth_mb: Number(((peak - idle) / 1e6).toFixed(1)),
      },
    };
  } finally {
    await stopProcess(router);
    await ws.cleanup();
  }
}

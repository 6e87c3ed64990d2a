import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { CampaignClient, type CampaignView, type UploadView } from '../sdk/index.js';
import { type RouterAuthOptions, routerAndAuth } from './config.js';
import { opinionLine } from './opinion.js';
import { describeQuestion, questionOptions } from './review-question.js';

export function campaignClient(options: RouterAuthOptions): CampaignClient {
  const { router, apiKey } = routerAndAuth(options);
  return new CampaignClient({ baseUrl: router, apiKey });
}

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const note = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

type CreateOptions = RouterAuthOptions & {
  title: string;
  kind: string;
  reviewers: string;
  reward: string;
  reviewReward: string;
  budget: string;
  gold?: string;
  reviewerStake?: string;
  instructions?: string;
  schema?: string;
  maxBytes?: string;
  secondRound?: string;
  threshold?: string;
  goldShare?: string;
  minEvidence?: string;
  accuracyFloor?: string;
  lease?: number;
  batchSize?: string;
  question?: string;
  labels?: string;
  scale?: string;
  tolerance?: string;
  prereview?: string;
};

const whole = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got '${value}'.`);
  return n;
};
const ratio = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new Error(`${name} must be a ratio from 0 to 1, got '${value}'.`);
  return n;
};

/**
 * A gold file: JSONL, `{"text": ..., "answer": "accept"|"reject"}` or `{"file": PATH, "answer": ...}` a line;
 * label and rating campaigns give `"label"` or `"rating"` for an item to accept.
 */
function readGold(file: string) {
  const folder = dirname(resolve(file));
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let g: {
        text?: string;
        file?: string;
        answer?: string;
        label?: string;
        rating?: number;
        metadata?: Record<string, unknown>;
      };
      try {
        g = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${n} is not valid JSON.`);
      }
      const valued = g.label !== undefined || g.rating !== undefined;
      if (g.answer !== 'accept' && g.answer !== 'reject' && !(valued && g.answer === undefined))
        throw new Error(`${file}:${n}: "answer" must be "accept" or "reject" (or give "label" or "rating").`);
      const content =
        g.file !== undefined
          ? { content_base64: readFileSync(resolve(folder, g.file)).toString('base64') }
          : { text: g.text ?? '' };
      return {
        ...content,
        ...(g.answer === 'accept' || g.answer === 'reject' ? { answer: g.answer } : {}),
        ...(g.label !== undefined ? { label: g.label } : {}),
        ...(g.rating !== undefined ? { rating: g.rating } : {}),
        ...(g.metadata ? { metadata: g.metadata } : {}),
      };
    });
}

/** `campaign create ...`: prints the campaign id alone on stdout. */
export async function campaignCreateCommand(o: CreateOptions): Promise<void> {
  const optional = {
    instructions: o.instructions,
    schema:
      o.schema === undefined
        ? undefined
        : (JSON.parse(readFileSync(o.schema, 'utf8')) as Record<string, unknown>),
    max_bytes: whole(o.maxBytes, '--max-bytes'),
    second_round_reviewers: whole(o.secondRound, '--second-round'),
    threshold: ratio(o.threshold, '--threshold'),
    gold_share: ratio(o.goldShare, '--gold-share'),
    min_evidence: whole(o.minEvidence, '--min-evidence'),
    accuracy_floor: ratio(o.accuracyFloor, '--accuracy-floor'),
    lease_seconds: o.lease === undefined ? undefined : Math.max(1, Math.round(o.lease / 1000)),
    batch_size: whole(o.batchSize, '--batch-size'),
    reviewer_stake: o.reviewerStake,
    gold: o.gold === undefined ? undefined : readGold(o.gold),
    ...questionOptions(o),
    prereview: o.prereview,
  };
  const campaign = await campaignClient(o).create({
    title: o.title,
    kind: o.kind as CampaignView['kind'],
    reviewers: whole(o.reviewers, '--reviewers') as number,
    reward: o.reward,
    review_reward: o.reviewReward,
    budget: o.budget,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  });
  say(campaign.id);
}

function describe(c: CampaignView): void {
  say(`campaign        ${c.id} (${c.status})`);
  say(`title           ${c.title}`);
  say(`owner           ${c.owner}`);
  say(`kind            ${c.kind}, up to ${c.max_bytes} bytes an item`);
  say(
    `reviewers       ${c.reviewers} an item, ${c.second_round_reviewers} more in a second round; threshold ${c.threshold}`,
  );
  say(`question        ${describeQuestion(c.question)}`);
  say(`rewards         ${c.reward} OMNIT an accepted item, ${c.review_reward} OMNIT an agreeing review`);
  say(
    `reviewer stake  ${c.reviewer_stake} OMNIT; accuracy floor ${c.accuracy_floor} after ${c.min_evidence} answers`,
  );
  say(
    `escrow          ${c.escrow.balance} of ${c.budget} OMNIT left (${c.escrow.held} held for items in review)`,
  );
  say(
    `items           ${
      Object.entries(c.items)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ') || 'none'
    }; ${c.votes} votes`,
  );
  for (const r of c.revoked)
    say(`revoked         ${r.reviewer} (estimated accuracy ${r.accuracy.toFixed(3)})`);
  if (c.prereview) say(`pre-review      ${c.prereview} (a first opinion on each item, paid from the budget)`);
}

export async function campaignListCommand(o: RouterAuthOptions & { json?: boolean }): Promise<void> {
  const { data } = await campaignClient(o).list();
  if (o.json) return say(JSON.stringify(data, null, 2));
  if (data.length === 0) return say('no campaigns');
  for (const c of data)
    say(
      `${c.id}  ${c.status.padEnd(6)}  ${c.kind.padEnd(5)}  ${(c.question?.type ?? 'accept').padEnd(6)}  ${String(c.items.accepted ?? 0).padStart(5)} accepted  ${c.title}`,
    );
}

export async function campaignShowCommand(
  id: string,
  o: RouterAuthOptions & { json?: boolean },
): Promise<void> {
  const c = await campaignClient(o).get(id);
  if (o.json) say(JSON.stringify(c, null, 2));
  else describe(c);
}

export async function campaignCloseCommand(id: string, o: RouterAuthOptions): Promise<void> {
  const c = await campaignClient(o).close(id);
  describe(c);
}

/** A file's bytes as a web stream, reporting progress on stderr as they are read. */
function streamWithProgress(file: string, label: string): ReadableStream<Uint8Array> {
  const total = statSync(file).size;
  let sent = 0;
  let last = 0;
  const tty = process.stderr.isTTY;
  const show = (end: boolean) => {
    const pct = total === 0 ? 100 : Math.floor((sent / total) * 100);
    const line = `upload ${label}: ${(sent / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB (${pct}%)`;
    process.stderr.write(tty ? `\r${line}${end ? '\n' : ''}` : end ? `${line}\n` : '');
  };
  const source = Readable.toWeb(
    createReadStream(file, { highWaterMark: 256 * 1024 }),
  ) as unknown as ReadableStream<Uint8Array>;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.length;
        if (Date.now() - last > 200) {
          last = Date.now();
          show(false);
        }
        controller.enqueue(chunk);
      },
      flush() {
        show(true);
      },
    }),
  );
}

function filesOf(path: string): string[] {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => (entry.name.startsWith('.') ? [] : filesOf(join(path, entry.name))));
}

/**
 * `upload-data --task-id ID --file PATH` (seed 002): one file, a folder (each file an item) or a JSONL file
 * (each line an item). Each refused item gets a line on stdout with its reason; exits 0 when one was accepted.
 */
export async function uploadDataCommand(
  o: RouterAuthOptions & { taskId: string; file: string },
): Promise<void> {
  const api = campaignClient(o);
  let accepted = 0;
  let refused = 0;
  for (const file of filesOf(o.file)) {
    const name = basename(file);
    const body = streamWithProgress(file, name) as unknown as NodeReadableStream<Uint8Array> &
      ReadableStream<Uint8Array>;
    const result: UploadView = file.endsWith('.jsonl')
      ? await api.uploadJsonl(o.taskId, body, { name })
      : await api.uploadItem(o.taskId, body, { name });
    for (const item of result.items) {
      if (item.accepted) note(`accepted ${item.name ?? name}: ${item.sha256} (${item.id})`);
      else say(`refused ${item.name ?? name}: ${item.reason} (${item.code})`);
    }
    accepted += result.accepted;
    refused += result.refused;
  }
  note(`${accepted} accepted, ${refused} refused`);
  if (accepted === 0) process.exitCode = 1;
}

/** `check-status --task-id ID [--json]`: the caller's items by state, with reasons. */
export async function checkStatusCommand(
  o: RouterAuthOptions & { taskId: string; json?: boolean },
): Promise<void> {
  const { data } = await campaignClient(o).items(o.taskId);
  if (o.json) return say(JSON.stringify(data, null, 2));
  if (data.length === 0) return say(`no items of yours in ${o.taskId}`);
  const counts = new Map<string, number>();
  for (const i of data) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  say([...counts].map(([state, n]) => `${state} ${n}`).join(', '));
  for (const i of data) {
    say(
      `${i.sha256.slice(0, 16)}  ${i.state.padEnd(12)}  ${(i.name ?? '').padEnd(24)}  ${i.label !== undefined ? `label ${i.label}  ` : ''}${i.rating !== undefined ? `rating ${i.rating}  ` : ''}${i.agreement === null ? '' : `agreement ${i.agreement.toFixed(3)}`}${i.reasons.length > 0 ? `  ${i.reasons.join('; ')}` : ''}`,
    );
    const opinion = opinionLine(i.machine_opinion);
    if (opinion) say(`  ${opinion}`);
  }
}

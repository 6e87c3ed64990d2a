import { createHash, randomBytes } from 'node:crypto';
import type { UploadOutcomeView } from '../protocol/index.js';
import type { Source } from './blobs.js';
import { type Campaigns, pricesOf } from './campaigns.js';
import { fingerprintOf, nearRefusal } from './near/index.js';
import { itemHold } from './rewards.js';
import { type CampaignRecord, receivedItem } from './store.js';
import { record, refused } from './uploads.js';

/** Lines admitted together: one transaction and one ledger commit for up to this many items. */
const GROUP = 500;

/** Lines of a stream, each at most `max` bytes (a longer one is reported as oversize, not kept in memory). */
export async function* lines(
  source: Source,
  max: number,
): AsyncGenerator<{ line: Buffer; oversize: boolean }> {
  let parts: Buffer[] = [];
  let length = 0;
  let oversize = false;
  for await (const piece of source) {
    let chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    while (chunk.length > 0) {
      const newline = chunk.indexOf(0x0a);
      const end = newline < 0 ? chunk.length : newline;
      if (!oversize) {
        if (length + end > max) {
          oversize = true;
          parts = [];
        } else parts.push(chunk.subarray(0, end));
      }
      length += end;
      if (newline < 0) break;
      yield { line: Buffer.concat(parts), oversize };
      parts = [];
      length = 0;
      oversize = false;
      chunk = chunk.subarray(newline + 1);
    }
  }
  if (length > 0 || parts.length > 0) yield { line: Buffer.concat(parts), oversize };
}

type Checked = { index: number; name: string; content: Buffer; metadata: unknown };

/**
 * Admits a group of checked records: duplicates (in the campaign or the group) refused, files written by
 * content, then every row inserted in one transaction while the budget's reservation still fits. If that
 * transaction fails, the files it would have kept are removed again.
 */
function admitGroup(campaigns: Campaigns, campaign: CampaignRecord, contributor: string, group: Checked[]) {
  const s = campaign.settings;
  const outcomes = new Map<number, UploadOutcomeView>();
  const fresh: (Checked & { sha256: string; existed: boolean; id: string })[] = [];
  const seen = new Set<string>();
  for (const c of group) {
    const sha256 = createHash('sha256').update(c.content).digest('hex');
    if (c.content.length > s.maxBytes) {
      const reason = `${c.content.length} bytes is over the campaign's limit of ${s.maxBytes}`;
      outcomes.set(c.index, refused(c.index, c.name, 'oversize', reason));
    } else if (seen.has(sha256) || campaigns.store.hasSha(campaign.id, sha256)) {
      const reason = `the same bytes (sha256 ${sha256}) are already in this campaign`;
      outcomes.set(c.index, refused(c.index, c.name, 'duplicate', reason));
    } else {
      seen.add(sha256);
      const existed = campaigns.blobs.has(sha256);
      campaigns.blobs.put(c.content);
      fresh.push({ ...c, sha256, existed, id: `item_${randomBytes(8).toString('hex')}` });
    }
  }
  const kind =
    s.kind === 'jsonl'
      ? { kind: 'jsonl' as const, format: 'json' }
      : { kind: 'text' as const, format: 'utf-8' };
  const cost = itemHold(pricesOf(s));
  const dropped: string[] = [];
  const indexed: string[] = [];
  try {
    campaigns.atomically(() => {
      let undecided = BigInt(campaigns.store.undecided(campaign.id));
      const left = campaigns.ledger.escrows.get(campaign.id)?.available ?? 0n;
      for (const f of fresh) {
        // Earlier lines of this group are in the index already: a group's near-duplicates are caught too.
        const fingerprint = fingerprintOf(kind.kind, kind.format, f.content);
        const near = nearRefusal(campaigns.near, campaigns.store, campaign.id, fingerprint);
        if (near) {
          outcomes.set(f.index, refused(f.index, f.name, near.code, near.reason));
          if (!f.existed) dropped.push(f.sha256);
          continue;
        }
        if (left < (undecided + 1n) * cost) {
          const reason = "the campaign's budget cannot pay for another item";
          outcomes.set(f.index, refused(f.index, f.name, 'budget_exhausted', reason));
          if (!f.existed) dropped.push(f.sha256);
          continue;
        }
        undecided += 1n;
        campaigns.store.insertItem(
          receivedItem({
            id: f.id,
            campaignId: campaign.id,
            sha256: f.sha256,
            ...kind,
            size: f.content.length,
            metadata: f.metadata,
            name: f.name,
            contributor,
            createdAt: campaigns.now(),
          }),
        );
        if (fingerprint) {
          campaigns.near.add(campaign.id, f.id, fingerprint);
          indexed.push(f.id);
        }
        outcomes.set(f.index, { index: f.index, name: f.name, accepted: true, id: f.id, sha256: f.sha256 });
      }
    });
  } catch (error) {
    campaigns.near.forget(campaign.id, indexed);
    for (const f of fresh) if (!f.existed) campaigns.blobs.remove(f.sha256);
    throw error;
  }
  for (const sha256 of dropped) campaigns.blobs.remove(sha256);
  return group.map((c) => outcomes.get(c.index) as UploadOutcomeView);
}

/** A JSONL stream for a text or jsonl campaign: one item per non-blank line, each accepted or refused alone. */
export async function uploadLines(
  campaigns: Campaigns,
  campaignId: string,
  contributor: string,
  name: string | null,
  source: Source,
): Promise<UploadOutcomeView[]> {
  const campaign = campaigns.open(campaignId);
  const s = campaign.settings;
  const outcomes: UploadOutcomeView[] = [];
  let group: Checked[] = [];
  // Where each grouped line's outcome goes: refusals found while reading are already in their places.
  const slots = new Map<number, number>();
  const admit = () => {
    for (const o of admitGroup(campaigns, campaign, contributor, group))
      outcomes[slots.get(o.index) as number] = o;
    group = [];
    slots.clear();
  };
  let index = 0;
  // A line holds its record's JSON around the content: allow it some room over the content's limit.
  for await (const { line, oversize } of lines(source, s.maxBytes * 2 + 1024)) {
    index += 1;
    const label = name === null ? `line ${index}` : `${name}:${index}`;
    if (oversize) {
      const reason = `the line is over the campaign's limit of ${s.maxBytes} bytes`;
      outcomes.push(refused(index, label, 'oversize', reason));
      continue;
    }
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      outcomes.push(refused(index, label, 'malformed', 'the line is not valid JSON'));
      continue;
    }
    const checked = record(campaign, value);
    if ('code' in checked) outcomes.push(refused(index, label, checked.code, checked.reason));
    else {
      slots.set(index, outcomes.length);
      outcomes.push({ index, name: label, accepted: false });
      group.push({ index, name: label, content: checked.content, metadata: checked.metadata });
      if (group.length >= GROUP) admit();
    }
  }
  if (group.length > 0) admit();
  if (outcomes.length === 0) outcomes.push(refused(0, name, 'empty', 'the file holds no records'));
  return outcomes;
}

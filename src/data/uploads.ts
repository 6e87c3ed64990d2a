import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { UploadOutcomeView } from '../protocol/index.js';
import type { Source } from './blobs.js';
import type { Campaigns } from './campaigns.js';
import { pricesOf } from './campaigns.js';
import { kindOf } from './magic.js';
import { type Fingerprint, fingerprintFile, fingerprintOf, nearRefusal } from './near/index.js';
import { BudgetExhaustedError, reserveItem } from './rewards.js';
import { type JsonSchema, schemaError, TEXT_LINE_SCHEMA } from './schema.js';
import { type CampaignRecord, type ItemRecord, receivedItem } from './store.js';

type Described = {
  sha256: string;
  kind: ItemRecord['kind'];
  format: string;
  size: number;
  metadata: unknown;
};

export const refused = (
  index: number,
  name: string | null,
  code: string,
  reason: string,
): UploadOutcomeView => ({
  index,
  name,
  accepted: false,
  code,
  reason,
});

/**
 * Records an item the checks passed: refuses the same bytes twice in a campaign, reserves the item's most
 * cost from the budget and inserts its row in one transaction. `keep` moves its file into place first; if the
 * booking fails, a file no other item uses is removed again, so a refused item leaves nothing stored.
 */
function admit(
  campaigns: Campaigns,
  campaign: CampaignRecord,
  contributor: string,
  index: number,
  name: string | null,
  d: Described,
  keep: () => void,
  fingerprint: Fingerprint | null = null,
): UploadOutcomeView {
  if (campaigns.store.hasSha(campaign.id, d.sha256))
    return refused(
      index,
      name,
      'duplicate',
      `the same bytes (sha256 ${d.sha256}) are already in this campaign`,
    );
  const near = nearRefusal(campaigns.near, campaigns.store, campaign.id, fingerprint);
  if (near) return refused(index, name, near.code, near.reason);
  const existed = campaigns.blobs.has(d.sha256);
  keep();
  const id = `item_${randomBytes(8).toString('hex')}`;
  try {
    campaigns.atomically(() => {
      reserveItem(
        campaigns.ledger,
        campaign.id,
        campaigns.store.undecided(campaign.id),
        pricesOf(campaign.settings),
      );
      campaigns.store.insertItem(
        receivedItem({ id, campaignId: campaign.id, ...d, name, contributor, createdAt: campaigns.now() }),
      );
      if (fingerprint) campaigns.near.add(campaign.id, id, fingerprint);
    });
  } catch (error) {
    if (fingerprint) campaigns.near.forget(campaign.id, [id]);
    if (!existed) campaigns.blobs.remove(d.sha256);
    if (error instanceof BudgetExhaustedError)
      return refused(index, name, 'budget_exhausted', "the campaign's budget cannot pay for another item");
    if (/UNIQUE/.test((error as Error).message))
      return refused(
        index,
        name,
        'duplicate',
        `the same bytes (sha256 ${d.sha256}) are already in this campaign`,
      );
    throw error;
  }
  return { index, name, accepted: true, id, sha256: d.sha256 };
}

/** Checks one JSON record for the campaign: a text campaign's `{"text": ...}` line, or the campaign's schema. */
export function record(
  campaign: CampaignRecord,
  value: unknown,
): { content: Buffer; metadata: unknown } | { code: string; reason: string } {
  const s = campaign.settings;
  if (s.kind === 'text') {
    const text = (value as { text?: unknown } | null)?.text;
    if (typeof text === 'string' && text.trim() === '') return { code: 'empty', reason: 'the text is empty' };
    const problem = schemaError(TEXT_LINE_SCHEMA, value);
    if (problem) return { code: 'schema', reason: `${problem} (a text campaign's line is {"text": "..."})` };
    const line = value as { text: string; metadata?: unknown };
    return { content: Buffer.from(line.text, 'utf8'), metadata: line.metadata ?? null };
  }
  if (s.kind === 'jsonl') {
    const problem = schemaError(s.schema as JsonSchema, value);
    if (problem) return { code: 'schema', reason: problem };
    return { content: Buffer.from(JSON.stringify(value), 'utf8'), metadata: null };
  }
  return { code: 'wrong_kind', reason: `a ${s.kind} campaign takes files, not JSONL records` };
}

/** One streamed file: stored content-addressed if it is of the campaign's kind, size and schema. */
export async function uploadFile(
  campaigns: Campaigns,
  campaignId: string,
  contributor: string,
  name: string | null,
  source: Source,
): Promise<UploadOutcomeView> {
  const campaign = campaigns.open(campaignId);
  const s = campaign.settings;
  const received = await campaigns.blobs.receive(source, s.maxBytes);
  const refuse = (code: string, reason: string) => {
    campaigns.blobs.discard(received);
    return refused(0, name, code, reason);
  };
  if (received.oversize)
    return refuse('oversize', `${received.size} bytes is over the campaign's limit of ${s.maxBytes}`);
  if (received.size === 0) return refuse('empty', 'the file is empty');
  const found = kindOf(received.head, received.text);
  if (s.kind === 'jsonl') {
    if (!received.text) return refuse('wrong_kind', 'a jsonl campaign takes UTF-8 JSON records');
    // A single record in a file: small by the campaign's limit, so it is read back whole.
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(received.temp, 'utf8'));
    } catch {
      return refuse('malformed', 'the file is not one JSON record');
    }
    const checked = record(campaign, value);
    if ('code' in checked) return refuse(checked.code, checked.reason);
    campaigns.blobs.discard(received);
    return admitContent(campaigns, campaign, contributor, 0, name, checked.content, checked.metadata);
  }
  if (!found || found.kind !== s.kind)
    return refuse(
      'wrong_kind',
      `the content is ${found ? `${found.kind} (${found.format})` : 'not a known image, audio or video format nor UTF-8 text'}; the campaign takes ${s.kind}`,
    );
  if (s.kind === 'text' && (await onlyWhitespace(received.temp)))
    return refuse('empty', 'the text is only whitespace');
  const outcome = admit(
    campaigns,
    campaign,
    contributor,
    0,
    name,
    { sha256: received.sha256, kind: found.kind, format: found.format, size: received.size, metadata: null },
    () => campaigns.blobs.keep(received),
    await fingerprintFile(received.temp, found.kind, found.format),
  );
  // Refused before it was kept (a duplicate): its temporary file goes.
  if (!outcome.accepted) campaigns.blobs.discard(received);
  return outcome;
}

async function onlyWhitespace(file: string): Promise<boolean> {
  for await (const chunk of createReadStream(file, { encoding: 'utf8' }))
    if ((chunk as string).trim() !== '') return false;
  return true;
}

function admitContent(
  campaigns: Campaigns,
  campaign: CampaignRecord,
  contributor: string,
  index: number,
  name: string | null,
  content: Buffer,
  metadata: unknown,
): UploadOutcomeView {
  const s = campaign.settings;
  if (content.length > s.maxBytes)
    return refused(
      index,
      name,
      'oversize',
      `${content.length} bytes is over the campaign's limit of ${s.maxBytes}`,
    );
  const sha256 = createHash('sha256').update(content).digest('hex');
  const kind =
    s.kind === 'jsonl'
      ? { kind: 'jsonl' as const, format: 'json' }
      : { kind: 'text' as const, format: 'utf-8' };
  return admit(
    campaigns,
    campaign,
    contributor,
    index,
    name,
    { sha256, ...kind, size: content.length, metadata },
    () => campaigns.blobs.put(content),
    fingerprintOf(kind.kind, kind.format, content),
  );
}

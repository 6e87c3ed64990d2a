import { open } from 'node:fs/promises';
import type { CampaignStore } from '../store.js';
import { type Fingerprint, fingerprintOf, TEXT_PREFIX_BYTES } from './fingerprint.js';
import type { NearIndex } from './near-index.js';

export {
  decodeFingerprint,
  encodeFingerprint,
  type Fingerprint,
  fingerprintOf,
  nearness,
  TEXT_PREFIX_BYTES,
} from './fingerprint.js';
export { imageDistance, imageHash } from './image.js';
export { NearIndex, type NearMatch } from './near-index.js';
export { minhash, minhashSimilarity, TEXT_THRESHOLD } from './text.js';

/** A stored upload's fingerprint: a text's first MiB, a PNG or JPEG whole (within the campaign's size limit). */
export async function fingerprintFile(
  path: string,
  kind: string,
  format: string,
): Promise<Fingerprint | null> {
  if (kind !== 'text' && !(kind === 'image' && (format === 'png' || format === 'jpeg'))) return null;
  const file = await open(path, 'r');
  try {
    const limit = kind === 'text' ? TEXT_PREFIX_BYTES : (await file.stat()).size;
    const buffer = Buffer.alloc(limit);
    const { bytesRead } = await file.read(buffer, 0, limit, 0);
    return fingerprintOf(kind, format, buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/**
 * The refusal of an item nearly the same as one already accepted or pending in the campaign (a rejected
 * item does not block a better version of itself), naming the earlier item; null when there is none.
 */
export function nearRefusal(
  near: NearIndex,
  store: CampaignStore,
  campaign: string,
  f: Fingerprint | null,
): { code: 'near_duplicate'; reason: string } | null {
  if (!f) return null;
  const match = near.find(campaign, f, (id) => {
    const state = store.item(id)?.state;
    return state !== undefined && state !== 'rejected';
  });
  return (
    match && {
      code: 'near_duplicate',
      reason: `nearly the same as item ${match.itemId} already in this campaign (${match.how})`,
    }
  );
}

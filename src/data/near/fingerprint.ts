import { type ImageHash, imageDistance, imageHash, imagesNear } from './image.js';
import { MINHASH_SIZE, minhash, minhashSimilarity, TEXT_THRESHOLD } from './text.js';

/**
 * What near-duplicate detection keeps of an item: a MinHash signature of a text (or a JSONL record), or a
 * perceptual hash of a PNG or JPEG picture. The router (uploads) and the Validator SDK's `near-duplicate`
 * check both use these functions, so they agree on what "nearly the same" means.
 */
export type Fingerprint = { kind: 'text'; signature: Uint32Array } | { kind: 'image'; hash: ImageHash };

/** Texts are fingerprinted on their first MiB: enough to tell them apart, and bounded in memory. */
export const TEXT_PREFIX_BYTES = 1024 * 1024;

/** An item's fingerprint, or null where none is made (audio, video, GIF, WebP, undecodable pictures). */
export function fingerprintOf(kind: string, format: string, bytes: Buffer): Fingerprint | null {
  if (kind === 'text' || kind === 'jsonl') {
    const text = bytes.subarray(0, TEXT_PREFIX_BYTES).toString('utf8');
    return { kind: 'text', signature: minhash(text) };
  }
  if (kind === 'image') {
    const hash = imageHash(bytes, format);
    return hash && { kind: 'image', hash };
  }
  return null;
}

/** How alike two fingerprints are, in words for a refusal's reason, or null when they are not near. */
export function nearness(a: Fingerprint, b: Fingerprint): string | null {
  if (a.kind === 'text' && b.kind === 'text') {
    const s = minhashSimilarity(a.signature, b.signature);
    return s >= TEXT_THRESHOLD ? `about ${Math.round(s * 100)} % of its word 3-grams shared` : null;
  }
  if (a.kind === 'image' && b.kind === 'image' && imagesNear(a.hash, b.hash)) {
    const d = imageDistance(a.hash, b.hash);
    return `perceptual hash ${d.bits} of 64 bits apart`;
  }
  return null;
}

/** Stored form: `t:` and the signature's hex, or `i:` and the dHash's and grid's hex. */
export function encodeFingerprint(f: Fingerprint): string {
  if (f.kind === 'text') {
    const bytes = Buffer.alloc(MINHASH_SIZE * 4);
    for (let i = 0; i < MINHASH_SIZE; i++) bytes.writeUInt32LE(f.signature[i] as number, i * 4);
    return `t:${bytes.toString('hex')}`;
  }
  return `i:${f.hash.dhash.toString('hex')}:${f.hash.grid.toString('hex')}`;
}

export function decodeFingerprint(text: string): Fingerprint | null {
  if (text.startsWith('t:')) {
    const bytes = Buffer.from(text.slice(2), 'hex');
    if (bytes.length !== MINHASH_SIZE * 4) return null;
    const signature = new Uint32Array(MINHASH_SIZE);
    for (let i = 0; i < MINHASH_SIZE; i++) signature[i] = bytes.readUInt32LE(i * 4);
    return { kind: 'text', signature };
  }
  const [tag, dhash, grid] = text.split(':');
  if (tag !== 'i' || dhash === undefined || grid === undefined) return null;
  return { kind: 'image', hash: { dhash: Buffer.from(dhash, 'hex'), grid: Buffer.from(grid, 'hex') } };
}

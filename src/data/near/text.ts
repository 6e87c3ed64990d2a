/**
 * Near-duplicate texts by MinHash over word 3-gram shingles (docs/data.md, "Near-duplicates"). The share of
 * positions where two signatures agree estimates the Jaccard similarity of their shingle sets; bands of the
 * signature (locality-sensitive hashing) find the candidates without comparing every pair.
 */

/** Signature length: at Jaccard 0.7 the estimate's standard deviation is about 0.04. */
export const MINHASH_SIZE = 128;
/** Rows per band: 32 bands of 4 make a pair at Jaccard 0.7 a candidate with probability 0.9998. */
export const BAND_ROWS = 4;
/** Texts whose shingle sets are at least this alike (estimated) are near-duplicates. */
export const TEXT_THRESHOLD = 0.7;

/** Lower case, compatibility forms folded, punctuation dropped: the words a reader would compare. */
export function words(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Word 3-grams (a text of fewer than three words is one shingle). */
export function shingles(text: string): Set<string> {
  const w = words(text);
  const set = new Set<string>();
  if (w.length < 3) set.add(w.join(' '));
  for (let i = 0; i + 3 <= w.length; i++) set.add(`${w[i]} ${w[i + 1]} ${w[i + 2]}`);
  return set;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a bijection on 32 bits that mixes every input bit into every output bit. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

// Fixed seeds: signatures are stored, so they must mean the same after a restart.
const SEEDS = Uint32Array.from({ length: MINHASH_SIZE }, (_, i) =>
  mix(0x9e3779b9 ^ Math.imul(i + 1, 0x7feb352d)),
);

/** The MinHash signature of a text's shingles. */
export function minhash(text: string): Uint32Array {
  const signature = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
  for (const shingle of shingles(text)) {
    const base = fnv1a(shingle);
    for (let i = 0; i < MINHASH_SIZE; i++) {
      const h = mix(base ^ (SEEDS[i] as number));
      if (h < (signature[i] as number)) signature[i] = h;
    }
  }
  return signature;
}

/** The estimated Jaccard similarity of two signatures. */
export function minhashSimilarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < MINHASH_SIZE; i++) if (a[i] === b[i]) same += 1;
  return same / MINHASH_SIZE;
}

/** One key per band: two texts sharing any key are candidates. */
export function bandKeys(signature: Uint32Array): string[] {
  const keys: string[] = [];
  for (let band = 0; band * BAND_ROWS < MINHASH_SIZE; band++) {
    let h = band;
    for (let r = 0; r < BAND_ROWS; r++) h = mix(h ^ (signature[band * BAND_ROWS + r] as number));
    keys.push(`${band}:${h.toString(36)}`);
  }
  return keys;
}

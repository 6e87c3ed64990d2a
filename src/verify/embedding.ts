import { EMBEDDING_THRESHOLD } from './thresholds.js';
import type { EmbeddingEvidence, Judgment } from './types.js';

/**
 * Cosine similarity of two vectors of the same length. A zero vector (the embedding of an empty string on
 * some models) has no direction, so the plain formula gives 0/0: two zero vectors are the same answer (1),
 * a zero vector against any other is not (0). Vectors with non-finite entries are never similar (0).
 */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`);
  // Scaled by the largest entry of each, so squares of large entries cannot overflow to Infinity.
  const scaleA = largest(a);
  const scaleB = largest(b);
  if (!Number.isFinite(scaleA) || !Number.isFinite(scaleB)) return 0;
  if (scaleA === 0 || scaleB === 0) return scaleA === scaleB ? 1 : 0;
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] as number) / scaleA;
    const y = (b[i] as number) / scaleB;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return dot / Math.sqrt(normA * normB);
}

/** The largest absolute entry; NaN when some entry is not a number. */
function largest(v: readonly number[]): number {
  let max = 0;
  for (const x of v) {
    const abs = Math.abs(x);
    if (Number.isNaN(abs)) return Number.NaN;
    if (abs > max) max = abs;
  }
  return max;
}

/**
 * `embedding`: the output's embedding against a reference answer's (both embedded by the validator's copy
 * of the model), for models or hardware that are not bit-reproducible, where hashes cannot agree.
 */
export function judgeEmbedding(
  output: readonly number[],
  reference: readonly number[],
  threshold = EMBEDDING_THRESHOLD,
): Judgment<EmbeddingEvidence> {
  // Vectors of different sizes cannot be the same answer (one side lies about its model or its input).
  const cosine = output.length === reference.length ? cosineSimilarity(output, reference) : 0;
  const evidence = { cosine, threshold, dimensions: output.length };
  return cosine >= threshold
    ? { outcome: 'pass', reason: `cosine ${cosine.toFixed(4)} >= ${threshold}`, evidence }
    : { outcome: 'fail', reason: `cosine ${cosine.toFixed(4)} < ${threshold}`, evidence };
}

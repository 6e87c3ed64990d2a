import { EMBEDDING_THRESHOLD } from './thresholds.js';
import type { EmbeddingEvidence, Judgment } from './types.js';

/** Cosine similarity of two vectors of the same length; 0 when either is all zeros. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
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
  const cosine = cosineSimilarity(output, reference);
  const evidence = { cosine, threshold, dimensions: output.length };
  return cosine >= threshold
    ? { outcome: 'pass', reason: `cosine ${cosine.toFixed(4)} >= ${threshold}`, evidence }
    : { outcome: 'fail', reason: `cosine ${cosine.toFixed(4)} < ${threshold}`, evidence };
}

import type { TokenScores } from '../engine/index.js';

/**
 * Whether a validator's scored tokens spell the output it was asked to score. Without this a lazy or
 * dishonest validator could return scores of any text (all top tokens, say) and the result would pass.
 *
 * Pieces travel as strings, and a byte-fallback token (one byte of a multi-byte character) decodes to
 * U+FFFD. So the comparison is on UTF-8 bytes: every other character of the joined pieces must match the
 * output's bytes exactly, and each U+FFFD stands for 1 to 3 bytes that are all non-ASCII (a partial
 * character, or a literal U+FFFD). A liar gains nothing from that slack: it never covers ASCII text and
 * the judge still weighs the token ids the validator scored.
 *
 * The output may also end inside a token (generation stopped at a stop string in the middle of one): then
 * the pieces spell a prefix, and what is left (at most MAX_UNSCORED_TAIL_BYTES) must be followed by a stop,
 * which the validator's end says.
 */
export const MAX_UNSCORED_TAIL_BYTES = 32;

const REPLACEMENT = '\uFFFD';
const encoder = new TextEncoder();

/** A reason the scores do not spell `output`, or null when they do. */
export function spellingProblem(scores: Pick<TokenScores, 'tokens' | 'end'>, output: string): string | null {
  const pattern: (number | null)[] = [];
  for (const token of scores.tokens) {
    for (const char of token.text) {
      if (char === REPLACEMENT) pattern.push(null);
      else for (const byte of encoder.encode(char)) pattern.push(byte);
    }
  }
  const bytes = encoder.encode(output);
  const reach = matchedPrefixes(pattern, bytes);
  if (reach.has(bytes.length)) return null;
  const longest = Math.max(-1, ...reach);
  if (longest < 0)
    return `the validator's ${scores.tokens.length} scored tokens spell other text than the output`;
  const left = bytes.length - longest;
  if (left > 0 && left <= MAX_UNSCORED_TAIL_BYTES && !scores.end.eog && scores.end.stop !== 'none')
    return null;
  return `the validator's scored tokens spell other text than the output (they match its first ${longest} of ${bytes.length} bytes)`;
}

/** The output prefixes (in bytes) the whole pattern can match; a wildcard takes 1-3 non-ASCII bytes. */
function matchedPrefixes(pattern: readonly (number | null)[], bytes: Uint8Array): Set<number> {
  let at = new Set<number>([0]);
  for (const want of pattern) {
    const next = new Set<number>();
    for (const i of at) {
      if (want !== null) {
        if (bytes[i] === want) next.add(i + 1);
        continue;
      }
      for (let n = 1; n <= 3 && (bytes[i + n - 1] ?? 0) >= 0x80; n++) next.add(i + n);
    }
    if (next.size === 0) return next;
    at = next;
  }
  return at;
}

/**
 * Tokens an output may have taken beyond its text: the end-of-generation token and a chat template's
 * end-of-turn text, which generation consumes but does not return.
 */
export const END_TOKENS = 16;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The most completion tokens an honest engine can report for `text`: every token that reaches the text
 * adds at least one UTF-8 byte (a byte-fallback token exactly one), a stop string that ended it was
 * generated but cut off, and the rest is the end. Never more than max_tokens.
 */
export function completionTokenBound(
  text: string,
  params: { maxTokens: number; stop: readonly string[] },
): number {
  return completionBoundFor(bytes(text), params);
}

/** The most completion tokens for an output whose text holds at most `textTokens` tokens. */
export function completionBoundFor(
  textTokens: number,
  params: { maxTokens: number; stop: readonly string[] },
): number {
  const stop = params.stop.reduce((most, s) => Math.max(most, bytes(s)), 0);
  return Math.min(params.maxTokens, textTokens + stop + END_TOKENS);
}

/** Why a claimed completion token count cannot be honest, or null when it can. */
export function completionCountProblem(
  claim: { completionTokens: number; text?: string | undefined },
  params: { maxTokens: number; stop: readonly string[] },
): string | null {
  if (claim.completionTokens > params.maxTokens)
    return `claims ${claim.completionTokens} completion tokens, more than max_tokens ${params.maxTokens}`;
  if (claim.text === undefined) return null;
  const bound = completionTokenBound(claim.text, params);
  if (claim.completionTokens > bound)
    return `claims ${claim.completionTokens} completion tokens for ${bytes(claim.text)} bytes of text (at most ${bound})`;
  return null;
}

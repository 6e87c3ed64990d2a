/**
 * Known-answer tasks for validators (honeypots). After a likelihood check passes, the router may send a
 * validator a `score` task of the same prompt with an output it knows is wrong: the answer of another
 * prompt, reversed (or this answer reversed when there is none), judged as a greedy check. Reversed text is
 * never the model's greedy choice, so an honest validator's scores always fail it; the answer of another
 * prompt as it stands could be (a small model may answer two prompts alike), and would strike an honest
 * validator. It has the same shape as any check and a fresh task id. A validator whose scores pass it did
 * not compute them (or lies), and gets a fault verdict of its own.
 */

/** The last answer per model, so a honeypot can swap in text that answered another prompt. */
export class RecentAnswers {
  readonly #last = new Map<string, { prompt: string; text: string }>();

  /** Remembers an answer; returns the previous one of the model when it answered another prompt. */
  swap(modelSha256: string, prompt: string, text: string): string | undefined {
    const previous = this.#last.get(modelSha256);
    if (text !== '') this.#last.set(modelSha256, { prompt, text });
    return previous && previous.prompt !== prompt ? previous.text : undefined;
  }
}

/** A known-wrong output for `output`: `other` (else `output`) reversed; null when that changes nothing. */
export function corruptOutput(output: string, other: string | undefined): string | null {
  const base = other !== undefined && other.trim() !== '' ? other : output;
  const reversed = Array.from(base).reverse().join('');
  return reversed !== base && reversed !== output && reversed.trim() !== '' ? reversed : null;
}

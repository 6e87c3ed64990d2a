/** The most of a node's own words a user is ever shown. */
const MAX_REASON_CHARS = 200;

/**
 * A node's error text as a bounded, quoted, labelled-by-the-caller reason: control and formatting characters
 * become spaces and the text is cut short, so a node cannot write a message of its own to the user (issue 9).
 * Callers say whose words these are ("the node reported ...").
 */
export function nodeReason(text: string): string {
  const plain = text
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const clipped = plain.length > MAX_REASON_CHARS ? `${plain.slice(0, MAX_REASON_CHARS)}...` : plain;
  return JSON.stringify(clipped);
}

import { ContextLengthError, InvalidParameterError, type OmniError } from '../../protocol/index.js';

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

/**
 * The one place a node's final `task_error` becomes the error its client gets: a prompt too long for the
 * context is a 413; any other input the node could not take is a 400 that quotes the node, bounded.
 */
export function clientErrorFromNode(
  reason: string,
  error: { code: string; promptTokens?: number | undefined; contextLength?: number | undefined },
): OmniError {
  return error.code === 'context_length_exceeded'
    ? new ContextLengthError(error.promptTokens ?? 0, error.contextLength ?? 0)
    : new InvalidParameterError('input', `The node running this task could not take its input (${reason}).`);
}

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
 * How long a task run again to confirm a node's final error may wait while no independent node is connected
 * before the first node's error stands (unconfirmed): the client never waits with no end.
 */
export const CONFIRM_WAIT_MS = 30_000;

/** How far a node's final error was confirmed: by a second, independent node, or not (none was connected). */
export type Confirmation = 'confirmed' | 'unconfirmed';

const NOTES: Record<Confirmation, string> = {
  confirmed: ' A second, independent node confirmed it.',
  unconfirmed: ' Not confirmed: no other independent node is connected.',
};

/**
 * The one place a node's final `task_error` becomes the error its client gets: a prompt too long for the
 * context is a 413; any other input the node could not take is a 400 that quotes the node, bounded. Either
 * says whether a second node confirmed it (src/router/tasks/task-manager.ts runs the task once more first).
 */
export function clientErrorFromNode(
  reason: string,
  error: { code: string; promptTokens?: number | undefined; contextLength?: number | undefined },
  confirmation: Confirmation,
): OmniError {
  const note = NOTES[confirmation];
  return error.code === 'context_length_exceeded'
    ? new ContextLengthError(error.promptTokens ?? 0, error.contextLength ?? 0, note)
    : new InvalidParameterError(
        'input',
        `The node running this task could not take its input (${reason}).${note}`,
      );
}

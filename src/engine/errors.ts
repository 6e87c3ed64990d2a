import { ContextLengthError } from '../protocol/errors.js';

/**
 * Raised before any generation when the prompt (plus max tokens) does not fit the
 * per-sequence context. It is a ContextLengthError, so the HTTP layer maps it to 413.
 */
export class ContextLengthExceededError extends ContextLengthError {
  constructor(
    promptTokens: number,
    contextLength: number,
    readonly maxTokens: number = 0,
  ) {
    super(promptTokens, contextLength);
  }
}

/** Throws ContextLengthExceededError unless promptTokens + maxTokens fits in contextLength. */
export function assertFitsContext(promptTokens: number, maxTokens: number, contextLength: number): void {
  if (promptTokens >= contextLength || promptTokens + maxTokens > contextLength) {
    throw new ContextLengthExceededError(promptTokens, contextLength, maxTokens);
  }
}

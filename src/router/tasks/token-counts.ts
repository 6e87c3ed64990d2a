import type { TaskInput, TaskOutput } from '../../protocol/index.js';
import { completionTokenBound } from '../../verify/index.js';
import { tokenBounds } from './payment-quote.js';

/** Prompt and completion tokens: what a node claims, and what the router pays and reports. */
export type TokenCounts = { promptTokens: number; completionTokens: number };

/** Counts an independent check measured for one attempt (a validator's likelihood pass). */
export type CheckedCounts = { attempt: number; promptTokens: number; completionTokens?: number };

/** Beyond the output, the tokens a score pass may evaluate: a few greedy steps past the text, re-fed chunks. */
const SCORE_EXTENSION = 8;
const SCORE_REFEED = 8;
const MAX_RESEGMENTATIONS = 64;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The counts the router pays for and reports: a node's claims, never above what the router can bound
 * itself (the prompt by the bound the hold was sized with, the completion by max_tokens and the bytes of the
 * returned text), nor above what an independent check counted. A node's counts are claims, not facts.
 */
export function countedTokens(
  input: TaskInput,
  contextLength: number,
  output: TaskOutput,
  checked?: CheckedCounts | null,
): TokenCounts {
  const bounds = tokenBounds(input, contextLength);
  let prompt = Math.min(output.promptTokens, bounds.prompt);
  let completion = 0;
  if (input.kind === 'chat' || input.kind === 'completion') {
    completion = Math.min(output.completionTokens, completionTokenBound(output.text ?? '', input.params));
  } else if (input.kind === 'score') {
    // A score pass evaluates the target and the output, a few steps past it, and chunks it re-feeds after
    // each re-segmentation (at most one per output token).
    const params = { maxTokens: 0, temperature: 0, topP: 1, stop: [] };
    const target: TaskInput =
      'messages' in input.target
        ? { kind: 'chat', messages: input.target.messages, params }
        : { kind: 'completion', prompt: input.target.prompt, params };
    const out = bytes(input.output);
    const most =
      tokenBounds(target, Number.MAX_SAFE_INTEGER).prompt +
      out +
      SCORE_EXTENSION +
      SCORE_REFEED * Math.min(MAX_RESEGMENTATIONS, out);
    prompt = Math.min(output.scores?.evaluatedTokens ?? output.promptTokens, most);
  }
  if (checked) {
    prompt = Math.min(prompt, checked.promptTokens);
    if (checked.completionTokens !== undefined) completion = Math.min(completion, checked.completionTokens);
  }
  return { promptTokens: prompt, completionTokens: completion };
}

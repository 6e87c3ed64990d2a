import { quote, type TokenPrice } from '../../ledger/index.js';
import type { TaskInput } from '../../protocol/index.js';
import type { ValidationLevel } from '../../verify/index.js';

/** Chat templates add tokens around each message; a generous bound keeps the hold above the real count. */
const TEMPLATE_TOKENS = 16;
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The most tokens a task can use: a token is at least one byte of its text (plus the template), the node
 * refuses a prompt that does not fit the context with max_tokens, and output stops at max_tokens.
 */
export function tokenBounds(input: TaskInput, contextLength: number): { prompt: number; output: number } {
  switch (input.kind) {
    case 'chat': {
      const prompt = input.messages.reduce((n, m) => n + bytes(m.content) + TEMPLATE_TOKENS, TEMPLATE_TOKENS);
      const output = input.params.maxTokens;
      return { prompt: Math.min(prompt, Math.max(0, contextLength - output)), output };
    }
    case 'completion': {
      const output = input.params.maxTokens;
      const prompt = bytes(input.prompt) + TEMPLATE_TOKENS;
      return { prompt: Math.min(prompt, Math.max(0, contextLength - output)), output };
    }
    case 'embedding':
      return {
        prompt: input.input.reduce((n, t) => n + Math.min(bytes(t) + TEMPLATE_TOKENS, contextLength), 0),
        output: 0,
      };
    case 'score':
      return { prompt: contextLength, output: 0 };
  }
}

/**
 * How many checks of a task's size its validation level may have to pay for: the checks of the attempt
 * that is accepted (a likelihood pass, replicas that agree, reference answers and an embedding pass).
 */
export function checkReserve(level: ValidationLevel | undefined, kind: TaskInput['kind']): number {
  switch (level?.kind ?? 'auto') {
    case 'none':
      return 0;
    case 'likelihood':
      return kind === 'embedding' ? 2 : 1;
    case 'redundant':
      return (level as { k: number }).k + 1;
    case 'embedding':
      return kind === 'embedding' ? 2 : 3;
    default:
      // checksum (a replica, and on a mismatch tie-breakers) and auto (likelihood, or checksum without a validator)
      return 2;
  }
}

/**
 * The tokens of a charge cut down so it costs at most `most`: output tokens first, then input. A charge
 * never takes more than the task's hold, whatever the counts say.
 */
export function tokensWithin(
  price: TokenPrice,
  tokens: { inputTokens: number; outputTokens: number },
  most: bigint,
): { inputTokens: number; outputTokens: number } {
  const left = most > 0n ? most : 0n;
  if (quote(price, tokens.inputTokens, tokens.outputTokens) <= left) return tokens;
  const fitting = (count: number, unit: bigint, budget: bigint) =>
    unit === 0n ? count : Math.min(count, Number(budget / unit));
  const outputTokens = fitting(tokens.outputTokens, price.output, left);
  const inputTokens = fitting(tokens.inputTokens, price.input, left - BigInt(outputTokens) * price.output);
  return { inputTokens, outputTokens };
}

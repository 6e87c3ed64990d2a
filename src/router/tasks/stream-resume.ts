import type { ScoreTaskInput, TaskInput, TokenScores } from '../../protocol/index.js';
import type { ScoreSession } from './stream-score.js';

type TextInput = Extract<TaskInput, { kind: 'chat' | 'completion' }>;

/**
 * The score task that has a session's validator score `output` (which starts with the session's text) from
 * where its session ends; without a session, from the start. The resumed tokens are the router's copy of
 * what that validator returned and passed, never anything a worker sent.
 */
export function scoreInputFor(
  input: TextInput,
  output: string,
  session: ScoreSession | undefined,
  greedy = input.params.temperature === 0,
): ScoreTaskInput {
  const target = input.kind === 'chat' ? { messages: input.messages } : { prompt: input.prompt };
  const base = { kind: 'score' as const, target, output, stop: input.params.stop, greedy };
  if (!session || session.tokens.length === 0) return base;
  if (!output.startsWith(session.text)) throw new Error('the output does not continue the scored text');
  return { ...base, resume: { tokens: session.tokens.map((t) => t.token), chars: session.text.length } };
}

/**
 * The scores of the whole output from a session's tokens and the validator's scores of the rest (a task
 * from scoreInputFor): what one pass over the whole output would have returned, evaluated once. The end's
 * tail positions count from the output's start. evaluatedTokens is the rest's alone (the chunks' are
 * counted as streaming's cost).
 */
export function resumedScores(session: ScoreSession, rest: TokenScores): TokenScores {
  const offset = session.tokens.length;
  return {
    ...rest,
    tokens: [...session.tokens, ...rest.tokens],
    end: { ...rest.end, tails: rest.end.tails.map((t) => ({ ...t, position: t.position + offset })) },
  };
}

import { describe, expect, it } from 'vitest';
import type { ScoredToken, TokenScores } from '../engine/index.js';
import { judgeLikelihood, spellingProblem } from './index.js';

const dist = { logSumExp: 3, topTokens: [100, 101], topLogits: [3, 1] };
const token = (text: string): ScoredToken => ({ ...dist, token: 100, text, logit: 3, rank: 0 });

/** Scores in which every token is the model's top choice and the model stops after them. */
function allTop(pieces: string[], stop: TokenScores['end']['stop'] = 'full'): TokenScores {
  return {
    tokens: pieces.map(token),
    end: { ...dist, eog: stop === 'full', continuation: '', stop, stopLogit: 3, tails: [] },
    promptTokens: 3,
    evaluatedTokens: 3 + pieces.length,
    resegmentations: 0,
  };
}

const params = { maxTokens: 16, temperature: 0, topP: 1, stop: [] };

describe('the likelihood judge checks that the scored tokens spell the output', () => {
  it('does not pass an output by scores of other text (a lazy validator returning all-top tokens)', () => {
    const judged = judgeLikelihood({
      scores: allTop(['The', ' cat', ' sat']),
      params,
      claim: { finishReason: 'stop', completionTokens: 3, text: 'A dog ran' },
    });
    expect(judged.outcome).toBe('undecided');
    expect(judged.reason).toMatch(/invalid scores: .*spell other text/);
    expect(judged.evidence.invalidScores).toBeDefined();
    const honest = judgeLikelihood({
      scores: allTop(['A', ' dog', ' ran']),
      params,
      claim: { finishReason: 'stop', completionTokens: 3, text: 'A dog ran' },
    });
    expect(honest.outcome).toBe('pass');
  });

  it('refuses scores of a prefix or of more text than the output', () => {
    expect(spellingProblem(allTop(['A', ' dog'], 'none'), 'A dog ran')).toMatch(/first 5 of 9 bytes/);
    expect(spellingProblem(allTop(['A', ' dog', ' ran', ' off']), 'A dog ran')).not.toBeNull();
    expect(spellingProblem(allTop([]), 'A dog ran')).not.toBeNull();
    expect(spellingProblem(allTop([]), '')).toBeNull();
  });

  it('lets byte-fallback pieces (U+FFFD) stand for the bytes of a multi-byte character, never for ASCII', () => {
    // '€' is 3 bytes; a tokenizer without it spells it as three byte tokens, each decoding to U+FFFD.
    expect(spellingProblem(allTop(['price ', '\uFFFD', '\uFFFD', '\uFFFD', '!']), 'price €!')).toBeNull();
    // Two bytes in one piece decode to one U+FFFD.
    expect(spellingProblem(allTop(['\uFFFD', '\uFFFD', ' ok']), '€ ok')).toBeNull();
    expect(spellingProblem(allTop(['a\uFFFDc']), 'abc')).not.toBeNull();
    expect(spellingProblem(allTop(['\uFFFD\uFFFD\uFFFD']), 'abc')).not.toBeNull();
    // A literal U+FFFD in the output matches one too.
    expect(spellingProblem(allTop(['x\uFFFD']), 'x\uFFFD')).toBeNull();
  });

  it('allows an output that ends inside a token only when a stop follows, and only a short unscored tail', () => {
    const tail = allTop(['Hello', ' wor'], 'partial');
    expect(spellingProblem({ ...tail, end: { ...tail.end, eog: false } }, 'Hello world')).toBeNull();
    // The end-of-generation token is no token the output can end inside of.
    expect(spellingProblem(allTop(['Hello', ' wor'], 'full'), 'Hello world')).not.toBeNull();
    expect(spellingProblem(allTop(['Hello', ' wor'], 'none'), 'Hello world')).not.toBeNull();
    expect(spellingProblem(allTop(['Hi'], 'full'), `Hi${'x'.repeat(100)}`)).not.toBeNull();
  });
});

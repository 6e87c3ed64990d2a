import { describe, expect, it } from 'vitest';
import type { ScoredToken, TokenScores } from '../../protocol/index.js';
import type { DecodingParams } from '../../verify/index.js';
import { ChunkChecks, FIRST_CHARS, judgePrefix, nextCheckAt } from './stream-score.js';

/** A scored token spelling `text`: the model's top choice, or (top false) far below it. */
function token(text: string, top = true): ScoredToken {
  const topLogits = [5, 1, 0];
  return {
    logSumExp: 5.1,
    topTokens: [100, 101, 102],
    topLogits,
    token: top ? 100 : 999,
    text,
    logit: top ? 5 : -20,
    rank: top ? 0 : 3,
  };
}

function scores(tokens: ScoredToken[]): TokenScores {
  const { token: _t, text: _x, logit: _l, rank: _r, ...dist } = token('');
  return {
    tokens,
    end: { ...dist, eog: false, continuation: 'x', stop: 'none', stopLogit: null, tails: [] },
    promptTokens: 5,
    evaluatedTokens: 5 + tokens.length,
    resegmentations: 0,
  };
}

const greedy: DecodingParams = { maxTokens: 200, temperature: 0, topP: 1, stop: [] };

describe('judgePrefix', () => {
  it('passes the greedy tokens of a prefix but its last two, which the text to come may split anew', () => {
    const text = 'one two three four';
    const judged = judgePrefix(
      scores(['one', ' two', ' three', ' fo', 'ur'].map((t) => token(t))),
      text,
      greedy,
    );
    expect(judged).toMatchObject({ outcome: 'pass', verified: 'one two three' });
  });

  it('fails a prefix with a token the model would not choose, and releases none of it', () => {
    const tokens = [token('a'), token('b', false), token('c'), token('d'), token('e')];
    expect(judgePrefix(scores(tokens), 'abcde', greedy)).toMatchObject({ outcome: 'fail', verified: '' });
  });

  it('scores of other text are undecided', () => {
    const tokens = ['x', 'y', 'z', 'w'].map((t) => token(t));
    expect(judgePrefix(scores(tokens), 'abcd', greedy)).toMatchObject({ outcome: 'undecided', verified: '' });
  });

  it('stops the verified text before a byte-fallback piece (part of a character)', () => {
    const tokens = ['a', 'b', '\uFFFD', 'c', 'd', 'e'].map((t) => token(t));
    expect(judgePrefix(scores(tokens), 'ab\u2603cde', greedy)).toMatchObject({
      outcome: 'pass',
      verified: 'ab',
    });
  });
});

type Answer = { validatorId: string; scores: TokenScores };

describe('ChunkChecks', () => {
  it('checks growing chunks one at a time, each from where the validator left off, and stops at the first that fails', async () => {
    let text = '';
    const asked: { text: string; resumeFrom: string[] }[] = [];
    const released: string[] = [];
    const stops: string[] = [];
    let answer: (s: Answer[]) => void = () => {};
    const checks = new ChunkChecks(
      1,
      greedy,
      () => text,
      (t, sessions) => {
        asked.push({ text: t, resumeFrom: sessions.map((s) => s.text) });
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
      (v) => released.push(v),
      (reason) => stops.push(reason),
    );
    // The prompt is evaluated ahead, with no text yet.
    checks.open();
    expect(asked).toEqual([{ text: '', resumeFrom: [] }]);
    answer([{ validatorId: 'v1', scores: scores([]) }]);
    await new Promise((r) => setImmediate(r));
    text = 'w '.repeat(FIRST_CHARS / 2 - 1);
    checks.streamed();
    expect(asked).toHaveLength(1);
    text += 'w ';
    checks.streamed();
    expect(asked[1]).toEqual({ text: 'w '.repeat(FIRST_CHARS / 2), resumeFrom: [''] });
    // One at a time: more text while a check runs waits for it.
    text += 'w '.repeat(40);
    checks.streamed();
    expect(asked).toHaveLength(2);
    answer([
      { validatorId: 'v1', scores: scores(Array.from({ length: FIRST_CHARS / 2 }, () => token('w '))) },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual(['w '.repeat(FIRST_CHARS / 2 - 2)]);
    // The next chunk doubles the text, and the validator goes on after the tokens that passed.
    expect(asked[2]).toEqual({ text: text.slice(0, nextCheckAt(FIRST_CHARS)), resumeFrom: [released[0]] });
    answer([
      { validatorId: 'v1', scores: scores([token('w '), token('w ', false), token('w '), token('w ')]) },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(released).toHaveLength(1);
    expect(stops[0]).toMatch(/chunk check fail/);
    text += 'w '.repeat(200);
    checks.streamed();
    expect(asked).toHaveLength(3);
    // The session keeps only what passed.
    expect((await checks.settled()).map((s) => s.text)).toEqual([released[0]]);
  });

  it('releases only what every validator passed', async () => {
    const released: string[] = [];
    const text = 'abcdefgh'.repeat(8);
    const checks = new ChunkChecks(
      1,
      greedy,
      () => text,
      async () => [
        { validatorId: 'v1', scores: scores([...text.slice(0, 10)].map((c) => token(c))) },
        { validatorId: 'v2', scores: scores([...text.slice(0, 6)].map((c) => token(c))) },
      ],
      (v) => released.push(v),
    );
    checks.streamed();
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual(['abcd']);
  });

  it('bounds the round trips: chunks double, so 800 characters take at most 7 checks', () => {
    let at = 0;
    let calls = 0;
    while (at < 800) {
      at = nextCheckAt(at);
      calls++;
    }
    expect(calls).toBeLessThanOrEqual(7);
  });
});

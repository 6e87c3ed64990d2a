/**
 * SentencePiece-style ("llama") vocabulary for the tiny model.
 *
 * Layout: <unk>, <s>, </s>, the 256 byte-fallback tokens, then normal pieces.
 * llama.cpp's SPM tokenizer only reaches a piece by merging two adjacent
 * pieces that are both in the vocabulary, so every multi-character piece is
 * added together with all of its prefixes (e.g. ▁t, ▁th, ▁the). Anything not
 * covered (newlines, non-ASCII) falls back to byte tokens, so any text
 * round-trips.
 */

/** llama.cpp token types (LLAMA_TOKEN_TYPE_*). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export const SPACE = '\u2581'; // ▁, SentencePiece's whitespace marker

const WORDS = (
  'the of and to in is it you that he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up ' +
  'other about out many then them these so some her would make like him into time has look two more write ' +
  'go see number no way could people my than first water been call who oil its now find long down day did ' +
  'get come made may part hello world model token text test here node network compute data'
).split(' ');

const SUBWORDS = [
  'ing',
  'ed',
  'er',
  'es',
  'ly',
  'tion',
  'ent',
  'al',
  'th',
  'he',
  'an',
  're',
  'on',
  'in',
  'at',
];

const CHARS =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789' + '.,;:!?\'"-()[]{}<>/\\@#$%^&*_+=~`|';

export type Vocab = {
  tokens: string[];
  scores: number[];
  types: number[];
  unk: number;
  bos: number;
  eos: number;
  /** First id of the byte-fallback range (<0x00>). */
  byteBase: number;
  /** First id of the normal pieces. */
  normalBase: number;
};

export function buildTinyVocab(): Vocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  const byteBase = tokens.length;
  for (let b = 0; b < 256; b++) {
    // llama.cpp looks byte tokens up by exactly this upper-case spelling.
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
  }
  const normalBase = tokens.length;

  const seen = new Set<string>();
  const pieces: string[] = [];
  const add = (piece: string): void => {
    if (seen.has(piece)) return;
    seen.add(piece);
    pieces.push(piece);
  };
  const addWithPrefixes = (piece: string): void => {
    const chars = Array.from(piece);
    for (let i = 2; i <= chars.length; i++) add(chars.slice(0, i).join(''));
  };
  add(SPACE);
  for (const c of CHARS) add(c);
  for (const w of WORDS) addWithPrefixes(SPACE + w);
  for (const s of SUBWORDS) addWithPrefixes(s);

  // Scores act as merge priorities: longer pieces first, so common words
  // become one token instead of a chain of prefixes.
  const scores: number[] = tokens.map(() => 0);
  for (const p of pieces) {
    tokens.push(p);
    types.push(TokenType.NORMAL);
    scores.push(-1000 + Array.from(p).length * 10 - tokens.length / 1000);
  }
  return { tokens, scores, types, unk: 0, bos: 1, eos: 2, byteBase, normalBase };
}

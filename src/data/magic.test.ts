import { describe, expect, it } from 'vitest';
import { kindOf, sniff, Utf8Check } from './magic.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const withAscii = (prefix: Buffer, text: string, at: number) => {
  const b = Buffer.alloc(16);
  prefix.copy(b);
  b.write(text, at, 'latin1');
  return b;
};

describe('sniff: the kind comes from magic bytes, never the name', () => {
  it.each([
    ['png', hex('89504e470d0a1a0a0000000d49484452'), 'image'],
    ['jpeg', hex('ffd8ffe000104a464946'), 'image'],
    ['gif', Buffer.from('GIF89a\x01\x00', 'latin1'), 'image'],
    ['webp', withAscii(Buffer.from('RIFF\x24\x00\x00\x00', 'latin1'), 'WEBPVP8 ', 8), 'image'],
    ['wav', withAscii(Buffer.from('RIFF\x24\x00\x00\x00', 'latin1'), 'WAVEfmt ', 8), 'audio'],
    ['mp3', Buffer.from('ID3\x04\x00\x00', 'latin1'), 'audio'],
    ['mp3', hex('fffb9064'), 'audio'],
    ['ogg', Buffer.from('OggS\x00\x02', 'latin1'), 'audio'],
    ['flac', Buffer.from('fLaC\x00\x00', 'latin1'), 'audio'],
    ['mp4', withAscii(hex('00000018'), 'ftypisom', 4), 'video'],
    ['webm', hex('1a45dfa39f4286810142f7'), 'video'],
  ])('%s', (format, head, kind) => {
    expect(sniff(head)).toEqual({ kind, format });
  });

  it('does not take text, a truncated signature or a RIFF of another kind for media', () => {
    expect(sniff(Buffer.from('hello world'))).toBeNull();
    expect(sniff(hex('89504e47'))).toBeNull();
    expect(sniff(withAscii(Buffer.from('RIFF\x24\x00\x00\x00', 'latin1'), 'AVI LIST', 8))).toBeNull();
    expect(sniff(Buffer.alloc(0))).toBeNull();
  });

  it('kindOf: media first, then UTF-8 text, else nothing', () => {
    expect(kindOf(hex('89504e470d0a1a0a'), false)).toEqual({ kind: 'image', format: 'png' });
    expect(kindOf(Buffer.from('a cat'), true)).toEqual({ kind: 'text', format: 'utf-8' });
    expect(kindOf(hex('00010203'), false)).toBeNull();
  });
});

describe('Utf8Check: text checked chunk by chunk', () => {
  const check = (...chunks: Buffer[]) => {
    const c = new Utf8Check();
    for (const chunk of chunks) c.push(chunk);
    return c.end();
  };
  it('accepts a character split across chunks', () => {
    const euro = Buffer.from('price: €5', 'utf8');
    const cut = euro.indexOf(0xe2) + 1;
    expect(check(euro.subarray(0, cut), euro.subarray(cut))).toBe(true);
  });
  it('refuses bad bytes, NUL, and a character cut at the end', () => {
    expect(check(Buffer.from('ok'), hex('c328'))).toBe(false);
    expect(check(Buffer.from('a\0b', 'latin1'))).toBe(false);
    expect(check(Buffer.from('€', 'utf8').subarray(0, 2))).toBe(false);
  });
});

/** What a campaign collects. `jsonl` is records checked against the campaign's JSON schema. */
export type DataKind = 'text' | 'image' | 'audio' | 'video' | 'jsonl';
export const DATA_KINDS: readonly DataKind[] = ['text', 'image', 'audio', 'video', 'jsonl'];

/** The media kinds the magic bytes tell, with the format name each signature stands for. */
export type Sniffed = { kind: 'image' | 'audio' | 'video'; format: string };

/** Bytes `sniff` needs from the start of a file. */
export const SNIFF_BYTES = 16;

const ascii = (head: Buffer, at: number, text: string) =>
  head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text;
const bytes = (head: Buffer, at: number, values: number[]) =>
  head.length >= at + values.length && values.every((v, i) => head[at + i] === v);

/**
 * The media kind and format from a file's first bytes (its magic numbers), never from its name: PNG, JPEG, GIF,
 * WebP; WAV, MP3 (ID3 tag or an MPEG audio frame sync), OGG, FLAC; MP4 (ISO `ftyp` box), WebM (EBML).
 */
export function sniff(head: Buffer): Sniffed | null {
  if (bytes(head, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'image', format: 'png' };
  if (bytes(head, 0, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return { kind: 'image', format: 'gif' };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return { kind: 'image', format: 'webp' };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return { kind: 'audio', format: 'wav' };
  if (ascii(head, 0, 'ID3')) return { kind: 'audio', format: 'mp3' };
  // An MPEG audio frame: 11 sync bits, then a layer that is not "reserved" (00).
  if (
    head.length >= 2 &&
    head[0] === 0xff &&
    ((head[1] as number) & 0xe0) === 0xe0 &&
    ((head[1] as number) & 0x06) !== 0
  )
    return { kind: 'audio', format: 'mp3' };
  if (ascii(head, 0, 'OggS')) return { kind: 'audio', format: 'ogg' };
  if (ascii(head, 0, 'fLaC')) return { kind: 'audio', format: 'flac' };
  if (ascii(head, 4, 'ftyp')) return { kind: 'video', format: 'mp4' };
  if (bytes(head, 0, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', format: 'webm' };
  return null;
}

/**
 * Checks that a stream of chunks is UTF-8 text without NUL bytes, one chunk at a time (constant memory).
 * `push` every chunk, then `end()`: true when all of it was text.
 */
export class Utf8Check {
  #ok = true;
  // `stream: true` keeps a character split across chunks for the next one; `fatal` throws on a bad byte.
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });

  push(chunk: Buffer): void {
    if (!this.#ok) return;
    if (chunk.includes(0)) {
      this.#ok = false;
      return;
    }
    try {
      this.#decoder.decode(chunk, { stream: true });
    } catch {
      this.#ok = false;
    }
  }

  end(): boolean {
    if (!this.#ok) return false;
    try {
      this.#decoder.decode();
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether a whole buffer is valid UTF-8 (a real U+FFFD in the text is valid; a bad byte is not). */
export function validUtf8(buffer: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    return true;
  } catch {
    return false;
  }
}

/** The kind of a finished upload: a media kind by its magic bytes, else text when it was all UTF-8, else none. */
export function kindOf(head: Buffer, text: boolean): { kind: DataKind; format: string } | null {
  const media = sniff(head);
  if (media) return media;
  return text ? { kind: 'text', format: 'utf-8' } : null;
}

/** The file extension export gives each format. */
export const EXTENSIONS: Record<string, string> = {
  png: 'png',
  jpeg: 'jpg',
  gif: 'gif',
  webp: 'webp',
  wav: 'wav',
  mp3: 'mp3',
  ogg: 'ogg',
  flac: 'flac',
  mp4: 'mp4',
  webm: 'webm',
  'utf-8': 'txt',
  json: 'json',
};

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SNIFF_BYTES, Utf8Check } from './magic.js';

/** An upload's bytes as they arrive: a request stream, or chunks already in memory. */
export type Source = AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>;

/** An upload written to a temporary file, measured while it streamed in. */
export type Received = {
  temp: string;
  sha256: string;
  size: number;
  /** Its first bytes, for the magic-number check. */
  head: Buffer;
  /** Whether every byte was UTF-8 text (no NUL). */
  text: boolean;
  /** It passed the limit: writing stopped there, and the rest was read and dropped. */
  oversize: boolean;
};

/**
 * Content-addressed files in the router's data folder: `DIR/<first 2 hex>/<sha256>`. An upload streams into
 * `DIR/tmp/` (hashed, sniffed and UTF-8-checked as it goes, in constant memory) and is renamed into place only
 * once the router accepts it; a refused one is deleted, so nothing partial ever sits under its hash.
 */
export class BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    // Temporary files left by a crash are never anyone's item.
    rmSync(join(dir, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /** Streams `source` into a temporary file, stopping the writes (not the reading) past `maxBytes`. */
  async receive(source: Source, maxBytes: number): Promise<Received> {
    const temp = join(this.dir, 'tmp', randomBytes(12).toString('hex'));
    const file = await open(temp, 'wx');
    const hash = createHash('sha256');
    const utf8 = new Utf8Check();
    const heads: Buffer[] = [];
    let headLength = 0;
    let size = 0;
    let oversize = false;
    try {
      for await (const piece of source) {
        const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
        size += chunk.length;
        if (oversize) continue;
        if (size > maxBytes) {
          oversize = true;
          continue;
        }
        if (headLength < SNIFF_BYTES) {
          heads.push(chunk.subarray(0, SNIFF_BYTES - headLength));
          headLength += Math.min(chunk.length, SNIFF_BYTES - headLength);
        }
        hash.update(chunk);
        utf8.push(chunk);
        await file.write(chunk);
      }
    } catch (error) {
      await file.close();
      rmSync(temp, { force: true });
      throw error;
    }
    await file.close();
    return {
      temp,
      sha256: hash.digest('hex'),
      size,
      head: Buffer.concat(heads),
      text: utf8.end(),
      oversize,
    };
  }

  /** Moves an accepted upload under its hash (the same bytes already there: the copy is dropped). */
  keep(received: Received): void {
    const target = this.pathOf(received.sha256);
    mkdirSync(join(this.dir, received.sha256.slice(0, 2)), { recursive: true });
    if (existsSync(target)) rmSync(received.temp, { force: true });
    else renameSync(received.temp, target);
  }

  discard(received: Received): void {
    rmSync(received.temp, { force: true });
  }

  /** Stores a small item held in memory (a JSONL line, a gold item): written beside, then renamed. */
  put(content: Buffer): string {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const target = this.pathOf(sha256);
    if (existsSync(target)) return sha256;
    mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    const temp = join(this.dir, 'tmp', randomBytes(12).toString('hex'));
    writeFileSync(temp, content, { flag: 'wx' });
    renameSync(temp, target);
    return sha256;
  }

  /** Removes a stored file (an accepted upload whose booking then failed, with no other item on it). */
  remove(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }

  read(sha256: string): Readable {
    return createReadStream(this.pathOf(sha256));
  }
}

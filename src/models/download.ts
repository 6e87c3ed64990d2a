import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { certificateProblem } from './certificate-error.js';

/** Where a download stands; `resumedFrom` is the byte it started at in this run (0 for a fresh one). */
export type DownloadProgress = { received: number; total: number | undefined; resumedFrom: number };

export type DownloadOptions = {
  /** When given, the finished file must hash to this (lower-case hex) or it is deleted and rejected. */
  expectedSha256?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Network failures in a row (dropped connection, 5xx, stall) resumed before giving up; default 5. */
  retries?: number;
  /** Delay before the first resume, doubled each time; default 300 ms. */
  retryDelayMs?: number;
  /** A response that sends nothing for this long is dropped and resumed; default 30 s. */
  stallTimeoutMs?: number;
  /** Called before each resume after a failure, with the reason (for logs). */
  onRetry?: (reason: string, offset: number) => void;
  /** The fetch to use (a node's, which trusts its router's CA or pinned certificate); default the global one. */
  fetch?: typeof fetch;
};

export type DownloadResult = {
  path: string;
  sha256: string;
  size: number;
  /** Bytes that came over the network in this call (less than size when a partial file was resumed). */
  transferred: number;
  /** Requests made, 1 when nothing failed. */
  requests: number;
};

/** The file arrived whole but does not hash to what was expected; the partial file has been deleted. */
export class HashMismatchError extends Error {
  override readonly name = 'HashMismatchError';
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`The file downloaded from ${url} hashes to ${actual}, not the expected ${expected}.`);
  }
}

/** The download failed for good (a 4xx answer, or too many network failures in a row). */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A failure worth resuming after: the connection dropped, the server stalled or answered 5xx. */
class Retryable extends Error {}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;
const UNSATISFIED_RANGE = /^bytes \*\/(\d+)$/;

/**
 * Downloads `url` to `dest` through `dest + '.part'`, resuming with HTTP Range requests: after a dropped
 * connection in this call, and from a `.part` file an earlier (interrupted) call left. The file is hashed as
 * it arrives; it is renamed to `dest` only when whole and, if `expectedSha256` is given, when it matches.
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const retries = options.retries ?? 5;
  const stallMs = options.stallTimeoutMs ?? 30_000;
  let delay = options.retryDelayMs ?? 300;
  await mkdir(dirname(dest), { recursive: true });

  // The hash of the bytes of `part` so far; rebuilt from the file when this call starts from an old part.
  let hash: Hash | undefined;
  let hashed = 0;
  let validator: string | undefined;
  let failures = 0;
  let requests = 0;
  let transferred = 0;

  for (;;) {
    options.signal?.throwIfAborted();
    let offset = await fileSize(part);
    if (!hash || hashed !== offset) [hash, hashed] = [await hashFile(part), offset];
    const stall = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
    let file: FileHandle | undefined;
    let progressed = false;
    try {
      requests++;
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (validator) headers['if-range'] = validator;
      }
      let timer = setTimeout(() => stall.abort(new Retryable(`no data for ${stallMs} ms`)), stallMs);
      const restartTimer = () => {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(new Retryable(`no data for ${stallMs} ms`)), stallMs);
      };
      try {
        const response = await (options.fetch ?? fetch)(url, { headers, signal }).catch((error: unknown) => {
          // A certificate that fails verification fails the same way on every try.
          throw options.signal?.aborted || certificateProblem(error) ? error : new Retryable(describe(error));
        });
        let total: number | undefined;
        if (response.status === 416 && offset > 0) {
          // Asked for bytes past the end: the part is complete if it has exactly the file's size.
          const size = Number(UNSATISFIED_RANGE.exec(response.headers.get('content-range') ?? '')?.[1]);
          await response.body?.cancel();
          if (size === offset)
            return await finish(url, part, dest, hash, offset, options, transferred, requests);
          await rm(part, { force: true });
          throw new Retryable(`the server's file is ${size} bytes, the partial download ${offset}`);
        }
        if (response.status >= 500) {
          await response.body?.cancel();
          throw new Retryable(`HTTP ${response.status}`);
        }
        if (response.status !== 200 && response.status !== 206) {
          await response.body?.cancel();
          throw new DownloadError(
            `${url} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`,
            response.status,
          );
        }
        const etag = response.headers.get('etag');
        if (etag && !etag.startsWith('W/')) validator = etag;
        if (response.status === 206) {
          const range = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
          if (!range || Number(range[1]) !== offset) {
            await response.body?.cancel();
            await rm(part, { force: true });
            throw new Retryable(`the server answered a range other than the one asked for (${offset}-)`);
          }
          total = range[3] === '*' ? undefined : Number(range[3]);
        } else {
          // A whole file: the server ignored the range, or the file changed since the part was written.
          offset = 0;
          [hash, hashed] = [createHash('sha256'), 0];
          const length = response.headers.get('content-length');
          total = length === null ? undefined : Number(length);
        }
        file = await open(part, offset === 0 ? 'w' : 'a');
        options.onProgress?.({ received: offset, total, resumedFrom: offset });
        const resumedFrom = offset;
        if (!response.body) throw new Retryable('the response had no body');
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read().catch((error: unknown) => {
            throw options.signal?.aborted ? error : new Retryable(describe(error));
          });
          if (done) break;
          restartTimer();
          await file.write(value);
          hash.update(value);
          hashed += value.byteLength;
          transferred += value.byteLength;
          offset += value.byteLength;
          progressed = true;
          options.onProgress?.({ received: offset, total, resumedFrom });
        }
        await file.close();
        file = undefined;
        if (total !== undefined && offset !== total)
          throw new Retryable(`the connection ended at byte ${offset} of ${total}`);
        return await finish(url, part, dest, hash, offset, options, transferred, requests);
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      await file?.close().catch(() => {});
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const reason =
        error instanceof Retryable ? error.message : stall.signal.aborted ? 'stalled' : undefined;
      if (reason === undefined) throw error;
      // A request that moved the download forward starts the count of failures in a row again.
      failures = progressed ? 1 : failures + 1;
      if (failures > retries) {
        const have = await fileSize(part);
        throw new DownloadError(
          `Downloading ${url} failed ${failures} times in a row (last: ${reason}); ${have} bytes are kept in ${part}, so running the same command again resumes from there.`,
        );
      }
      options.onRetry?.(reason, await fileSize(part));
      await sleep(progressed ? (options.retryDelayMs ?? 300) : delay, options.signal);
      if (!progressed) delay *= 2;
    }
  }
}

async function finish(
  url: string,
  part: string,
  dest: string,
  hash: Hash,
  size: number,
  options: DownloadOptions,
  transferred: number,
  requests: number,
): Promise<DownloadResult> {
  const sha256 = hash.digest('hex');
  const expected = options.expectedSha256?.toLowerCase();
  if (expected && sha256 !== expected) {
    await rm(part, { force: true });
    throw new HashMismatchError(url, expected, sha256);
  }
  await rename(part, dest);
  return { path: dest, sha256, size, transferred, requests };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string): Promise<Hash> {
  const hash = createHash('sha256');
  if ((await fileSize(path)) === 0) return hash;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

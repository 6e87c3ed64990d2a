import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError, type DownloadProgress, downloadFile, HashMismatchError } from './download.js';

const body = randomBytes(1 << 20);
const sha = createHash('sha256').update(body).digest('hex');

/** How the fake server answers request number n (1-based); the default serves `body` with Range support. */
type Behaviour = (n: number, req: IncomingMessage, res: ServerResponse) => boolean;
let behaviour: Behaviour = () => false;
const requests: { range: string | undefined; ifRange: string | undefined }[] = [];
let server: Server;
let url = '';
let dir = '';

function serve(req: IncomingMessage, res: ServerResponse, content: Buffer = body, dropAfter?: number): void {
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = match ? Number(match[1]) : 0;
  if (start >= content.length && match) {
    res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
    return;
  }
  const headers: Record<string, string> = {
    'content-length': String(content.length - start),
    'accept-ranges': 'bytes',
    etag: '"v1"',
  };
  if (match) headers['content-range'] = `bytes ${start}-${content.length - 1}/${content.length}`;
  res.writeHead(match ? 206 : 200, headers);
  if (dropAfter === undefined) {
    res.end(content.subarray(start));
    return;
  }
  // Sends part of the promised bytes, then drops the connection.
  res.write(content.subarray(start, start + dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-download-'));
  server = createServer((req, res) => {
    requests.push({ range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    if (!behaviour(requests.length, req, res)) serve(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.gguf`;
});

afterEach(() => {
  behaviour = () => false;
  requests.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
const dest = () => join(dir, `file-${++counter}.gguf`);

describe('downloadFile', () => {
  it('downloads, hashes and renames the part file when done', async () => {
    const target = dest();
    const progress: DownloadProgress[] = [];
    const result = await downloadFile(url, target, {
      expectedSha256: sha,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ path: target, sha256: sha, size: body.length, transferred: body.length });
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(existsSync(`${target}.part`)).toBe(false);
    expect(progress.at(-1)).toEqual({ received: body.length, total: body.length, resumedFrom: 0 });
    expect(requests).toEqual([{ range: undefined, ifRange: undefined }]);
  });

  it('resumes with a Range request after the server drops the connection mid-file', async () => {
    behaviour = (n, req, res) => {
      if (n !== 1) return false;
      serve(req, res, body, 300_000);
      return true;
    };
    const target = dest();
    const retries: number[] = [];
    const result = await downloadFile(url, target, {
      expectedSha256: sha,
      retryDelayMs: 10,
      onRetry: (_reason, offset) => retries.push(offset),
    });
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(result.requests).toBe(2);
    expect(result.transferred).toBe(body.length);
    const offset = retries[0] as number;
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(300_000);
    // The second request asks for the rest, guarded by the first answer's ETag.
    expect(requests[1]).toEqual({ range: `bytes=${offset}-`, ifRange: '"v1"' });
  });

  it('continues a partial file an earlier run left behind', async () => {
    const target = dest();
    writeFileSync(`${target}.part`, body.subarray(0, 400_000));
    const result = await downloadFile(url, target, { expectedSha256: sha });
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(result.transferred).toBe(body.length - 400_000);
    expect(requests[0]?.range).toBe('bytes=400000-');
  });

  it('accepts a partial file that is already whole (416 for the bytes past its end)', async () => {
    const target = dest();
    writeFileSync(`${target}.part`, body);
    const result = await downloadFile(url, target, { expectedSha256: sha });
    expect(result.transferred).toBe(0);
    expect(readFileSync(target).equals(body)).toBe(true);
  });

  it('starts over when the server ignores the range and sends the whole file', async () => {
    behaviour = (_n, req, res) => {
      delete req.headers.range;
      serve(req, res);
      return true;
    };
    const target = dest();
    writeFileSync(`${target}.part`, Buffer.alloc(200_000, 7));
    const result = await downloadFile(url, target, { expectedSha256: sha });
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(result.transferred).toBe(body.length);
  });

  it('resumes a response that stalls', async () => {
    behaviour = (n, _req, res) => {
      if (n !== 1) return false;
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 100_000)); // ...and then nothing
      return true;
    };
    const target = dest();
    const reasons: string[] = [];
    await downloadFile(url, target, {
      expectedSha256: sha,
      stallTimeoutMs: 300,
      retryDelayMs: 10,
      onRetry: (reason) => reasons.push(reason),
    });
    expect(readFileSync(target).equals(body)).toBe(true);
    expect(reasons[0]).toMatch(/no data for 300 ms/);
  });

  it('rejects a file whose hash is not the expected one and deletes it', async () => {
    const target = dest();
    const wrong = 'ab'.repeat(32);
    const error = await downloadFile(url, target, { expectedSha256: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HashMismatchError);
    expect(error).toMatchObject({ expected: wrong, actual: sha });
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it('detects corruption in resumed bytes too', async () => {
    // The second half comes from a different file: the hash over the whole must catch it.
    const other = Buffer.from(body);
    other[900_000] = (other[900_000] as number) ^ 0xff;
    behaviour = (n, req, res) => {
      serve(req, res, n === 1 ? body : other, n === 1 ? 500_000 : undefined);
      return true;
    };
    const target = dest();
    await expect(downloadFile(url, target, { expectedSha256: sha, retryDelayMs: 10 })).rejects.toBeInstanceOf(
      HashMismatchError,
    );
    expect(requests).toHaveLength(2);
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it('fails at once on a 404, and after bounded retries when the server keeps failing', async () => {
    behaviour = (_n, _req, res) => {
      res.writeHead(404).end();
      return true;
    };
    const missing = await downloadFile(url, dest()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DownloadError);
    expect(missing).toMatchObject({ status: 404 });
    expect(requests).toHaveLength(1);

    requests.length = 0;
    behaviour = (_n, _req, res) => {
      res.writeHead(503).end();
      return true;
    };
    const error = await downloadFile(url, dest(), { retries: 2, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(
      /failed 3 times in a row \(last: HTTP 503\).*running the same command again resumes/,
    );
    expect(requests).toHaveLength(3);
  });

  it('stops when aborted, keeping the partial file for a later resume', async () => {
    const controller = new AbortController();
    behaviour = (_n, _req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 50_000), () => controller.abort(new Error('stop now')));
      return true;
    };
    const target = dest();
    await expect(downloadFile(url, target, { signal: controller.signal })).rejects.toThrow('stop now');
    expect(existsSync(target)).toBe(false);
  });
});

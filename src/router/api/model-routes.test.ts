import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, readGgufInfo, sha256File, writeTinyModel } from '../../models/index.js';
import { resolveModelSources, storedModelPath } from '../../node/model-source.js';
import { type RunningRouter, startRouter } from '../main.js';
import { type ModelCatalogEntry, parseRange } from './model-routes.js';

let dir = '';
let router: RunningRouter;
let file = '';
let sha = '';
let bytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-model-routes-'));
  file = join(dir, 'tiny.gguf');
  await writeTinyModel(file, { seed: 1 });
  bytes = readFileSync(file);
  sha = await sha256File(file);
  router = await startRouter({ port: 0, dataDir: join(dir, 'router') }, { log: () => {} });
  const info = await readGgufInfo(file);
  router.services.models.add({ ...info, name: 'tiny', sha256: sha, path: file, addedAt: Date.now() });
  // Known to the router (a node announced it) but with no file to send.
  router.services.models.add({ ...info, name: 'remote', sha256: 'cd'.repeat(32), path: null, addedAt: 1 });
});

afterAll(async () => {
  await router?.stop();
  await rm(dir, { recursive: true, force: true });
});

const fileUrl = (s = sha) => `${router.url}/api/models/${s}/file`;

describe('GET /api/models', () => {
  it('lists registered models without an API key, with node counts and whether the file can be fetched', async () => {
    const response = await fetch(`${router.url}/api/models`);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: ModelCatalogEntry[] };
    const tiny = data.find((m) => m.name === 'tiny');
    expect(tiny).toMatchObject({
      sha256: sha,
      architecture: 'llama',
      nodes: 0,
      downloadable: true,
      size_bytes: bytes.length,
    });
    expect(tiny?.parameters).toBeGreaterThan(0);
    expect(data.find((m) => m.name === 'remote')).toMatchObject({ downloadable: false, nodes: 0 });
  });
});

describe('GET /api/models/{sha256}/file', () => {
  it('serves the whole file with its sha256 as ETag, and HEAD without a body', async () => {
    const response = await fetch(fileUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${sha}"`);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);

    const head = await fetch(fileUrl(), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect(await head.text()).toBe('');
  });

  it('answers Range requests with 206 and the right bytes', async () => {
    const middle = await fetch(fileUrl(), { headers: { range: 'bytes=100-1099' } });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 100-1099/${bytes.length}`);
    expect(middle.headers.get('content-length')).toBe('1000');
    expect(Buffer.from(await middle.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);

    const tail = await fetch(fileUrl(), { headers: { range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);

    const open = await fetch(fileUrl(), { headers: { range: `bytes=${bytes.length - 5}-` } });
    expect(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(-5))).toBe(true);

    const past = await fetch(fileUrl(), { headers: { range: `bytes=${bytes.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    // If-Range with another validator: the file changed, so the whole file comes back.
    const stale = await fetch(fileUrl(), { headers: { range: 'bytes=100-', 'if-range': '"other"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  it('answers 404 for an unknown sha256 and for a model the router holds no file of', async () => {
    const unknown = await fetch(fileUrl('ef'.repeat(32)));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(
      /GET \/api\/models/,
    );
    const noFile = await fetch(fileUrl('cd'.repeat(32)));
    expect(noFile.status).toBe(404);
    expect(((await noFile.json()) as { error: { message: string } }).error.message).toMatch(
      /otensor-cli model add/,
    );
    expect((await fetch(fileUrl('not-a-sha'))).status).toBe(404);
  });

  it('serves a download that the download helper verifies', async () => {
    const result = await downloadFile(fileUrl(), join(dir, 'copy.gguf'), { expectedSha256: sha });
    expect(result.sha256).toBe(sha);
  });
});

describe('parseRange', () => {
  it('reads one range, clamps it, and leaves the rest to a whole-file answer', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual([0, 9]);
    expect(parseRange('bytes=90-200', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=-20', 100)).toEqual([80, 99]);
    expect(parseRange('bytes=-200', 100)).toEqual([0, 99]);
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 100)).toBeUndefined();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
  });
});

describe('a node resolving --model against the router', () => {
  const logs: string[] = [];
  const options = (dataDir: string) => ({
    routerUrl: router.url,
    dataDir,
    log: (line: string) => logs.push(line),
    progress: false,
  });

  it('fetches a registered model by name once, then reuses the stored file', async () => {
    const dataDir = join(dir, 'node-a');
    const [first] = await resolveModelSources(['tiny'], options(dataDir));
    expect(first).toMatchObject({ file: storedModelPath(dataDir, sha), sha256: sha, downloaded: true });
    expect(readFileSync(storedModelPath(dataDir, sha)).equals(bytes)).toBe(true);
    const [again] = await resolveModelSources(['tiny'], options(dataDir));
    expect(again).toMatchObject({ sha256: sha, downloaded: false });
    // By sha256 it needs no router at all.
    const [bySha] = await resolveModelSources([sha], {
      ...options(dataDir),
      routerUrl: 'http://127.0.0.1:1',
    });
    expect(bySha).toMatchObject({ sha256: sha, downloaded: false });
    // A path stays a path.
    const [path] = await resolveModelSources([file], options(dataDir));
    expect(path).toEqual({ arg: file, file, downloaded: false });
  });

  it('names what to do when the model is unknown, has no file, or the router is unreachable', async () => {
    const dataDir = join(dir, 'node-b');
    await expect(resolveModelSources(['nope'], options(dataDir))).rejects.toThrow(
      /'nope' is not a file and is not registered on the router .*otensor-cli model add/,
    );
    await expect(resolveModelSources(['remote'], options(dataDir))).rejects.toThrow(/holds no file/);
    await expect(
      resolveModelSources(['tiny'], { ...options(dataDir), routerUrl: 'http://127.0.0.1:1' }),
    ).rejects.toThrow(/could not be asked.*--router/);
  });

  it('rejects and retries a download whose bytes do not match the sha256, then fails clearly', async () => {
    const info = await readGgufInfo(file);
    const servedFile = join(dir, 'served.gguf');
    copyFileSync(file, servedFile);
    const fakeSha = 'ab'.repeat(32);
    router.services.models.add({
      ...info,
      name: 'bad',
      sha256: fakeSha,
      path: servedFile,
      addedAt: Date.now(),
    });
    const dataDir = join(dir, 'node-c');
    logs.length = 0;
    await expect(resolveModelSources(['bad'], { ...options(dataDir), hashAttempts: 2 })).rejects.toThrow(
      /did not match its sha256 in 2 downloads.*Register it again/,
    );
    expect(logs.filter((l) => /download 1 of 2 .* deleted it, downloading again/.test(l))).toHaveLength(1);
    expect(existsSync(storedModelPath(dataDir, fakeSha))).toBe(false);
    expect(existsSync(`${storedModelPath(dataDir, fakeSha)}.part`)).toBe(false);
  });
});

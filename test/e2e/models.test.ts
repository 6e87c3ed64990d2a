import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File, writeTinyModel } from '../../src/models/index.js';
import type { ModelCatalogEntry } from '../../src/router/api/model-routes.js';
import {
  type CliProcess,
  cliOutput,
  prepareRouterData,
  runCli,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

let ws: Workspace;
let url = '';
let apiKey = '';
let sha = '';

beforeAll(async () => {
  ws = await workspace('models');
  sha = await sha256File(ws.model);
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws));
});

afterAll(async () => {
  await ws?.cleanup();
});

/** A node started with a model name (not a file); `--threads 1` skips the thread measurement. */
const startNamedNode = (model: string, data: string): CliProcess =>
  ws.track(
    runCli([
      'node',
      'start',
      '--router',
      url,
      '--model',
      model,
      '--data',
      join(ws.dir, data),
      '--threads',
      '1',
    ]),
  );

async function catalog(): Promise<ModelCatalogEntry[]> {
  return ((await (await fetch(`${url}/api/models`)).json()) as { data: ModelCatalogEntry[] }).data;
}

async function chat(): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
  });
}

describe('model distribution', () => {
  it('a node started with a model name fetches the file from its router, then serves it', async () => {
    const node = startNamedNode('tiny', 'fetcher');
    await node.line(/downloaded model tiny \(\d+ bytes, sha256 verified\)/);
    await waitForNodes(url, 1);
    // The progress bar's last line (stderr is not a terminal here, so it writes whole lines).
    expect(node.output()).toMatch(/downloading tiny \[#+\] 100% .* in [\d.]+s/);
    const stored = join(ws.dir, 'fetcher', 'models', `${sha}.gguf`);
    expect(readFileSync(stored).equals(readFileSync(ws.model))).toBe(true);
    expect(existsSync(`${stored}.part`)).toBe(false);

    const response = await chat();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-omnitensor-node')).toBeTruthy();

    expect((await catalog()).find((m) => m.name === 'tiny')).toMatchObject({ sha256: sha, nodes: 1 });
    const listed = await cliOutput(['model', 'list', '--router', url]);
    expect(listed).toMatch(new RegExp(`^tiny\\t${sha}\\tllama\\t.*\\t1 node$`, 'm'));

    node.child.kill('SIGTERM');
    await node.exited;
  });

  it('a second start reuses the stored file without downloading', async () => {
    const node = startNamedNode('tiny', 'fetcher');
    await node.line(/using stored model tiny .*\(no download\)/);
    await waitForNodes(url, 1);
    expect(node.output()).not.toMatch(/fetching model|downloading tiny/);
    expect((await chat()).status).toBe(200);
    node.child.kill('SIGTERM');
    await node.exited;
  });

  it('a stored file that no longer hashes right is deleted at load, so the next start downloads it again', async () => {
    const stored = join(ws.dir, 'fetcher', 'models', `${sha}.gguf`);
    await writeTinyModel(stored, { seed: 4 }); // a valid GGUF, but not the registered one
    const node = startNamedNode('tiny', 'fetcher');
    expect(await node.exited).toBe(1);
    expect(node.output()).toMatch(
      /error: The stored model file .* hashes to \w+, not \w+ .*start the node again/,
    );
    expect(existsSync(stored)).toBe(false);
  });

  it('serves byte ranges of the model file without an API key', async () => {
    const bytes = readFileSync(ws.model);
    const response = await fetch(`${url}/api/models/${sha}/file`, { headers: { range: 'bytes=1000-1999' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(response.headers.get('etag')).toBe(`"${sha}"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    expect((await fetch(`${url}/api/models/${'0'.repeat(64)}/file`)).status).toBe(404);
  });

  it('rejects and retries a download that does not match its sha256, then fails clearly', async () => {
    // Register one file, then replace it on the router's disk: what the router serves no longer matches.
    const file = join(ws.dir, 'swapped.gguf');
    await writeTinyModel(file, { seed: 2 });
    await cliOutput(['model', 'add', file, '--name', 'swapped', '--data', join(ws.dir, 'router')]);
    await writeTinyModel(file, { seed: 3 });
    const node = startNamedNode('swapped', 'victim');
    expect(await node.exited).toBe(1);
    const output = node.output();
    expect(
      output.match(/download \d of 3 of swapped hashed to \w+, not \w+; deleted it, downloading again/g),
    ).toHaveLength(2);
    expect(output).toMatch(/error: Model 'swapped' .* did not match its sha256 in 3 downloads/);
    expect(existsSync(join(ws.dir, 'victim', 'models'))).toBe(true);
    expect(readdirGguf(join(ws.dir, 'victim', 'models'))).toEqual([]);
  });

  it('model add URL downloads a GGUF from an HTTP server and registers it with its path', async () => {
    const other = join(ws.dir, 'other-router');
    const out = await cliOutput([
      'model',
      'add',
      `${url}/api/models/${sha}/file`,
      '--name',
      'copied',
      '--data',
      other,
    ]);
    expect(out).toContain(`registered copied: sha256 ${sha}`);
    expect(readFileSync(join(other, 'models', `${sha}.gguf`)).equals(readFileSync(ws.model))).toBe(true);
    const listed = await cliOutput(['model', 'list', '--data', other]);
    expect(listed).toMatch(new RegExp(`^copied\\t${sha}\\t`, 'm'));
  });
});

const readdirGguf = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.gguf'));

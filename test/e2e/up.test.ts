import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OmniClient } from '../../src/sdk/index.js';
import { type CliProcess, cliOutput, runCli, type Workspace, workspace } from './harness.js';

let ws: Workspace;
let up: CliProcess;
let client: OmniClient;
let routerUrl: string;

beforeAll(async () => {
  ws = await workspace('up');
  up = ws.track(runCli(['up', '--port', '0', '--data', join(ws.dir, 'up')]));
  const [, url] = await up.line(/router: (http:\/\/\S+)/, 120_000);
  const [, apiKey] = await up.line(/api key: (\S+)/);
  await up.line(/nodes connected: 3\/3/, 120_000);
  routerUrl = url as string;
  client = new OmniClient({ baseUrl: routerUrl, apiKey: apiKey as string });
}, 180_000);

afterAll(async () => {
  // Ctrl-C stops the router and its nodes; the workspace kills what is left if that fails.
  up?.child.kill('SIGINT');
  await up?.exited;
  await ws?.cleanup();
});

it.each(['likelihood', 'checksum', 'redundant:3', 'embedding'])(
  'checks a %s request out of the box: its nodes work and validate',
  async (validation) => {
    const answer = await client.chat({
      model: 'tiny',
      messages: [{ role: 'user', content: `checked by ${validation}` }],
      max_tokens: 8,
      validation,
    });
    expect(answer.omnitensor?.validation).toMatchObject({ requested: validation, verdict: 'pass' });
  },
);

it('takes the folder given to `up --data` in the local commands (ledger verify, keys create)', async () => {
  const folder = join(ws.dir, 'up');
  expect(await cliOutput(['ledger', 'verify', '--data', folder])).toMatch(/^ok:/m);
  // A key made in that folder belongs to the running router's store: it is accepted at once.
  const key = (await cliOutput(['keys', 'create', '--data', folder])).trim();
  const models = await new OmniClient({ baseUrl: routerUrl, apiKey: key }).models();
  expect(models.data.map((m) => m.id)).toContain('tiny');
});

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerFetch } from '../../src/node/router-tls.js';
import { makeCertificate, type TestCertificate } from '../certificate.js';
import {
  prepareRouterData,
  runCli,
  startNodeProcess,
  startRouterProcess,
  type Workspace,
  waitForNodes,
  workspace,
} from './harness.js';

const run = promisify(execFile);

let ws: Workspace;
let certificate: TestCertificate;
let url: string;
let apiKey: string;

/** A client in its own process that trusts the router's CA the documented way: NODE_EXTRA_CA_CERTS. */
const CHAT_CLIENT = `
const response = await fetch(process.env.ROUTER + '/v1/chat/completions', {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.KEY },
  body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, temperature: 0 }),
});
process.stdout.write(JSON.stringify({ status: response.status, body: await response.json() }));
`;

beforeAll(async () => {
  ws = await workspace('tls');
  certificate = makeCertificate(ws.dir);
  ({ apiKey } = await prepareRouterData(ws));
  ({ url } = await startRouterProcess(ws, {
    args: ['--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile],
  }));
});

afterAll(async () => {
  await ws?.cleanup();
});

describe('a router with --tls-cert and --tls-key', () => {
  it('serves HTTPS, and refuses to start with one of the two flags', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const half = ws.track(
      runCli(['router', 'start', '--port', '0', '--data', ws.dir, '--tls-cert', certificate.certFile]),
    );
    expect(await half.exited).toBe(1);
    expect(half.output()).toContain('--tls-cert and --tls-key go together, but only --tls-cert was given');
  });

  it('takes a node that trusts its CA over wss (model fetched over https) and answers a chat over https', async () => {
    // The wss:// form of the URL, and the model by name: the catalog and the file come over https too.
    const node = ws.track(
      runCli([
        'node',
        'start',
        '--router',
        url.replace(/^https:/, 'wss:'),
        '--model',
        'tiny',
        '--data',
        join(ws.dir, 'trusting'),
        '--router-ca',
        certificate.certFile,
      ]),
    );
    await node.line(/downloaded model tiny \(\d+ bytes, sha256 verified\)/);
    await node.line(/connected to https:\/\/127\.0\.0\.1/);
    await waitForNodes(url, 1, 60_000, routerFetch({ ca: certificate.cert }));
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHAT_CLIENT], {
      env: { ...process.env, ROUTER: url, KEY: apiKey, NODE_EXTRA_CA_CERTS: certificate.certFile },
    });
    const answer = JSON.parse(stdout) as {
      status: number;
      body: { choices: { message: { content: string } }[] };
    };
    expect(answer.status).toBe(200);
    expect(answer.body.choices[0]?.message.content.length).toBeGreaterThan(0);
  });

  it('a node with a wrong pinned fingerprint refuses to connect, says why, and exits', async () => {
    const wrong = makeCertificate(ws.dir, 'impostor');
    const node = await startNodeProcess(ws, url, 'pinned-wrong', ['--router-fingerprint', wrong.fingerprint]);
    const [line] = await node.line(/refusing to connect to .*not the pinned .*/);
    expect(line).toContain(`fingerprint ${certificate.fingerprint}, not the pinned ${wrong.fingerprint}`);
    expect(await node.exited).toBe(1);
    expect(node.output()).not.toContain('reconnecting in');
  });

  it('a node that trusts only the system roots refuses the self-signed router and exits', async () => {
    const node = await startNodeProcess(ws, url, 'untrusting');
    // `--model` names a file here, so the refusal comes from the gateway link, not the model catalog.
    await node.line(/refusing to connect to .*TLS certificate failed verification.*--router-ca/);
    expect(await node.exited).toBe(1);
  });
});

describe('a router without TLS flags', () => {
  it('still serves plain http to nodes and clients', async () => {
    const plain = await workspace('tls-plain');
    try {
      const { url: plainUrl } = await startRouterProcess(plain);
      expect(plainUrl).toMatch(/^http:\/\//);
      await startNodeProcess(plain, plainUrl, 'plain-node');
      await waitForNodes(plainUrl, 1);
      expect(await (await fetch(`${plainUrl}/health`)).json()).toEqual({ status: 'ok', nodes: 1 });
    } finally {
      await plain.cleanup();
    }
  });
});

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore, LoginTokenStore, openDatabase } from '../../src/store/index.js';
import {
  type CliProcess,
  prepareRouterData,
  runCli,
  startRouterProcess,
  type Workspace,
  workspace,
} from './harness.js';

let ws: Workspace;
let url = '';
let router: CliProcess;
let configDir = '';
const privateKey = generatePrivateKey();
const wallet = privateKeyToAccount(privateKey);
const address = wallet.address.toLowerCase();

beforeAll(async () => {
  ws = await workspace('login');
  await prepareRouterData(ws);
  ({ url, process: router } = await startRouterProcess(ws));
  configDir = join(ws.dir, 'config');
});

afterAll(async () => {
  await ws?.cleanup();
});

/** Runs the CLI to its end with the test's config folder; returns its exit code, stdout and all output. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const run = ws.track(runCli(args, { OTENSOR_CONFIG_DIR: configDir, ...env }));
  const code = await run.exited;
  return { code, stdout: run.stdout(), output: run.output() };
}

const models = (bearer: string) =>
  fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${bearer}` } });
const post = (path: string, body: object) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function challengeFor(who: string): Promise<string> {
  return ((await (await post('/api/auth/challenge', { address: who })).json()) as { challenge: string })
    .challenge;
}

describe('otensor-cli login', () => {
  it('logs in with --key-file, keeps the token 0600, and the token works as an API key', async () => {
    const keyFile = join(ws.dir, 'wallet.key');
    writeFileSync(keyFile, `${privateKey}\n`, { mode: 0o600 });
    const login = await cli(['login', '--router', url, '--key-file', keyFile]);
    expect(login.code, login.output).toBe(0);
    expect(login.stdout.trim()).toBe(address);

    const file = join(configDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      router: string;
      token: string;
      account: string;
    };
    expect(saved).toMatchObject({ router: url, account: address });
    expect(saved.token).toMatch(/^ots-/);

    const answer = await models(saved.token);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { object: string }).object).toBe('list');

    // The key never leaves the CLI: not in its output, not in the router's log, not in the config file.
    const secret = privateKey.slice(2);
    expect(login.output).not.toContain(secret);
    expect(router.output()).not.toContain(secret);
    expect(readFileSync(file, 'utf8')).not.toContain(secret);
  });

  it('warns that --key lands in shell history, and logs in the same account', async () => {
    const login = await cli(['login', '--router', url, '--key', privateKey]);
    expect(login.code, login.output).toBe(0);
    expect(login.output).toMatch(/warning: a private key on the command line lands in your shell history/);
    expect(login.stdout.trim()).toBe(address);
    expect(login.output).not.toContain(privateKey.slice(2));
  });

  it('logs in with OTENSOR_PRIVATE_KEY, and logout ends the token on the router', async () => {
    const login = await cli(['login', '--router', url], { OTENSOR_PRIVATE_KEY: privateKey });
    expect(login.code, login.output).toBe(0);
    const { token } = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { token: string };
    expect((await models(token)).status).toBe(200);

    const logout = await cli(['logout']);
    expect(logout.code, logout.output).toBe(0);
    expect(logout.stdout).toContain(`logged out of ${url}`);
    expect(existsSync(join(configDir, 'config.json'))).toBe(false);
    expect((await models(token)).status).toBe(401);
  });

  it('fails with a clear message when no key is given, and prints nothing secret for a bad key file', async () => {
    const none = await cli(['login', '--router', url]);
    expect(none.code).toBe(1);
    expect(none.output).toMatch(/--key-file FILE \(best\)/);
    const badFile = join(ws.dir, 'bad.key');
    writeFileSync(badFile, 'not-a-key-but-a-secret-phrase\n', { mode: 0o600 });
    const bad = await cli(['login', '--router', url, '--key-file', badFile]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/is not 32 bytes of hex/);
    expect(bad.output).not.toContain('secret-phrase');
  });
});

describe('login over HTTP', () => {
  it('refuses a reused challenge with 401 and says what to do', async () => {
    const challenge = await challengeFor(address);
    const signature = await wallet.signMessage({ message: challenge });
    expect((await post('/api/auth/login', { address, challenge, signature })).status).toBe(200);
    const again = await post('/api/auth/login', { address, challenge, signature });
    expect(again.status).toBe(401);
    const { error } = (await again.json()) as { error: { message: string } };
    expect(error.message).toMatch(/already used.*request a new one with POST \/api\/auth\/challenge/);
  });

  it("refuses another key's signature with 401", async () => {
    const challenge = await challengeFor(address);
    const intruder = privateKeyToAccount(generatePrivateKey());
    const signature = await intruder.signMessage({ message: challenge });
    const answer = await post('/api/auth/login', { address, challenge, signature });
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('login_bad_signature');
  });

  it('answers 400 naming a missing field', async () => {
    const answer = await post('/api/auth/login', { address, challenge: await challengeFor(address) });
    expect(answer.status).toBe(400);
    const { error } = (await answer.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe('signature');
    expect(error.message).toBe("Invalid value for 'signature': is required.");
  });

  it('refuses garbage and expired tokens with 401', async () => {
    expect((await models('ots-garbage')).status).toBe(401);
    // An expired token, written into the running router's store as a week-old login would have left it.
    const db = openDatabase(join(ws.dir, 'router'));
    let token: string;
    try {
      const keyId = new KeyStore(db).loginKeyFor(address);
      token = new LoginTokenStore(db).issue(
        address,
        keyId,
        7 * 86_400_000,
        Date.now() - 8 * 86_400_000,
      ).token;
    } finally {
      db.close();
    }
    const answer = await models(token);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(
      /expired.*otensor-cli login/,
    );
  });
});

describe('otensor-cli keys create', () => {
  it('makes a wallet for a key without --account: private key 0600 in DIR/wallets, address on stderr', async () => {
    const data = join(ws.dir, 'router');
    const created = await cli(['keys', 'create', '--data', data, '--label', 'alice']);
    expect(created.code, created.output).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^ot-\S+$/);
    const account = /account (0x[0-9a-f]{40})/.exec(created.output)?.[1] as string;
    const walletFile = join(data, 'wallets', `${account}.key`);
    expect(readdirSync(join(data, 'wallets'))).toContain(`${account}.key`);
    expect(statSync(walletFile).mode & 0o777).toBe(0o600);
    expect(
      privateKeyToAccount(readFileSync(walletFile, 'utf8').trim() as `0x${string}`).address.toLowerCase(),
    ).toBe(account);
    expect((await models(key)).status).toBe(200);

    const operator = await cli(['keys', 'create', '--data', data, '--account', address, '--operator']);
    expect(operator.code, operator.output).toBe(0);
    expect(operator.output).toContain(`account ${address}, role operator`);
    expect((await models(operator.stdout.trim())).status).toBe(200);
  });
});

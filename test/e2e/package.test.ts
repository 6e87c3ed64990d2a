import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: `npm pack` (which builds dist/ through prepack), then `npm install` of the
// tarball in a scratch project, which imports the SDK, type-checks against its types and runs its CLI.

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
// npm run by `npm test` hands its settings to children as npm_* variables; the scratch npm must not see them
// (a local prefix among them would install into this checkout).
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')));

let dir: string;
let scratch: string;
let router: ChildProcess | undefined;

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env, timeout: 180_000, maxBuffer: 16 << 20 });
  return stdout;
}

async function node(script: string): Promise<string> {
  const options = { cwd: scratch, env, timeout: 30_000 };
  return (await run(process.execPath, ['--input-type=module', '-e', script], options)).stdout;
}

/** Starts the installed CLI's router on a free port; resolves with its URL once it says it listens. */
function startRouter(): Promise<string> {
  const cli = join(scratch, 'node_modules/.bin/otensor-cli');
  const child = spawn(
    process.execPath,
    [cli, 'router', 'start', '--port', '0', '--data', join(dir, 'data')],
    {
      cwd: scratch,
      env: { ...env, OTENSOR_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  router = child;
  let output = '';
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const url = /^router: (\S+)$/m.exec(output)?.[1];
      if (url) done(url);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => fail(new Error(`router exited (${code}) before listening:\n${output}`)));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omnitensor-package-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  await npm(['pack', '--pack-destination', out], repo);
  const tarball = readdirSync(out).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');

  scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  // Tarballs from the cache `npm ci` filled; no install scripts and no optional packages (node-llama-cpp's
  // prebuilt engines are the bulk of them, and nothing here runs a model).
  await npm(
    [
      'install',
      join(out, tarball),
      '--prefer-offline',
      '--ignore-scripts',
      '--omit=optional',
      '--no-audit',
      '--no-fund',
    ],
    scratch,
  );
  // better-sqlite3's native part is built by its install script, skipped above (it would download); the
  // checkout's built copy serves, so the installed router can open its store.
  const sqlite = join(scratch, 'node_modules/better-sqlite3');
  rmSync(sqlite, { recursive: true, force: true });
  symlinkSync(realpathSync(join(repo, 'node_modules/better-sqlite3')), sqlite);
}, 300_000);

afterAll(() => {
  router?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('ships built JavaScript and types, no sources, and no TypeScript loader', async () => {
    const installed = join(scratch, 'node_modules/omnitensor');
    expect(existsSync(join(installed, 'dist/index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const entry = await node(
      "console.log(import.meta.resolve('omnitensor')); await import('tsx').then(() => console.log('tsx found'), () => {});",
    );
    expect(entry).toMatch(/node_modules\/omnitensor\/dist\/index\.js\n$/);
    expect(entry).not.toContain('tsx found');
  });

  it("imports OmniTensor from 'omnitensor' and talks to the installed CLI's router", async () => {
    const url = await startRouter();
    const answer = await node(`
      import { OmniClient, OmniTensor, Validator } from 'omnitensor';
      const client = new OmniTensor({ baseURL: ${JSON.stringify(`${url}/v1`)} });
      const health = await client.health();
      const validator = typeof new Validator({ router: ${JSON.stringify(url)} }).getDataBatch;
      console.log(JSON.stringify({ tensor: typeof OmniTensor, client: client instanceof OmniClient, health, validator }));
    `);
    expect(JSON.parse(answer)).toEqual({
      tensor: 'function',
      client: true,
      health: { status: 'ok', nodes: 0 },
      validator: 'function',
    });
    // The dashboard ships built in the package (web/dist) and its router serves it.
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toContain('<script type="module" src="/app.js">');
    expect((await fetch(`${url}/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it("type-checks a user's TypeScript against the package's types", async () => {
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(repo, 'node_modules/@types')],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(scratch, 'app.ts'),
      [
        "import { type ChatCompletion, OmniClient, OmniTensor } from 'omnitensor';",
        "const client: OmniClient = new OmniTensor({ baseURL: 'http://127.0.0.1:8080/v1', apiKey: 'ot-x' });",
        'export async function ask(): Promise<string | undefined> {',
        "  const answer: ChatCompletion = await client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] });",
        '  return answer.choices[0]?.message.content;',
        '}',
        // Fails the check if the package's types were missing and everything were `any`.
        '// @ts-expect-error baseURL is a string',
        'new OmniTensor({ baseURL: 8080 });',
        '',
      ].join('\n'),
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const errors = await run(process.execPath, [tsc, '-p', scratch], {
      cwd: scratch,
      env,
      timeout: 60_000,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout || String(error),
    );
    expect(errors).toBe('');
  });
});

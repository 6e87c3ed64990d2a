import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configDir, forgetLogin, readLogin, routerAndAuth, saveLogin } from './config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function env() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-config-'));
  dirs.push(dir);
  return { OTENSOR_CONFIG_DIR: join(dir, 'otensor') };
}

const login = {
  router: 'http://127.0.0.1:8080/',
  token: 'ots-abc',
  account: '0x0000000000000000000000000000000000000001',
  expiresAt: 2_000_000_000_000,
};

describe('user config', () => {
  it('lives in $OTENSOR_CONFIG_DIR, else $XDG_CONFIG_HOME/otensor, else ~/.config/otensor', () => {
    expect(configDir({ OTENSOR_CONFIG_DIR: '/a', XDG_CONFIG_HOME: '/b' })).toBe('/a');
    expect(configDir({ XDG_CONFIG_HOME: '/b' })).toBe('/b/otensor');
    expect(configDir({})).toBe(join(homedir(), '.config', 'otensor'));
  });

  it('saves the login readable by the user alone, and forgets it', () => {
    const e = env();
    const file = saveLogin(login, e);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(e.OTENSOR_CONFIG_DIR).mode & 0o777).toBe(0o700);
    expect(readLogin(e)).toEqual({ ...login, router: 'http://127.0.0.1:8080' });
    expect(forgetLogin(e)).toBe(true);
    expect(readLogin(e)).toBeUndefined();
    expect(forgetLogin(e)).toBe(false);
  });

  it('names the file when it is not JSON', () => {
    const e = env();
    const file = saveLogin(login, e);
    writeFileSync(file, '{oops');
    expect(() => readLogin(e)).toThrow(`${file} is not valid JSON`);
  });
});

describe('routerAndAuth', () => {
  const now = 1_900_000_000_000;

  it('uses the saved login when no option says otherwise', () => {
    const e = env();
    saveLogin(login, e);
    expect(routerAndAuth({}, e, now)).toEqual({
      router: 'http://127.0.0.1:8080',
      apiKey: 'ots-abc',
      account: login.account,
    });
    expect(routerAndAuth({ router: 'http://127.0.0.1:8080/' }, e, now).apiKey).toBe('ots-abc');
  });

  it('lets --router and --api-key (or OTENSOR_API_KEY) override the saved login', () => {
    const e = env();
    saveLogin(login, e);
    expect(routerAndAuth({ apiKey: 'ot-key' }, e, now)).toEqual({
      router: 'http://127.0.0.1:8080',
      apiKey: 'ot-key',
      account: null,
    });
    expect(routerAndAuth({ router: 'http://other:1' }, { ...e, OTENSOR_API_KEY: 'ot-env' }, now)).toEqual({
      router: 'http://other:1',
      apiKey: 'ot-env',
      account: null,
    });
  });

  it('never sends the saved token to another router', () => {
    const e = env();
    saveLogin(login, e);
    expect(() => routerAndAuth({ router: 'http://other:1' }, e, now)).toThrow(
      /Not logged in to http:\/\/other:1 \(you are logged in to http:\/\/127\.0\.0\.1:8080 only\): run `otensor-cli login --router http:\/\/other:1`/,
    );
  });

  it('says to log in when there is nothing, or the login expired', () => {
    const e = env();
    expect(() => routerAndAuth({}, e, now)).toThrow(/otensor-cli login --router URL/);
    expect(() => routerAndAuth({ router: 'http://r:1' }, e, now)).toThrow(/run `otensor-cli login/);
    saveLogin(login, e);
    expect(() => routerAndAuth({}, e, login.expiresAt)).toThrow(/expired at .*otensor-cli login/);
  });
});

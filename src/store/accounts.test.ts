import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LoginTokenStore } from './accounts.js';
import { openDatabase } from './database.js';
import { KeyStore } from './keys.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ALICE = '0xAbCdEf0123456789aBcDeF0123456789AbCdEf01';
const DAY = 86_400_000;

function stores() {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-accounts-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  return { dir, db, keys: new KeyStore(db), tokens: new LoginTokenStore(db) };
}

describe('API keys with accounts and roles', () => {
  it('authenticates a key as its account (lowercased) and role', () => {
    const { keys } = stores();
    const user = keys.create('mine', { account: ALICE });
    const operator = keys.create(undefined, { account: ALICE, role: 'operator' });
    expect(keys.authenticate(user.key)).toEqual({
      id: user.id,
      account: ALICE.toLowerCase(),
      role: 'user',
      validation: null,
    });
    expect(keys.authenticate(operator.key)?.role).toBe('operator');
    expect(keys.authenticate(`${user.key}x`)).toBeUndefined();
  });

  it('keeps keys made without an account working, with no account and the user role', () => {
    const { keys } = stores();
    const legacy = keys.create('old');
    expect(keys.authenticate(legacy.key)).toEqual({
      id: legacy.id,
      account: null,
      role: 'user',
      validation: null,
    });
  });

  it('refuses an account that is not an Ethereum address, naming it', () => {
    const { keys } = stores();
    expect(() => keys.create(undefined, { account: '0x1234' })).toThrow(
      /'0x1234' is not an Ethereum address/,
    );
  });

  it('keeps one login key per account, separate from its other keys', () => {
    const { keys } = stores();
    const own = keys.create('laptop', { account: ALICE });
    const first = keys.loginKeyFor(ALICE);
    expect(first).not.toBe(own.id);
    expect(keys.loginKeyFor(ALICE.toLowerCase())).toBe(first);
    expect(keys.loginKeyFor('0x0000000000000000000000000000000000000001')).not.toBe(first);
  });

  it('the schema survives reopening the store (migrations run once)', () => {
    const { dir, db, keys } = stores();
    const { key } = keys.create(undefined, { account: ALICE });
    db.close();
    const again = openDatabase(dir);
    expect(new KeyStore(again).authenticate(key)?.account).toBe(ALICE.toLowerCase());
    again.close();
  });
});

describe('login tokens', () => {
  it('act as the account login key until they expire, and only their sha256 is stored', () => {
    const { db, keys, tokens } = stores();
    const keyId = keys.loginKeyFor(ALICE);
    const now = 1_700_000_000_000;
    const issued = tokens.issue(ALICE, keyId, 7 * DAY, now);
    expect(issued.token).toMatch(/^ots-[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresAt).toBe(now + 7 * DAY);
    expect(tokens.authenticate(issued.token, now + DAY)).toEqual({
      id: keyId,
      account: ALICE.toLowerCase(),
      role: 'user',
      validation: null,
    });
    expect(tokens.authenticate(issued.token, now + 7 * DAY)).toBeUndefined();
    const stored = db.prepare('SELECT * FROM login_tokens').all() as Record<string, unknown>[];
    expect(JSON.stringify(stored)).not.toContain(issued.token.slice(4));
  });

  it('end on logout, and when their key is revoked', () => {
    const { db, keys, tokens } = stores();
    const keyId = keys.loginKeyFor(ALICE);
    const a = tokens.issue(ALICE, keyId, DAY);
    const b = tokens.issue(ALICE, keyId, DAY);
    expect(tokens.revoke(a.token)).toBe(true);
    expect(tokens.revoke(a.token)).toBe(false);
    expect(tokens.authenticate(a.token)).toBeUndefined();
    expect(tokens.authenticate(b.token)?.id).toBe(keyId);
    db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(Date.now(), keyId);
    expect(tokens.authenticate(b.token)).toBeUndefined();
  });

  it('prune deletes expired tokens only', () => {
    const { keys, tokens } = stores();
    const keyId = keys.loginKeyFor(ALICE);
    tokens.issue(ALICE, keyId, 1000, 0);
    const live = tokens.issue(ALICE, keyId, DAY, 0);
    expect(tokens.prune(5000)).toBe(1);
    expect(tokens.authenticate(live.token, 5000)?.id).toBe(keyId);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyStore, LoginTokenStore, openDatabase } from '../../store/index.js';
import { bearerAuth } from './auth.js';
import { createErrorHandler } from './http-errors.js';
import { LoginChallenges, loginRoutes, TooManyChallengesError } from './login-routes.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A router with only the login routes and one authenticated route that says who the caller is. */
function router(init: { tokenTtlMs?: number; maxPendingChallenges?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-login-'));
  const db = openDatabase(dir);
  const keys = new KeyStore(db);
  const loginTokens = new LoginTokenStore(db);
  const clock = { now: 1_700_000_000_000 };
  const app = Fastify();
  app.setErrorHandler(createErrorHandler(() => {}));
  app.register(async (open) => loginRoutes(open, { keys, loginTokens }, { ...init, now: () => clock.now }));
  app.register(async (api) => {
    api.addHook('onRequest', bearerAuth({ keys, loginTokens, now: () => clock.now }));
    api.get('/whoami', async (request) => ({
      keyId: request.keyId,
      account: request.account,
      operator: request.operator,
    }));
  });
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
  const whoami = (bearer: string) =>
    app.inject({ method: 'GET', url: '/whoami', headers: { authorization: `Bearer ${bearer}` } });
  return { app, keys, clock, post, whoami };
}

async function signedLogin(r: ReturnType<typeof router>, key = generatePrivateKey()) {
  const wallet = privateKeyToAccount(key);
  const { challenge } = (await r.post('/api/auth/challenge', { address: wallet.address })).json() as {
    challenge: string;
  };
  const signature = await wallet.signMessage({ message: challenge });
  return { wallet, challenge, signature, address: wallet.address };
}

describe('wallet login', () => {
  it('trades a signed challenge for a token that authenticates as the account', async () => {
    const r = router();
    const wallet = privateKeyToAccount(generatePrivateKey());
    const answer = await r.post('/api/auth/challenge', { address: wallet.address });
    expect(answer.statusCode).toBe(200);
    const { challenge, expires_at } = answer.json() as { challenge: string; expires_at: number };
    expect(challenge).toMatch(/^OmniTensor login\nRouter: http:\/\/localhost/);
    expect(challenge).toContain(`Account: ${wallet.address.toLowerCase()}`);
    expect(expires_at).toBe(Math.floor((r.clock.now + 5 * 60_000) / 1000));
    const signature = await wallet.signMessage({ message: challenge });
    const login = await r.post('/api/auth/login', { address: wallet.address, challenge, signature });
    expect(login.statusCode).toBe(200);
    const { token, account } = login.json() as { token: string; account: string };
    expect(token).toMatch(/^ots-/);
    expect(account).toBe(wallet.address.toLowerCase());
    const me = (await r.whoami(token)).json() as { keyId: string; account: string; operator: boolean };
    expect(me).toEqual({ keyId: r.keys.loginKeyFor(account), account, operator: false });
  });

  it('two logins of one account act as the same key, so its tasks and batches stay its own', async () => {
    const r = router();
    const key = generatePrivateKey();
    const first = await signedLogin(r, key);
    const second = await signedLogin(r, key);
    const tokens = await Promise.all(
      [first, second].map(
        async (l) => ((await r.post('/api/auth/login', l)).json() as { token: string }).token,
      ),
    );
    const ids = await Promise.all(
      tokens.map(async (t) => ((await r.whoami(t as string)).json() as { keyId: string }).keyId),
    );
    expect(ids[0]).toBe(ids[1]);
  });

  it('refuses a reused challenge, another key signature, and an address the challenge was not for', async () => {
    const r = router();
    const ok = await signedLogin(r);
    expect((await r.post('/api/auth/login', ok)).statusCode).toBe(200);
    const reused = await r.post('/api/auth/login', ok);
    expect(reused.statusCode).toBe(401);
    expect(reused.json().error).toMatchObject({ code: 'login_unknown_challenge' });
    expect(reused.json().error.message).toMatch(/already used.*POST \/api\/auth\/challenge/);

    const mine = await signedLogin(r);
    const other = privateKeyToAccount(generatePrivateKey());
    const forged = await r.post('/api/auth/login', {
      ...mine,
      signature: await other.signMessage({ message: mine.challenge }),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('login_bad_signature');

    const theirs = await signedLogin(r);
    const swapped = await r.post('/api/auth/login', { ...theirs, address: other.address });
    expect(swapped.statusCode).toBe(401);
    expect(swapped.json().error.code).toBe('login_address_mismatch');
  });

  it('refuses a challenge signed after it expired', async () => {
    const r = router();
    const late = await signedLogin(r);
    r.clock.now += 5 * 60_000;
    const answer = await r.post('/api/auth/login', late);
    expect(answer.statusCode).toBe(401);
    expect(answer.json().error.code).toBe('login_challenge_expired');
  });

  it('answers 400 naming the missing or malformed field', async () => {
    const r = router();
    const { address, challenge } = await signedLogin(r);
    const missing = await r.post('/api/auth/login', { address, challenge });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ param: 'signature', code: 'invalid_parameter' });
    expect(missing.json().error.message).toContain("'signature'");
    const bad = await r.post('/api/auth/challenge', { address: '0x12' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.param).toBe('address');
  });

  it('tokens stop working when they expire and after logout', async () => {
    const r = router({ tokenTtlMs: 60_000 });
    const login = await signedLogin(r);
    const { token } = (await r.post('/api/auth/login', login)).json() as { token: string };
    r.clock.now += 60_000;
    const expired = await r.whoami(token);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toMatch(/otensor-cli login/);
    expect((await r.whoami('ots-garbage')).statusCode).toBe(401);
    expect((await r.whoami('ot-garbage')).json().error.message).toBe('Unknown or revoked API key.');

    const r2 = router();
    const fresh = (await r2.post('/api/auth/login', await signedLogin(r2))).json() as { token: string };
    expect((await r2.whoami(fresh.token)).statusCode).toBe(200);
    const logout = await r2.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { authorization: `Bearer ${fresh.token}` },
    });
    expect(logout.json()).toEqual({ revoked: true });
    expect((await r2.whoami(fresh.token)).statusCode).toBe(401);
  });

  it('reports operator keys on the request', async () => {
    const r = router();
    const { key } = r.keys.create(undefined, {
      account: '0x0000000000000000000000000000000000000001',
      role: 'operator',
    });
    expect((await r.whoami(key)).json()).toMatchObject({
      account: '0x0000000000000000000000000000000000000001',
      operator: true,
    });
  });
});

describe('pending challenges', () => {
  it('are bounded: past the limit new ones are refused and live ones kept', () => {
    const challenges = new LoginChallenges(60_000, 3);
    const texts = [0, 1, 2].map((i) => challenges.issue('http://r', `0x${i}`, 1000 + i, `c${i}`).text);
    expect(() => challenges.issue('http://r', '0x3', 1003, 'c3')).toThrow(TooManyChallengesError);
    expect(challenges.size).toBe(3);
    // An expired one makes room once the limit is reached.
    expect(challenges.issue('http://r', '0x3', 61_000, 'c3').text).toContain('0x3');
    expect(challenges.take(texts[0] as string)).toBeUndefined();
    expect(challenges.take(texts[1] as string)?.account).toBe('0x1');
  });

  it('are bounded per client and per account', () => {
    const challenges = new LoginChallenges(60_000, 100, { perClient: 2, perAccount: 2 });
    challenges.issue('http://r', '0x1', 0, 'a');
    challenges.issue('http://r', '0x2', 0, 'a');
    expect(() => challenges.issue('http://r', '0x3', 0, 'a')).toThrow(/this client address/);
    challenges.issue('http://r', '0x1', 0, 'b');
    expect(() => challenges.issue('http://r', '0x1', 0, 'c')).toThrow(/0x1/);
    expect(challenges.issue('http://r', '0x1', 60_000, 'c').text).toContain('0x1'); // the first two expired
  });

  it('forget long-expired ones as new ones come', () => {
    const challenges = new LoginChallenges(1000, 100);
    for (let i = 0; i < 10; i++) challenges.issue('http://r', `0x${i}`, i, `c${i}`);
    challenges.issue('http://r', '0x1', 5000);
    expect(challenges.size).toBe(1);
  });
});

describe('a challenge flood', () => {
  it("does not evict a real user's pending challenge, from one client or from many", async () => {
    const r = router({ maxPendingChallenges: 50 });
    const challenge = (address: string, remoteAddress: string) =>
      r.app.inject({ method: 'POST', url: '/api/auth/challenge', payload: { address }, remoteAddress });
    const user = privateKeyToAccount(generatePrivateKey());
    const asked = await challenge(user.address, '10.0.0.9');
    const { challenge: text } = asked.json() as { challenge: string };
    const stranger = (i: number) => `0x${i.toString(16).padStart(40, '0')}`;
    const fromOne = await Promise.all(
      Array.from({ length: 100 }, (_, i) => challenge(stranger(i), '10.6.6.6')),
    );
    const refused = fromOne.filter((a) => a.statusCode === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.headers['retry-after']).toBeDefined();
    expect(refused[0]?.json().error.code).toBe('too_many_challenges');
    const fromMany = await Promise.all(
      Array.from({ length: 100 }, (_, i) => challenge(stranger(1000 + i), `10.7.${i >> 8}.${i & 255}`)),
    );
    expect(fromMany.some((a) => a.statusCode === 429)).toBe(true);
    const signature = await user.signMessage({ message: text });
    const login = await r.post('/api/auth/login', { address: user.address, challenge: text, signature });
    expect(login.statusCode).toBe(200);
  });

  it('is bounded per address, whatever the number of clients', async () => {
    const r = router();
    const address = privateKeyToAccount(generatePrivateKey()).address;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        r.app.inject({
          method: 'POST',
          url: '/api/auth/challenge',
          payload: { address },
          remoteAddress: `10.8.0.${i}`,
        }),
      ),
    );
    expect(answers.filter((a) => a.statusCode === 200).length).toBeLessThan(20);
    expect(answers.some((a) => a.statusCode === 429)).toBe(true);
  });
});

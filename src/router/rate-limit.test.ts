import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseRate, RateLimiter } from './rate-limit.js';
import { buildRouter, type RouterInit } from './server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('RateLimiter', () => {
  it('lets a burst through, refuses past it with the seconds to wait, and refills at the rate', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => clock.now });
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0); // buckets are per key
    clock.now = 500; // half a second at 2/s gives one token back
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0 });
    for (let i = 0; i < 1000; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('stays bounded in keys without resetting the busy ones first', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 10, now: () => clock.now });
    expect(limiter.take('busy')).toBe(0);
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10);
  });

  it('parses rate flags', () => {
    expect(parseRate('100', '--rate-limit')).toBe(100);
    expect(parseRate('100/s', '--rate-limit')).toBe(100);
    expect(parseRate('600/m', '--rate-limit')).toBe(10);
    expect(parseRate('0', '--rate-limit')).toBe(0);
    expect(() => parseRate('fast', '--rate-limit')).toThrow(/--rate-limit takes a rate/);
  });
});

function router(init: Partial<RouterInit>) {
  const dir = mkdtempSync(join(tmpdir(), 'otensor-limits-'));
  const logs: { message: string; fields: unknown }[] = [];
  const r = buildRouter({
    dataDir: dir,
    queueLimit: 10,
    maxAttempts: 1,
    heartbeatMs: 60_000,
    leaseGraceMs: 1000,
    defaultMaxTokens: 8,
    bodyLimitBytes: 1 << 20,
    batchWindowMs: 60_000,
    verifyThreads: 0,
    log: (_level, message, fields) => logs.push({ message, fields }),
    ...init,
  });
  cleanups.push(async () => {
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...r, logs };
}

const ADDRESS = `0x${'ab'.repeat(20)}`;

describe('router rate limits', () => {
  it('answers 429 with Retry-After, in OpenAI error shape, past a client address rate', async () => {
    const { app } = router({ rateLimitIp: 1 });
    const challenge = (remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/challenge',
        payload: { address: ADDRESS },
        remoteAddress,
      });
    expect((await challenge('10.0.0.1')).statusCode).toBe(200);
    expect((await challenge('10.0.0.1')).statusCode).toBe(200);
    const refused = await challenge('10.0.0.1');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    expect((await challenge('10.0.0.2')).statusCode).toBe(200); // another client is not affected
  });

  it('limits each account, and counts failed authentications against the address', async () => {
    const { app, services } = router({ rateLimit: 1, rateLimitIp: 1 });
    const { key } = services.keys.create('test', { account: ADDRESS });
    const get = (authorization: string) =>
      app.inject({ method: 'GET', url: '/api/accounts/me', headers: { authorization } });
    expect((await get(`Bearer ${key}`)).statusCode).toBe(200);
    expect((await get(`Bearer ${key}`)).statusCode).toBe(200);
    const refused = await get(`Bearer ${key}`);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await get('Bearer ot-guess1')).statusCode).toBe(401);
    expect((await get('Bearer ot-guess2')).statusCode).toBe(401);
    expect((await get('Bearer ot-guess3')).statusCode).toBe(429);
  });

  it('rejects and disconnects a node that sends more messages than its budget', async () => {
    const r = router({ nodeMessageBudget: 1 });
    await r.app.listen({ port: 0, host: '127.0.0.1' });
    const address = r.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/nodes/ws`);
    const rejects: string[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; reason?: string };
      if (message.type === 'reject' && message.reason) rejects.push(message.reason);
    });
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    for (let i = 0; i < 10; i++) socket.send(JSON.stringify({ type: 'heartbeat' }));
    expect(await closed).toBe(4008);
    expect(rejects.some((reason) => reason.startsWith('message budget exceeded'))).toBe(true);
    expect(r.logs.some((l) => l.message === 'node over its message budget; disconnecting')).toBe(true);
  });
});

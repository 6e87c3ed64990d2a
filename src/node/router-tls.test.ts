import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../../test/certificate.js';
import { certificateProblem } from '../models/index.js';
import { loadRouterTrust, parseFingerprint, routerFetch } from './router-tls.js';

let dir: string;
let certificate: TestCertificate;
let other: TestCertificate;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otensor-tls-'));
  certificate = makeCertificate(dir);
  other = makeCertificate(dir, 'other');
  server = createServer({ cert: certificate.cert, key: certificate.key }, (request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ path: request.url, range: request.headers.range ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('parseFingerprint', () => {
  it('takes openssl, browser and plain hex forms', () => {
    const hex = certificate.fingerprint.replace(/:/g, '').toLowerCase();
    expect(parseFingerprint(certificate.fingerprint)).toBe(hex);
    expect(parseFingerprint(`sha256 Fingerprint=${certificate.fingerprint}`)).toBe(hex);
    expect(parseFingerprint(hex.toUpperCase())).toBe(hex);
    expect(() => parseFingerprint('abcd')).toThrow(/--router-fingerprint takes .*64 hex digits/);
  });
});

describe('loadRouterTrust', () => {
  it('refuses a CA or pin for a plain http router, and names an unreadable CA file', () => {
    expect(() =>
      loadRouterTrust({ routerUrl: 'http://127.0.0.1:1', routerCa: certificate.certFile }),
    ).toThrow(/plain http/);
    const missing = join(dir, 'missing.pem');
    expect(() => loadRouterTrust({ routerUrl: url, routerCa: missing })).toThrow(
      `Cannot read the CA certificate ${missing} given to --router-ca (ENOENT).`,
    );
    expect(loadRouterTrust({ routerUrl: url })).toBeUndefined();
  });
});

describe('routerFetch', () => {
  it('reaches a router whose certificate the given CA signed, headers and all', async () => {
    const fetcher = routerFetch(loadRouterTrust({ routerUrl: url, routerCa: certificate.certFile }) ?? {});
    const response = await fetcher(`${url}/api/models`, { headers: { range: 'bytes=5-' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ path: '/api/models', range: 'bytes=5-' });
  });

  it('accepts a self-signed router by its pinned fingerprint alone', async () => {
    const fetcher = routerFetch({ fingerprint: parseFingerprint(certificate.fingerprint) });
    expect((await fetcher(`${url}/x`)).status).toBe(200);
  });

  it('refuses a router whose certificate is not the pinned one, saying both fingerprints', async () => {
    const fetcher = routerFetch({ ca: certificate.cert, fingerprint: parseFingerprint(other.fingerprint) });
    const error = await fetcher(`${url}/x`).catch((e: unknown) => e);
    expect(certificateProblem(error)).toContain(
      `fingerprint ${certificate.fingerprint}, not the pinned ${other.fingerprint}`,
    );
  });

  it('refuses a certificate no trusted CA signed (the global fetch too), as a certificate problem', async () => {
    const wrongCa = routerFetch({ ca: other.cert });
    expect(certificateProblem(await wrongCa(`${url}/x`).catch((e: unknown) => e))).toBeDefined();
    expect(certificateProblem(await fetch(`${url}/x`).catch((e: unknown) => e))).toBeDefined();
  });
});

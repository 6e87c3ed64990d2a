import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '../../test/certificate.js';
import { readTlsFiles } from './tls.js';

const dir = mkdtempSync(join(tmpdir(), 'otensor-router-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('router TLS settings', () => {
  it('reads a certificate and its key', () => {
    const certificate = makeCertificate(dir);
    expect(readTlsFiles(certificate)).toEqual({ cert: certificate.cert, key: certificate.key });
  });

  it('names the file it cannot read, or that is not PEM', () => {
    const certificate = makeCertificate(dir, 'named');
    const missing = join(dir, 'nope.pem');
    expect(() => readTlsFiles({ certFile: missing, keyFile: certificate.keyFile })).toThrow(
      `Cannot read the TLS certificate ${missing} given to --tls-cert (ENOENT).`,
    );
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    expect(() => readTlsFiles({ certFile: certificate.certFile, keyFile: garbage })).toThrow(
      `The TLS private key ${garbage} given to --tls-key is not PEM`,
    );
  });

  it("refuses a key that is not the certificate's", () => {
    const one = makeCertificate(dir, 'one');
    const two = makeCertificate(dir, 'two');
    expect(() => readTlsFiles({ certFile: one.certFile, keyFile: two.keyFile })).toThrow(
      /cannot be used together/,
    );
  });
});

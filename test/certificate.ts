import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type TestCertificate = {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  fingerprint: string;
};

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made with the openssl command line (Node has
 * no X.509 writer). Being self-signed, it is also the CA a node passes to --router-ca.
 */
export function makeCertificate(dir: string, name = 'router'): TestCertificate {
  const certFile = join(dir, `${name}.cert.pem`);
  const keyFile = join(dir, `${name}.key.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name} test`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  const cert = readFileSync(certFile);
  return {
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile),
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}

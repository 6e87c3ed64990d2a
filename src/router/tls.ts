import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** Where the router's certificate (chain) and private key are, both PEM. */
export type TlsFiles = { certFile: string; keyFile: string };
/** What fastify's `https` option takes. */
export type TlsMaterial = { cert: Buffer; key: Buffer };

/**
 * Reads the router's certificate and key and checks that they belong together, so a wrong file fails at
 * start with its name instead of at the first client's handshake.
 */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const cert = readPem(files.certFile, '--tls-cert', 'certificate');
  const key = readPem(files.keyFile, '--tls-key', 'private key');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(
      `The TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used together (${error instanceof Error ? error.message : String(error)}). Pass the certificate (PEM, the server's first, then any intermediates) to --tls-cert and its own private key (PEM) to --tls-key.`,
    );
  }
  return { cert, key };
}

function readPem(file: string, flag: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`Cannot read the TLS ${what} ${file} given to ${flag} (${code ?? String(error)}).`);
  }
  if (!bytes.toString('latin1').includes('-----BEGIN '))
    throw new Error(`The TLS ${what} ${file} given to ${flag} is not PEM (no '-----BEGIN' line).`);
  return bytes;
}

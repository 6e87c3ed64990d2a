import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * What a node trusts for an https/wss router beyond the system's roots: a CA (for a private or self-signed
 * certificate) and/or the SHA-256 fingerprint of the one certificate it accepts. With a pin alone the chain
 * is not checked (a self-signed certificate works), the pin is; with both, both are.
 */
export type RouterTrust = { ca?: Buffer; fingerprint?: string };

/** The router's certificate is not the pinned one. Retrying cannot help, so the node stops and says so. */
export class RouterFingerprintError extends Error {
  readonly code = 'ERR_ROUTER_FINGERPRINT';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `the router's certificate has SHA-256 fingerprint ${colons(actual)}, not the pinned ${colons(expected)} (--router-fingerprint): refusing to connect. If the router changed its certificate, pin the new one; otherwise something between this node and the router is answering in its name.`,
    );
    this.name = 'RouterFingerprintError';
  }
}

/** A fingerprint as `openssl x509 -fingerprint -sha256` or a browser shows it, or plain hex, as lower-case hex. */
export function parseFingerprint(text: string): string {
  const hex = text
    .trim()
    .replace(/^sha256(\s+fingerprint)?\s*[=:]\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new Error(
      `--router-fingerprint takes the router certificate's SHA-256 fingerprint (64 hex digits, colons allowed), e.g. from \`openssl x509 -in cert.pem -noout -fingerprint -sha256\`; got '${text}'.`,
    );
  return hex;
}

/** Reads `--router-ca` and parses `--router-fingerprint`; checks they come with an https/wss router URL. */
export function loadRouterTrust(options: {
  routerUrl: string;
  routerCa?: string | undefined;
  routerFingerprint?: string | undefined;
}): RouterTrust | undefined {
  if (options.routerCa === undefined && options.routerFingerprint === undefined) return undefined;
  if (new URL(options.routerUrl).protocol !== 'https:')
    throw new Error(
      `--router-ca and --router-fingerprint check an encrypted router, but ${options.routerUrl} is plain http: use its https:// (or wss://) URL.`,
    );
  const trust: RouterTrust = {};
  if (options.routerCa !== undefined) {
    try {
      trust.ca = readFileSync(options.routerCa);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        `Cannot read the CA certificate ${options.routerCa} given to --router-ca (${code ?? error}).`,
      );
    }
    if (!trust.ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`The CA file ${options.routerCa} given to --router-ca holds no PEM certificate.`);
  }
  if (options.routerFingerprint !== undefined)
    trust.fingerprint = parseFingerprint(options.routerFingerprint);
  return trust;
}

/**
 * Opens a TLS connection that trusts the router's CA and checks the pin as soon as the handshake ends,
 * before the node reads a byte from it. Only a request line goes out first (a GET of the gateway or a
 * model file): a node holds no user's secrets to leak, and its signed hello waits for the router's challenge.
 */
export function connectToRouter(trust: RouterTrust) {
  return (options: ConnectionOptions): TLSSocket => {
    const host = options.host ?? 'localhost';
    const socket = tlsConnect({
      ...options,
      ...(trust.ca ? { ca: trust.ca } : {}),
      // A pin alone is the whole check: the certificate may be self-signed.
      rejectUnauthorized: trust.ca !== undefined || trust.fingerprint === undefined,
      // SNI takes host names only (RFC 6066), not addresses.
      servername: options.servername ?? (isIP(host) ? '' : host),
    });
    const expected = trust.fingerprint;
    if (expected)
      socket.once('secureConnect', () => {
        const actual = socket.getPeerCertificate().fingerprint256?.replace(/:/g, '').toLowerCase() ?? '';
        if (actual !== expected) socket.destroy(new RouterFingerprintError(expected, actual));
      });
    return socket;
  };
}

/** Options for `new WebSocket(url, ...)` that check the router as `connectToRouter` does. */
export function routerSocketOptions(trust: RouterTrust | undefined): { createConnection?: unknown } {
  return trust ? { createConnection: connectToRouter(trust) } : {};
}

/**
 * A fetch (GET and HEAD, as the node uses it: the model catalog and model files) that checks the router's
 * certificate as `connectToRouter` does. The global fetch cannot take a CA or a pin without the undici
 * package, so this one speaks node:https and hands back a standard Response.
 */
export function routerFetch(trust: RouterTrust): typeof fetch {
  const connect = connectToRouter(trust);
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const method = init.method ?? 'GET';
    return new Promise<Response>((resolve, reject) => {
      const request = httpsRequest(
        url,
        {
          method,
          headers: Object.fromEntries(new Headers(init.headers)),
          createConnection: connect as never,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          const status = response.statusCode ?? 502;
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers))
            for (const one of [value ?? []].flat()) headers.append(name, one);
          const bodiless = method === 'HEAD' || status === 204 || status === 304;
          if (bodiless) response.resume();
          resolve(
            new Response(bodiless ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
              status,
              statusText: response.statusMessage ?? '',
              headers,
            }),
          );
        },
      );
      request.on('error', (error) =>
        reject(init.signal?.aborted ? init.signal.reason : new TypeError('fetch failed', { cause: error })),
      );
      request.end();
    });
  };
}

const colons = (hex: string) => (hex.match(/../g) ?? []).join(':').toUpperCase();

import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '../protocol/index.js';
import type { KeyStore } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    keyId: string;
  }
}

/** Checks `Authorization: Bearer <key>` and records the key's id on the request. */
export function bearerAuth(keys: KeyStore) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (!header)
      throw new AuthenticationError(
        'Missing API key: send "Authorization: Bearer <key>". Create one with `otensor-cli keys create`.',
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const keyId = match?.[1] ? keys.authenticate(match[1]) : undefined;
    if (!keyId) throw new AuthenticationError('Unknown or revoked API key.');
    request.keyId = keyId;
  };
}

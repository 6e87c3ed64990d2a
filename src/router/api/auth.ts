import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '../../protocol/index.js';
import {
  type KeyIdentity,
  type KeyStore,
  LOGIN_TOKEN_PREFIX,
  type LoginTokenStore,
} from '../../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request acts as (a login token acts as its account's login key). */
    keyId: string;
    /** The key's account (lowercase address); null for keys made without one. */
    account: string | null;
    /** Whether the key has the operator role. */
    operator: boolean;
    /** The key's default validation level, or null for the router's. */
    keyValidation: string | null;
  }
}

export type BearerAuthComponents = {
  keys: KeyStore;
  loginTokens: LoginTokenStore;
  now?: (() => number) | undefined;
};

/** The bearer credential of an Authorization header, if it has one. */
export function bearerOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1];
}

/**
 * Checks `Authorization: Bearer <API key or login token>` and records who it is on the request: `keyId`,
 * `account` and `operator`.
 */
export function bearerAuth(components: BearerAuthComponents) {
  const now = components.now ?? Date.now;
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (!header)
      throw new AuthenticationError(
        'Missing API key: send "Authorization: Bearer <key>". Create one with `otensor-cli keys create`, or log in with `otensor-cli login`.',
      );
    const credential = bearerOf(header);
    let identity: KeyIdentity | undefined;
    if (credential?.startsWith(LOGIN_TOKEN_PREFIX)) {
      identity = components.loginTokens.authenticate(credential, now());
      if (!identity)
        throw new AuthenticationError(
          'The login token is unknown, expired or logged out: log in again with `otensor-cli login --router URL`.',
        );
    } else {
      identity = credential ? components.keys.authenticate(credential) : undefined;
      if (!identity) throw new AuthenticationError('Unknown or revoked API key.');
    }
    request.keyId = identity.id;
    request.account = identity.account;
    request.operator = identity.role === 'operator';
    request.keyValidation = identity.validation;
  };
}

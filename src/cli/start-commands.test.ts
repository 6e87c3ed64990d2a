import { describe, expect, it } from 'vitest';
import { tlsFlags } from './start-commands.js';

describe('router start flags', () => {
  it('takes --tls-cert and --tls-key together or not at all', () => {
    expect(tlsFlags({})).toEqual({});
    expect(() => tlsFlags({ tlsCert: 'c.pem' })).toThrow(/only --tls-cert was given/);
    expect(() => tlsFlags({ tlsKey: 'k.pem' })).toThrow(/only --tls-key was given/);
    expect(tlsFlags({ tlsCert: '/a/c.pem', tlsKey: '/a/k.pem' })).toEqual({
      tls: { certFile: '/a/c.pem', keyFile: '/a/k.pem' },
    });
  });
});

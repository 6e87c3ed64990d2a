import { describe, expect, it } from 'vitest';
import { routerBaseUrl } from './router-url.js';

describe('routerBaseUrl', () => {
  it('keeps http(s) URLs, less trailing slashes', () => {
    expect(routerBaseUrl('https://router.example:8443/')).toBe('https://router.example:8443');
    expect(routerBaseUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });

  it('maps the gateway address to the API base: wss to https, ws to http', () => {
    expect(routerBaseUrl('wss://router.example/nodes/ws')).toBe('https://router.example');
    expect(routerBaseUrl('WSS://router.example:8443/otensor/')).toBe('https://router.example:8443/otensor');
    expect(routerBaseUrl('ws://127.0.0.1:8080/nodes/ws/')).toBe('http://127.0.0.1:8080');
  });
});

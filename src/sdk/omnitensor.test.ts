import { afterEach, describe, expect, it, vi } from 'vitest';
import { OmniClient } from './client.js';
import { OmniTensor } from './omnitensor.js';

/** A fetch that records the URLs and authorization headers it is asked for and answers a health body. */
function recordingFetch() {
  const calls: { url: string; authorization: string | undefined }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url: String(input), authorization: headers.authorization });
    return Response.json({ status: 'ok', nodes: 2 });
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

describe('OmniTensor', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("takes an OpenAI client's baseURL (ending in /v1) and reaches the router's own paths", async () => {
    const { calls, fetch } = recordingFetch();
    const client = new OmniTensor({ baseURL: 'http://127.0.0.1:8080/v1/', apiKey: 'ot-key', fetch });
    expect(client).toBeInstanceOf(OmniClient);
    expect(await client.health()).toEqual({ status: 'ok', nodes: 2 });
    expect(calls).toEqual([{ url: 'http://127.0.0.1:8080/health', authorization: 'Bearer ot-key' }]);
  });

  it('reads the router and the key from OTENSOR_BASE_URL and OTENSOR_API_KEY when not given', async () => {
    vi.stubEnv('OTENSOR_BASE_URL', 'https://router.example:8443');
    vi.stubEnv('OTENSOR_API_KEY', 'ot-env');
    const { calls, fetch } = recordingFetch();
    await new OmniTensor({ fetch }).models();
    expect(calls).toEqual([{ url: 'https://router.example:8443/v1/models', authorization: 'Bearer ot-env' }]);
  });

  it('says which setting is missing when there is no router address', () => {
    vi.stubEnv('OTENSOR_BASE_URL', '');
    expect(() => new OmniTensor()).toThrow(/baseURL/);
  });
});

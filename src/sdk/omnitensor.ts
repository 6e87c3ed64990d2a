import { OmniError } from '../protocol/index.js';
import { OmniClient } from './client.js';

export type OmniTensorOptions = {
  /**
   * The router, e.g. `http://127.0.0.1:8080`. The URL given to an OpenAI client (ending in `/v1`) works too.
   * Default: the `OTENSOR_BASE_URL` environment variable.
   */
  baseURL?: string;
  /** An API key or login token. Default: the `OTENSOR_API_KEY` environment variable. */
  apiKey?: string;
  fetch?: typeof fetch;
};

/**
 * The SDK's entry: `new OmniTensor({ baseURL, apiKey })`, spelled as OpenAI's client is, with OmniClient's
 * methods (chat, chatStream, sessions, batches, ledger). It is an OmniClient, so there is one surface to keep
 * complete; for OpenAI's own call shapes, point the `openai` package at the same router's `/v1`.
 */
export class OmniTensor extends OmniClient {
  constructor(options: OmniTensorOptions = {}) {
    const env = globalThis.process?.env ?? {};
    const baseURL = options.baseURL ?? env.OTENSOR_BASE_URL;
    if (!baseURL) throw new OmniError('missing_base_url', 'OmniTensor needs baseURL (or OTENSOR_BASE_URL)');
    const apiKey = options.apiKey ?? env.OTENSOR_API_KEY;
    super({
      // The router serves /v1 and /api side by side, so a URL ending in /v1 names the router itself.
      baseUrl: baseURL.trim().replace(/\/+$/, '').replace(/\/v1$/, ''),
      ...(apiKey ? { apiKey } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
}

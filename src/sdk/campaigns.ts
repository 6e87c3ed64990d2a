import {
  type CampaignView,
  type CreateCampaignRequest,
  type DataBatchView,
  type DataLeaderboardView,
  type ExportView,
  type ItemStatusView,
  type ListView,
  type ReviewerStandingView,
  type ReviewResultRequest,
  type ReviewSubmitView,
  routerBaseUrl,
  type UploadView,
} from '../protocol/index.js';
import { apiErrorOf } from './api-error.js';

export type CampaignClientOptions = { baseUrl: string; apiKey?: string; fetch?: typeof fetch };

/** What an upload body may be: bytes, or a web stream (sent as it is read, in constant memory). */
export type UploadBody = Uint8Array | Blob | ReadableStream<Uint8Array>;

export type DataRewardsView = {
  object: 'data_rewards';
  wallet: string;
  contributions: string;
  reviews: string;
  items_paid: number;
  reviews_paid: number;
};

const enc = encodeURIComponent;

/** A typed client for a router's data campaigns (`/api/campaigns`); failures are ApiError like OmniClient's. */
export class CampaignClient {
  readonly #options: CampaignClientOptions;

  constructor(options: CampaignClientOptions) {
    this.#options = { ...options, baseUrl: routerBaseUrl(options.baseUrl) };
  }

  /** Creates a campaign; its budget is escrowed from the caller's balance. */
  async create(params: CreateCampaignRequest, signal?: AbortSignal): Promise<CampaignView> {
    return this.#json('POST', '/api/campaigns', params, signal);
  }

  async list(signal?: AbortSignal): Promise<ListView<CampaignView>> {
    return this.#json('GET', '/api/campaigns', undefined, signal);
  }

  async get(id: string, signal?: AbortSignal): Promise<CampaignView> {
    return this.#json('GET', `/api/campaigns/${enc(id)}`, undefined, signal);
  }

  /** Closes a campaign (its owner): what is left of the budget goes back. */
  async close(id: string, signal?: AbortSignal): Promise<CampaignView> {
    return this.#json('POST', `/api/campaigns/${enc(id)}/close`, {}, signal);
  }

  /** Uploads one item (a file's bytes, streamed); `name` is kept as the item's name. */
  async uploadItem(
    id: string,
    body: UploadBody,
    options: { name?: string; signal?: AbortSignal } = {},
  ): Promise<UploadView> {
    return this.#upload(id, body, 'application/octet-stream', options);
  }

  /** Uploads JSONL records, one item a line (a text campaign's line is `{"text": "..."}`). */
  async uploadJsonl(
    id: string,
    body: UploadBody,
    options: { name?: string; signal?: AbortSignal } = {},
  ): Promise<UploadView> {
    return this.#upload(id, body, 'application/x-ndjson', options);
  }

  /** The caller's items in a campaign with their states and reasons. */
  async items(id: string, signal?: AbortSignal): Promise<ListView<ItemStatusView>> {
    return this.#json('GET', `/api/campaigns/${enc(id)}/items`, undefined, signal);
  }

  /** Leases a batch of items to review (gold items mixed in unseen). */
  async batch(id: string, size?: number, signal?: AbortSignal): Promise<DataBatchView> {
    return this.#json(
      'POST',
      `/api/campaigns/${enc(id)}/batches`,
      size === undefined ? {} : { size },
      signal,
    );
  }

  /** Sends verdicts for leased items. */
  async submitReviews(
    id: string,
    results: ReviewResultRequest[],
    signal?: AbortSignal,
  ): Promise<ReviewSubmitView> {
    return this.#json('POST', `/api/campaigns/${enc(id)}/reviews`, { results }, signal);
  }

  /** An item's raw bytes (its campaign's owner and assigned reviewers only), as a streamed Response. */
  async content(id: string, itemId: string, signal?: AbortSignal): Promise<Response> {
    return this.#request('GET', `/api/campaigns/${enc(id)}/items/${enc(itemId)}/content`, undefined, signal);
  }

  /** The caller's own standing as a reviewer: estimated accuracy, evidence, votes, revoked. */
  async standing(id: string, signal?: AbortSignal): Promise<ReviewerStandingView> {
    return this.#json('GET', `/api/campaigns/${enc(id)}/reviewers/me`, undefined, signal);
  }

  /** Contributors ranked by accepted items and data earnings, by pseudonym: in one campaign, or in all. */
  async leaderboard(campaign?: string, signal?: AbortSignal): Promise<DataLeaderboardView> {
    const query = campaign === undefined ? '' : `?campaign=${enc(campaign)}`;
    return this.#json('GET', `/api/data-leaderboard${query}`, undefined, signal);
  }

  /** The accepted items' manifest (the owner only). */
  async exportManifest(id: string, signal?: AbortSignal): Promise<ExportView> {
    return this.#json('GET', `/api/campaigns/${enc(id)}/export`, undefined, signal);
  }

  /** What a wallet earned from campaigns (its own, or any for an operator). */
  async rewards(wallet: string, signal?: AbortSignal): Promise<DataRewardsView> {
    return this.#json('GET', `/api/data-rewards/${enc(wallet)}`, undefined, signal);
  }

  async #upload(
    id: string,
    body: UploadBody,
    type: string,
    options: { name?: string; signal?: AbortSignal },
  ): Promise<UploadView> {
    const query = options.name === undefined ? '' : `?name=${enc(options.name)}`;
    const response = await this.#request(
      'POST',
      `/api/campaigns/${enc(id)}/items${query}`,
      body,
      options.signal,
      type,
    );
    return (await response.json()) as UploadView;
  }

  async #json<T>(method: string, route: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return (await this.#request(method, route, body, signal)).json() as Promise<T>;
  }

  async #request(
    method: string,
    route: string,
    body: unknown,
    signal?: AbortSignal,
    type?: string,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    let payload: RequestInit['body'] | undefined;
    if (type !== undefined) {
      headers['content-type'] = type;
      payload = body as RequestInit['body'];
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const stream = typeof ReadableStream !== 'undefined' && payload instanceof ReadableStream;
    const response = await (this.#options.fetch ?? fetch)(`${this.#options.baseUrl}${route}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      // A streamed request body needs half duplex in Node's fetch.
      ...(stream ? { duplex: 'half' } : {}),
      ...(signal ? { signal } : {}),
    } as RequestInit);
    if (!response.ok) throw await apiErrorOf(response);
    return response;
  }
}

import {
  type AccountView,
  type BatchListView,
  type BatchView,
  type ChainView,
  type ChatCompletionView,
  type CurrentEpochView,
  type EmbeddingListView,
  type EntriesPage,
  type EpochProofView,
  type EpochReportView,
  type FileDeletedView,
  type FileListView,
  type FileView,
  type HealthView,
  type LedgerInfo,
  type LedgerVerifyView,
  type ListView,
  type LoginChallengeView,
  type LoginView,
  type LogoutView,
  type MintView,
  type ModelCatalogEntry,
  type ModelView,
  type NodeView,
  type PerformanceMetrics,
  type PublishedEpochView,
  routerBaseUrl,
  type SessionView,
  type StakeView,
  type TaskView,
  type TextCompletionView,
  type TransferView,
  type UnstakeView,
  type WithdrawalView,
  type WithdrawalVoucherView,
} from '../protocol/index.js';
import { apiErrorOf } from './api-error.js';
import { MetricsApi } from './metrics.js';
import type {
  BatchParameters,
  ChatParameters,
  CompletionParameters,
  EmbeddingParameters,
  SessionParameters,
  SessionPromptParameters,
} from './parameters.js';
import { completionEvents, type StreamEnd } from './sse.js';

export { ApiError } from './api-error.js';
export type { BatchParameters, ChatParameters } from './parameters.js';

export type ClientOptions = { baseUrl: string; apiKey?: string; fetch?: typeof fetch };

/** Names kept from before the wire shapes moved to src/protocol. */
export type ChatCompletion = ChatCompletionView;
export type FileObject = FileView;
export type Batch = BatchView;
export type LoginChallenge = LoginChallengeView;
export type LoginResult = LoginView;

/** Which task answered, from the router's headers: the task id (for `task`) and the node. */
export type TaskReference = { taskId: string | null; nodeId: string | null };

/** Options of a ledger write: the same `idempotencyKey` never books twice. */
export type WriteOptions = { idempotencyKey?: string; signal?: AbortSignal };

const path = (strings: TemplateStringsArray, ...ids: (string | number)[]) =>
  strings.reduce(
    (out, part, i) => out + part + (i < ids.length ? encodeURIComponent(String(ids[i])) : ''),
    '',
  );

const query = (values: Record<string, string | number | undefined>) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) params.set(name, String(value));
  return params.size > 0 ? `?${params}` : '';
};

/** A typed client for a router's HTTP API; every failure is an ApiError with the status, code and field. */
export class OmniClient {
  readonly #options: ClientOptions;
  /** Network and node figures, series and leaderboards (src/sdk/metrics.ts). */
  readonly metrics = new MetricsApi(async <T>(route: string, signal?: AbortSignal) => {
    const response = await this.#request('GET', route, undefined, signal);
    return (route === '/metrics' ? response.text() : response.json()) as Promise<T>;
  });

  constructor(options: ClientOptions) {
    // A wss:// gateway address names the same router as its https:// API.
    this.#options = { ...options, baseUrl: routerBaseUrl(options.baseUrl) };
  }

  async health(signal?: AbortSignal): Promise<HealthView> {
    return this.#json('GET', '/health', undefined, signal);
  }

  /** A login challenge for `address`: sign its text (EIP-191) and pass it to `login` before `expires_at` (s). */
  async loginChallenge(address: string, signal?: AbortSignal): Promise<LoginChallengeView> {
    return this.#json('POST', '/api/auth/challenge', { address }, signal);
  }

  /** Trades a signed challenge for a login token, which works as `apiKey` until `expires_at` (s). */
  async login(
    address: string,
    challenge: string,
    signature: string,
    signal?: AbortSignal,
  ): Promise<LoginView> {
    return this.#json('POST', '/api/auth/login', { address, challenge, signature }, signal);
  }

  /** Ends the login token this client holds as `apiKey`; `revoked` is false when it had already ended. */
  async logout(signal?: AbortSignal): Promise<LogoutView> {
    return this.#json('POST', '/api/auth/logout', undefined, signal);
  }

  /** The models some connected node serves now (OpenAI's `GET /v1/models`). */
  async models(signal?: AbortSignal): Promise<ListView<ModelView>> {
    return this.#json('GET', '/v1/models', undefined, signal);
  }

  /** The router's model catalog, served or not, with how many nodes hold each (`GET /api/models`). */
  async catalog(signal?: AbortSignal): Promise<ListView<ModelCatalogEntry>> {
    return this.#json('GET', '/api/models', undefined, signal);
  }

  /** A non-streaming chat completion, with the task that answered it. */
  async chat(params: ChatParameters, signal?: AbortSignal): Promise<ChatCompletionView & TaskReference> {
    return this.#answer('/v1/chat/completions', params, signal);
  }

  /** A streaming chat completion: yields content pieces as they arrive, returns the usage and the receipt at the end. */
  async *chatStream(
    params: ChatParameters,
    signal?: AbortSignal,
  ): AsyncGenerator<string, StreamEnd | undefined> {
    const body = { ...params, stream: true, stream_options: { include_usage: true } };
    return yield* completionEvents(await this.#request('POST', '/v1/chat/completions', body, signal));
  }

  /** A non-streaming text completion (OpenAI's legacy `/v1/completions`), with the task that answered it. */
  async completion(
    params: CompletionParameters,
    signal?: AbortSignal,
  ): Promise<TextCompletionView & TaskReference> {
    return this.#answer('/v1/completions', params, signal);
  }

  /** A streaming text completion: yields text pieces as they arrive, returns the usage and the receipt at the end. */
  async *completionStream(
    params: CompletionParameters,
    signal?: AbortSignal,
  ): AsyncGenerator<string, StreamEnd | undefined> {
    const body = { ...params, stream: true, stream_options: { include_usage: true } };
    return yield* completionEvents(await this.#request('POST', '/v1/completions', body, signal));
  }

  /** Embeddings of one text or several, with the task that computed them. */
  async embeddings(
    params: EmbeddingParameters,
    signal?: AbortSignal,
  ): Promise<EmbeddingListView & TaskReference> {
    return this.#answer('/v1/embeddings', params, signal);
  }

  /** A task of this key: its status, and its output once done. */
  async task(id: string, signal?: AbortSignal): Promise<TaskView> {
    return this.#json('GET', path`/api/tasks/${id}`, undefined, signal);
  }

  /** A node's public record: whether it is connected, its reputation per model and its latest verdicts. */
  async node(id: string, signal?: AbortSignal): Promise<NodeView> {
    return this.#json('GET', path`/api/nodes/${id}`, undefined, signal);
  }

  /** Seed 000's performance figures of a node (`gpu_utilization`, `task_completion_rate`, `flops`, ...). */
  getPerformanceMetrics(nodeId: string, signal?: AbortSignal): Promise<PerformanceMetrics> {
    return this.metrics.performance(nodeId, signal);
  }

  /** Uploads a JSONL request file for a batch (multipart, like OpenAI's `files.create`). */
  async uploadFile(
    content: string | Uint8Array,
    filename: string,
    purpose = 'batch',
    signal?: AbortSignal,
  ): Promise<FileView> {
    const form = new FormData();
    form.append('purpose', purpose);
    form.append('file', new Blob([content], { type: 'application/jsonl' }), filename);
    return this.#json('POST', '/v1/files', form, signal);
  }

  /** This key's files, newest first. */
  async files(options: { limit?: number } = {}, signal?: AbortSignal): Promise<FileListView> {
    return this.#json('GET', `/v1/files${query(options)}`, undefined, signal);
  }

  async file(id: string, signal?: AbortSignal): Promise<FileView> {
    return this.#json('GET', path`/v1/files/${id}`, undefined, signal);
  }

  /** A file's content as text (output and error files are JSONL). */
  async fileContent(id: string, signal?: AbortSignal): Promise<string> {
    return (await this.#request('GET', path`/v1/files/${id}/content`, undefined, signal)).text();
  }

  /** Deletes one of this key's files. */
  async deleteFile(id: string, signal?: AbortSignal): Promise<FileDeletedView> {
    return this.#json('DELETE', path`/v1/files/${id}`, undefined, signal);
  }

  async createBatch(params: BatchParameters, signal?: AbortSignal): Promise<BatchView> {
    return this.#json('POST', '/v1/batches', { completion_window: '24h', ...params }, signal);
  }

  async batch(id: string, signal?: AbortSignal): Promise<BatchView> {
    return this.#json('GET', path`/v1/batches/${id}`, undefined, signal);
  }

  /** This key's batches, newest first. */
  async batches(
    options: { limit?: number; after?: string } = {},
    signal?: AbortSignal,
  ): Promise<BatchListView> {
    return this.#json('GET', `/v1/batches${query(options)}`, undefined, signal);
  }

  async cancelBatch(id: string, signal?: AbortSignal): Promise<BatchView> {
    return this.#json('POST', path`/v1/batches/${id}/cancel`, undefined, signal);
  }

  /** A session (seed 004); with `budget`, that many tokens are escrowed from the account for its prompts. */
  async createSession(params: SessionParameters, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('POST', '/api/sessions', params, signal);
  }

  async session(id: string, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('GET', path`/api/sessions/${id}`, undefined, signal);
  }

  /** A prompt in a session, answered with the session's model and defaults, paid from its budget if any. */
  async prompt(
    sessionId: string,
    params: SessionPromptParameters,
    signal?: AbortSignal,
  ): Promise<ChatCompletionView & TaskReference> {
    return this.#answer(path`/api/sessions/${sessionId}/prompts`, params, signal);
  }

  /** A streaming prompt in a session: yields content pieces as they arrive, returns the usage and the receipt at the end. */
  async *promptStream(
    sessionId: string,
    params: SessionPromptParameters,
    signal?: AbortSignal,
  ): AsyncGenerator<string, StreamEnd | undefined> {
    const response = await this.#request(
      'POST',
      path`/api/sessions/${sessionId}/prompts`,
      { ...params, stream: true },
      signal,
    );
    return yield* completionEvents(response);
  }

  /** Ends a session: the rest of its budget returns to the account. */
  async closeSession(id: string, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('DELETE', path`/api/sessions/${id}`, undefined, signal);
  }

  /** The network's prices, fee, staking and reward terms. */
  async ledgerInfo(signal?: AbortSignal): Promise<LedgerInfo> {
    return this.#json('GET', '/api/ledger', undefined, signal);
  }

  /** An account's balance, stakes, pending withdrawals and earnings ('me': the key's own). */
  async account(address = 'me', signal?: AbortSignal): Promise<AccountView> {
    return this.#json('GET', path`/api/accounts/${address}`, undefined, signal);
  }

  /** An account's entries, newest first; pass `next_before` as `before` for the next page. */
  async entries(
    address = 'me',
    page: { limit?: number; before?: number } = {},
    signal?: AbortSignal,
  ): Promise<EntriesPage> {
    return this.#json('GET', `${path`/api/accounts/${address}/entries`}${query(page)}`, undefined, signal);
  }

  /** Sends tokens; the same `idempotencyKey` never sends twice. */
  async transfer(
    params: { to: string; amount: string; from?: string },
    options: WriteOptions = {},
  ): Promise<TransferView> {
    return this.#json('POST', '/api/transfers', params, options.signal, options.idempotencyKey);
  }

  async stake(params: { node: string; amount: string }, options: WriteOptions = {}): Promise<StakeView> {
    return this.#json('POST', '/api/stake', params, options.signal, options.idempotencyKey);
  }

  /** Starts unbonding; the tokens return to the owner at `release_at`. */
  async unstake(params: { node: string; amount: string }, options: WriteOptions = {}): Promise<UnstakeView> {
    return this.#json('POST', '/api/unstake', params, options.signal, options.idempotencyKey);
  }

  async stakeOf(node: string, signal?: AbortSignal): Promise<StakeView> {
    return this.#json('GET', path`/api/stakes/${node}`, undefined, signal);
  }

  /** Asks to cash out: the amount is locked until the withdrawal is settled. */
  async withdraw(
    params: { amount: string; to: string },
    options: WriteOptions = {},
  ): Promise<WithdrawalView> {
    return this.#json('POST', '/api/withdrawals', params, options.signal, options.idempotencyKey);
  }

  async withdrawals(
    filter: { status?: string; account?: string; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<ListView<WithdrawalView>> {
    return this.#json('GET', `/api/withdrawals${query(filter)}`, undefined, signal);
  }

  async cancelWithdrawal(id: string, signal?: AbortSignal): Promise<WithdrawalView> {
    return this.#json('POST', path`/api/withdrawals/${id}/cancel`, {}, signal);
  }

  /** Operator: marks a withdrawal paid out. */
  async settleWithdrawal(id: string, settlement?: string, signal?: AbortSignal): Promise<WithdrawalView> {
    const body = settlement === undefined ? {} : { settlement };
    return this.#json('POST', path`/api/withdrawals/${id}/settle`, body, signal);
  }

  /** Operator, test networks only: creates tokens. */
  async mint(params: { to: string; amount: string }, options: WriteOptions = {}): Promise<MintView> {
    return this.#json('POST', '/api/mint', params, options.signal, options.idempotencyKey);
  }

  async currentEpoch(signal?: AbortSignal): Promise<CurrentEpochView> {
    return this.#json('GET', '/api/epochs/current', undefined, signal);
  }

  async epoch(epoch: number, signal?: AbortSignal): Promise<EpochReportView> {
    return this.#json('GET', path`/api/epochs/${epoch}`, undefined, signal);
  }

  /** An account's reward proof for a closed epoch (public). */
  async epochProof(epoch: number, account: string, signal?: AbortSignal): Promise<EpochProofView> {
    return this.#json('GET', path`/api/epochs/${epoch}/proof/${account}`, undefined, signal);
  }

  /** A closed epoch's published reward lines, report hash and root (public). */
  async publishedEpoch(epoch: number, signal?: AbortSignal): Promise<PublishedEpochView> {
    return this.#json('GET', path`/api/epochs/${epoch}/published`, undefined, signal);
  }

  /** Settles your pending withdrawal into a Vault voucher (or re-signs its voucher); needs a chain-linked router. */
  async withdrawalVoucher(id: string, signal?: AbortSignal): Promise<WithdrawalVoucherView> {
    return this.#json('POST', path`/api/withdrawals/${id}/voucher`, {}, signal);
  }

  /** The contracts the router is linked to (404 when it runs off chain). */
  async chain(signal?: AbortSignal): Promise<ChainView> {
    return this.#json('GET', '/api/chain', undefined, signal);
  }

  /** Operator: closes the open epoch (or returns the report of `epoch` if it is closed already). */
  async closeEpoch(epoch?: number, signal?: AbortSignal): Promise<EpochReportView> {
    return this.#json('POST', '/api/epochs/close', epoch === undefined ? {} : { epoch }, signal);
  }

  /** Operator: checks the whole ledger history on the router. */
  async verifyLedger(signal?: AbortSignal): Promise<LedgerVerifyView> {
    return this.#json('GET', '/api/ledger/verify', undefined, signal);
  }

  /** A non-streaming answer, with the task id and node the router names in its headers. */
  async #answer<T>(route: string, body: unknown, signal?: AbortSignal): Promise<T & TaskReference> {
    const response = await this.#request('POST', route, body, signal);
    return {
      ...((await response.json()) as T),
      taskId: response.headers.get('x-omnitensor-task-id'),
      nodeId: response.headers.get('x-omnitensor-node'),
    };
  }

  async #json<T>(
    method: string,
    route: string,
    body: unknown,
    signal?: AbortSignal,
    idempotencyKey?: string,
  ): Promise<T> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return (await this.#request(method, route, body, signal, headers)).json() as Promise<T>;
  }

  async #request(
    method: string,
    route: string,
    body: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    // FormData sets its own multipart content type with the boundary.
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers['content-type'] = 'application/json';
    const response = await (this.#options.fetch ?? fetch)(`${this.#options.baseUrl}${route}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw await apiErrorOf(response);
    return response;
  }
}

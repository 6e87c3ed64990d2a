import { type BatchStatus, OmniError, routerBaseUrl } from '../protocol/index.js';
import type {
  AccountView,
  EntriesPage,
  EpochReportView,
  LedgerInfo,
  LedgerVerifyView,
  SessionParameters,
  SessionView,
  StakeView,
  WithdrawalView,
} from './ledger-types.js';

export type ClientOptions = { baseUrl: string; apiKey?: string; fetch?: typeof fetch };

export type ChatParameters = {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
  /** How the answer is checked: none, checksum, redundant:k, likelihood, embedding or auto (default). */
  validation?: string;
};

export type ChatCompletion = {
  id: string;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** How the answer was checked (OmniTensor's addition to the OpenAI shape). */
  omnitensor?: {
    validation: { requested: string; level: string; verdict: 'pass' | 'unchecked'; checked_by: string[] };
  };
};

/** A file of the Batch API (an uploaded request file, or an output or error file). */
export type FileObject = {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
};

/** A batch job, in OpenAI's shape. */
export type Batch = {
  id: string;
  object: 'batch';
  endpoint: string;
  status: BatchStatus;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { data: { code: string; message: string; param: string | null; line: number | null }[] } | null;
  request_counts: { total: number; completed: number; failed: number };
  created_at: number;
  /** When the completion window ends (seconds); lines unanswered by then expire. */
  expires_at: number;
  expired_at: number | null;
  metadata: Record<string, string> | null;
};

export type BatchParameters = {
  input_file_id: string;
  endpoint: '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings';
  completion_window?: '24h';
  metadata?: Record<string, string>;
};

/** A text to sign to log in, and when it stops working (seconds). */
export type LoginChallenge = { challenge: string; expires_at: number };

/** A login token (use it as the API key), its account, and when it stops working (seconds). */
export type LoginResult = { token: string; account: string; expires_at: number };

/** An error answer from a router, with its HTTP status and OpenAI error code. */
export class ApiError extends OmniError {
  override readonly name = 'ApiError';
  override readonly param: string | null;
  constructor(
    readonly status: number,
    code: string,
    message: string,
    param: string | null,
  ) {
    super(code, message);
    this.param = param;
  }
}

/** A typed client for a router's HTTP API. */
export class OmniClient {
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    // A wss:// gateway address names the same router as its https:// API.
    this.#options = { ...options, baseUrl: routerBaseUrl(options.baseUrl) };
  }

  async health(signal?: AbortSignal): Promise<{ status: string; nodes: number }> {
    return (await this.#request('GET', '/health', undefined, signal)).json() as Promise<{
      status: string;
      nodes: number;
    }>;
  }

  /** A login challenge for `address`: sign its text (EIP-191) and pass it to `login` before `expires_at` (s). */
  async loginChallenge(address: string, signal?: AbortSignal): Promise<LoginChallenge> {
    return (
      await this.#request('POST', '/api/auth/challenge', { address }, signal)
    ).json() as Promise<LoginChallenge>;
  }

  /** Trades a signed challenge for a login token, which works as `apiKey` until `expires_at` (s). */
  async login(
    address: string,
    challenge: string,
    signature: string,
    signal?: AbortSignal,
  ): Promise<LoginResult> {
    return (
      await this.#request('POST', '/api/auth/login', { address, challenge, signature }, signal)
    ).json() as Promise<LoginResult>;
  }

  /** Ends the login token this client holds as `apiKey`; `revoked` is false when it had already ended. */
  async logout(signal?: AbortSignal): Promise<{ revoked: boolean }> {
    return (await this.#request('POST', '/api/auth/logout', undefined, signal)).json() as Promise<{
      revoked: boolean;
    }>;
  }

  async models(signal?: AbortSignal): Promise<{ data: { id: string; sha256: string }[] }> {
    return (await this.#request('GET', '/v1/models', undefined, signal)).json() as Promise<{
      data: { id: string; sha256: string }[];
    }>;
  }

  /** A non-streaming chat completion; `task` is the router's task id and `node` the node that answered. */
  async chat(
    params: ChatParameters,
    signal?: AbortSignal,
  ): Promise<ChatCompletion & { taskId: string | null; nodeId: string | null }> {
    const response = await this.#request('POST', '/v1/chat/completions', params, signal);
    const body = (await response.json()) as ChatCompletion;
    return {
      ...body,
      taskId: response.headers.get('x-omnitensor-task-id'),
      nodeId: response.headers.get('x-omnitensor-node'),
    };
  }

  /** A streaming chat completion: yields content pieces as they arrive, returns the usage at the end. */
  async *chatStream(
    params: ChatParameters,
    signal?: AbortSignal,
  ): AsyncGenerator<string, ChatCompletion['usage'] | undefined> {
    const response = await this.#request(
      'POST',
      '/v1/chat/completions',
      { ...params, stream: true, stream_options: { include_usage: true } },
      signal,
    );
    let usage: ChatCompletion['usage'] | undefined;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') return usage;
        const chunk = JSON.parse(data) as {
          error?: { code: string; message: string };
          usage?: ChatCompletion['usage'];
          choices: { delta: { content?: string } }[];
        };
        if (chunk.error) throw new ApiError(502, chunk.error.code, chunk.error.message, null);
        if (chunk.usage) usage = chunk.usage;
        const content = chunk.choices[0]?.delta.content;
        if (content) yield content;
      }
    }
    return usage;
  }

  /** Uploads a JSONL request file for a batch (multipart, like OpenAI's `files.create`). */
  async uploadFile(
    content: string | Uint8Array,
    filename: string,
    purpose = 'batch',
    signal?: AbortSignal,
  ): Promise<FileObject> {
    const form = new FormData();
    form.append('purpose', purpose);
    form.append('file', new Blob([content], { type: 'application/jsonl' }), filename);
    return (await this.#request('POST', '/v1/files', form, signal)).json() as Promise<FileObject>;
  }

  async file(id: string, signal?: AbortSignal): Promise<FileObject> {
    return (
      await this.#request('GET', `/v1/files/${encodeURIComponent(id)}`, undefined, signal)
    ).json() as Promise<FileObject>;
  }

  /** A file's content as text (output and error files are JSONL). */
  async fileContent(id: string, signal?: AbortSignal): Promise<string> {
    return (
      await this.#request('GET', `/v1/files/${encodeURIComponent(id)}/content`, undefined, signal)
    ).text();
  }

  /** Deletes one of this key's files. */
  async deleteFile(id: string, signal?: AbortSignal): Promise<{ id: string; deleted: boolean }> {
    return (
      await this.#request('DELETE', `/v1/files/${encodeURIComponent(id)}`, undefined, signal)
    ).json() as Promise<{ id: string; deleted: boolean }>;
  }

  async createBatch(params: BatchParameters, signal?: AbortSignal): Promise<Batch> {
    const body = { completion_window: '24h', ...params };
    return (await this.#request('POST', '/v1/batches', body, signal)).json() as Promise<Batch>;
  }

  async batch(id: string, signal?: AbortSignal): Promise<Batch> {
    return (
      await this.#request('GET', `/v1/batches/${encodeURIComponent(id)}`, undefined, signal)
    ).json() as Promise<Batch>;
  }

  /** This key's batches, newest first. */
  async batches(
    options: { limit?: number; after?: string } = {},
    signal?: AbortSignal,
  ): Promise<{ data: Batch[]; has_more: boolean }> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.after !== undefined) query.set('after', options.after);
    const path = `/v1/batches${query.size > 0 ? `?${query}` : ''}`;
    return (await this.#request('GET', path, undefined, signal)).json() as Promise<{
      data: Batch[];
      has_more: boolean;
    }>;
  }

  async cancelBatch(id: string, signal?: AbortSignal): Promise<Batch> {
    return (
      await this.#request('POST', `/v1/batches/${encodeURIComponent(id)}/cancel`, undefined, signal)
    ).json() as Promise<Batch>;
  }

  /** A session (seed 004); with `budget`, that many tokens are escrowed from the account for its prompts. */
  async createSession(params: SessionParameters, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('POST', '/api/sessions', params, signal);
  }

  async session(id: string, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('GET', `/api/sessions/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** Ends a session: the rest of its budget returns to the account. */
  async closeSession(id: string, signal?: AbortSignal): Promise<SessionView> {
    return this.#json('DELETE', `/api/sessions/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** The network's prices, fee, staking and reward terms. */
  async ledgerInfo(signal?: AbortSignal): Promise<LedgerInfo> {
    return this.#json('GET', '/api/ledger', undefined, signal);
  }

  /** An account's balance, stakes, pending withdrawals and earnings ('me': the key's own). */
  async account(address = 'me', signal?: AbortSignal): Promise<AccountView> {
    return this.#json('GET', `/api/accounts/${encodeURIComponent(address)}`, undefined, signal);
  }

  /** An account's entries, newest first; pass `next_before` as `before` for the next page. */
  async entries(
    address = 'me',
    page: { limit?: number; before?: number } = {},
    signal?: AbortSignal,
  ): Promise<EntriesPage> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.before !== undefined) query.set('before', String(page.before));
    const path = `/api/accounts/${encodeURIComponent(address)}/entries${query.size > 0 ? `?${query}` : ''}`;
    return this.#json('GET', path, undefined, signal);
  }

  /** Sends tokens; the same `idempotencyKey` never sends twice. */
  async transfer(
    params: { to: string; amount: string; from?: string },
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<{ from: string; to: string; amount: string; seq: number; balance: string }> {
    return this.#json('POST', '/api/transfers', params, options.signal, options.idempotencyKey);
  }

  async stake(
    params: { node: string; amount: string },
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<StakeView> {
    return this.#json('POST', '/api/stake', params, options.signal, options.idempotencyKey);
  }

  /** Starts unbonding; the tokens return to the owner at `release_at`. */
  async unstake(
    params: { node: string; amount: string },
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<StakeView & { release_at: number }> {
    return this.#json('POST', '/api/unstake', params, options.signal, options.idempotencyKey);
  }

  async stakeOf(node: string, signal?: AbortSignal): Promise<StakeView> {
    return this.#json('GET', `/api/stakes/${encodeURIComponent(node)}`, undefined, signal);
  }

  /** Asks to cash out: the amount is locked until the withdrawal is settled. */
  async withdraw(
    params: { amount: string; to: string },
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<WithdrawalView> {
    return this.#json('POST', '/api/withdrawals', params, options.signal, options.idempotencyKey);
  }

  async withdrawals(
    filter: { status?: string; account?: string } = {},
    signal?: AbortSignal,
  ): Promise<{ data: WithdrawalView[] }> {
    const query = new URLSearchParams(filter as Record<string, string>);
    return this.#json('GET', `/api/withdrawals${query.size > 0 ? `?${query}` : ''}`, undefined, signal);
  }

  async cancelWithdrawal(id: string, signal?: AbortSignal): Promise<WithdrawalView> {
    return this.#json('POST', `/api/withdrawals/${encodeURIComponent(id)}/cancel`, {}, signal);
  }

  /** Operator: marks a withdrawal paid out. */
  async settleWithdrawal(id: string, settlement?: string, signal?: AbortSignal): Promise<WithdrawalView> {
    const body = settlement === undefined ? {} : { settlement };
    return this.#json('POST', `/api/withdrawals/${encodeURIComponent(id)}/settle`, body, signal);
  }

  /** Operator, test networks only: creates tokens. */
  async mint(
    params: { to: string; amount: string },
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<{ to: string; amount: string; balance: string }> {
    return this.#json('POST', '/api/mint', params, options.signal, options.idempotencyKey);
  }

  async currentEpoch(
    signal?: AbortSignal,
  ): Promise<{ epoch: number; started_at: number; ends_at: number; formula: string }> {
    return this.#json('GET', '/api/epochs/current', undefined, signal);
  }

  async epoch(epoch: number, signal?: AbortSignal): Promise<EpochReportView> {
    return this.#json('GET', `/api/epochs/${epoch}`, undefined, signal);
  }

  /** Operator: closes the open epoch (or returns the report of `epoch` if it is closed already). */
  async closeEpoch(epoch?: number, signal?: AbortSignal): Promise<EpochReportView> {
    return this.#json('POST', '/api/epochs/close', epoch === undefined ? {} : { epoch }, signal);
  }

  /** Operator: checks the whole ledger history on the router. */
  async verifyLedger(signal?: AbortSignal): Promise<LedgerVerifyView> {
    return this.#json('GET', '/api/ledger/verify', undefined, signal);
  }

  async #json<T>(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    idempotencyKey?: string,
  ): Promise<T> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return (await this.#request(method, path, body, signal, headers)).json() as Promise<T>;
  }

  async #request(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    // FormData sets its own multipart content type with the boundary.
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers['content-type'] = 'application/json';
    const response = await (this.#options.fetch ?? fetch)(`${this.#options.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) {
      const text = await response.text();
      let error: { code?: string; message?: string; param?: string | null } = {};
      try {
        error = (JSON.parse(text) as { error: typeof error }).error ?? {};
      } catch {}
      throw new ApiError(
        response.status,
        error.code ?? 'http_error',
        error.message ?? `HTTP ${response.status}: ${text.slice(0, 200)}`,
        error.param ?? null,
      );
    }
    return response;
  }
}

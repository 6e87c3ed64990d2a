import { OmniError } from '../protocol/index.js';

export type ClientOptions = { baseUrl: string; apiKey?: string; fetch?: typeof fetch };

export type ChatParameters = {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
};

export type ChatCompletion = {
  id: string;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

/** An error answer from a router, with its HTTP status and OpenAI error code. */
export class ApiError extends OmniError {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly param: string | null,
  ) {
    super(code, message);
  }
}

/** A typed client for a router's HTTP API. */
export class OmniClient {
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  async health(signal?: AbortSignal): Promise<{ status: string; nodes: number }> {
    return (await this.#request('GET', '/health', undefined, signal)).json() as Promise<{
      status: string;
      nodes: number;
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

  async #request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await (this.#options.fetch ?? fetch)(`${this.#options.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
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

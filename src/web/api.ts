/** The browser's side of the router's API: the user's credential (kept in this browser only) and requests. */

export type Credential = { key: string; account: string | null; via: 'key' | 'wallet' };

const STORE = 'omnitensor.credential';

export function loadCredential(): Credential | null {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) ?? 'null') as Credential | null;
    return saved && typeof saved.key === 'string' ? saved : null;
  } catch {
    return null;
  }
}

export function saveCredential(credential: Credential | null): void {
  if (credential) localStorage.setItem(STORE, JSON.stringify(credential));
  else localStorage.removeItem(STORE);
}

/** An answer other than 2xx, with the router's message (OpenAI error JSON). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

function headers(key: string | undefined, json: boolean): Record<string, string> {
  return {
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
  };
}

export async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as {
    error?: { message?: string; code?: string };
  } | null;
  return new ApiError(
    response.status,
    body?.error?.message ?? `${response.status} ${response.statusText}`,
    body?.error?.code ?? null,
  );
}

/** GET (or POST with `body`) a JSON route; throws ApiError for an answer other than 2xx. */
export async function api<T>(
  path: string,
  key?: string,
  options: { body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const response = await fetch(path, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers: headers(key, options.body !== undefined),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** GETs raw bytes (a campaign item) with the user's key; throws ApiError for an answer other than 2xx. */
export async function getBlob(path: string, key: string | undefined, signal?: AbortSignal): Promise<Blob> {
  const response = await fetch(path, { headers: headers(key, false), ...(signal ? { signal } : {}) });
  if (!response.ok) throw await errorOf(response);
  return response.blob();
}

/**
 * Reads a server-sent event stream with fetch (EventSource cannot send an Authorization header) and calls
 * `onData` with each `data:` payload, until the stream ends or `signal` aborts.
 */
export async function readEvents(response: Response, onData: (data: string) => void): Promise<void> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) onData(data);
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Opens an event stream at `path` with the user's key. */
export async function openEvents(path: string, key: string | undefined, signal: AbortSignal) {
  const response = await fetch(path, { headers: headers(key, false), signal });
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** POSTs a JSON body and returns the raw response (for streams); throws ApiError for other than 2xx. */
export async function post(path: string, key: string | undefined, body: unknown, signal?: AbortSignal) {
  const response = await fetch(path, {
    method: 'POST',
    headers: headers(key, true),
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw await errorOf(response);
  return response;
}

import { OmniError } from '../protocol/index.js';

/** An error answer from a router, with its HTTP status, OpenAI error code and the request field it names. */
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

/** The ApiError of a failed response: its OpenAI-shaped body when it has one, else the status and text. */
export async function apiErrorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  let error: { code?: string; message?: string; param?: string | null } = {};
  try {
    error = (JSON.parse(text) as { error: typeof error }).error ?? {};
  } catch {}
  return new ApiError(
    response.status,
    error.code ?? 'http_error',
    error.message ?? `HTTP ${response.status}: ${text.slice(0, 200)}`,
    error.param ?? null,
  );
}

import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Credential } from './api.js';

export type Session = { credential: Credential | null; setCredential(c: Credential | null): void };

export const SessionContext = createContext<Session>({ credential: null, setCredential: () => {} });

export const useSession = () => useContext(SessionContext);

export type Loaded<T> = { data: T | null; error: ApiError | null; loading: boolean };

/**
 * Fetches `path` (null: nothing to fetch yet) with the user's key, again every `everyMs` if given. A route this
 * router lacks (404) or refuses (401/403) is an error the page shows as an empty state, never thrown.
 */
export function useApi<T>(path: string | null, everyMs = 0): Loaded<T> {
  const { credential } = useSession();
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: path !== null });
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const data = await api<T>(path, credential?.key, { signal: controller.signal });
        setState({ data, error: null, loading: false });
      } catch (error) {
        if (controller.signal.aborted) return;
        const failure = error instanceof ApiError ? error : new ApiError(0, String(error), null);
        setState((s) => ({ data: s.data, error: failure, loading: false }));
        // A route this router does not have will not appear by asking again.
        if (failure.status === 404 || failure.status === 401 || failure.status === 403) return;
      }
      if (everyMs > 0 && !controller.signal.aborted) timer = setTimeout(load, everyMs);
    };
    setState((s) => ({ ...s, loading: true }));
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, credential?.key, everyMs]);
  return state;
}

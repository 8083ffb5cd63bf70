// The hub's REST API (docs/api.md) as the browser calls it: the bearer token kept in
// localStorage, JSON errors turned into ApiError, NDJSON streams read line by line.

const TOKEN_KEY = 'hubspoke.token';

export function storedToken(): string {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// Called when the hub answers 401: the app sends the user to the login page.
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

function headers(token: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  let message = text || res.statusText;
  try {
    const body = JSON.parse(text);
    if (body && typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the text itself is the message
  }
  return new ApiError(res.status, message);
}

async function send(method: string, path: string, body?: unknown, token = storedToken()) {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(token, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `cannot reach the hub: ${(e as Error).message}`);
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthenticated();
    throw await failure(res);
  }
  return res.json();
}

export const api = {
  get: <T = any>(path: string): Promise<T> => send('GET', path),
  post: <T = any>(path: string, body: unknown): Promise<T> => send('POST', path, body),
  put: <T = any>(path: string, body: unknown = {}): Promise<T> => send('PUT', path, body),
  del: <T = any>(path: string): Promise<T> => send('DELETE', path),
  // Checks a token without storing it: resolves when the hub accepts it.
  check: (token: string): Promise<unknown> => send('GET', '/api/v1/version', undefined, token),
};

// Reads an NDJSON stream, calling onOpen once the hub accepted it and onItem for each line, until
// it ends or `signal` aborts. Resolves when the stream ends; rejects with ApiError when it cannot
// be opened.
export async function streamNdjson(
  path: string,
  onItem: (item: any) => void,
  signal: AbortSignal,
  onOpen: () => void = () => {},
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers(storedToken(), false), signal });
  } catch (e) {
    if (signal.aborted) return;
    throw new ApiError(0, `cannot reach the hub: ${(e as Error).message}`);
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthenticated();
    throw await failure(res);
  }
  onOpen();
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim()) onItem(JSON.parse(line));
      }
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}

// A watch stream that is opened again (after 2 s) whenever it ends or breaks, as when the hub
// restarts, until `signal` aborts. onOpen runs on every (re)connection: the hub then sends the
// current state again. onError gets each failure; a refused request (4xx but 429) is not retried.
export async function watchNdjson(
  path: string,
  onOpen: () => void,
  onItem: (item: any) => void,
  onError: (e: Error) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await streamNdjson(path, onItem, signal, onOpen);
    } catch (e) {
      if (signal.aborted) return;
      onError(e as Error);
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) return;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export const enc = encodeURIComponent;

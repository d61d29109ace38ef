/**
 * The page's only way to the server: the public HTTP API, with the key the person pasted
 * sent as `Authorization: Bearer`. The key lives in sessionStorage (this tab, until it
 * closes), never in localStorage or a cookie.
 */

const KEY_ITEM = 'quarry.apiKey';

/** An answer of the API's one error shape ({ error: { code, field?, message } }), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(KEY_ITEM);
    else sessionStorage.setItem(KEY_ITEM, key);
  } catch {
    // storage disabled: the key lasts as long as the page
  }
}

let unauthorized: ((e: ApiError) => void) | null = null;

/** Called when the server refuses the key (revoked meanwhile): the page asks for a key again. */
export function onUnauthorized(f: (e: ApiError) => void): void {
  unauthorized = f;
}

export async function api<T>(key: string, method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${key}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', `cannot reach the quarry server (${(e as Error).message}); is \`quarry serve\` still running?`);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    const e = new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `the server answered ${res.status} ${res.statusText}`, err?.field);
    if (res.status === 401) unauthorized?.(e);
    throw e;
  }
  return data as T;
}

export const path = {
  collection: (name: string) => `/collections/${encodeURIComponent(name)}`,
};

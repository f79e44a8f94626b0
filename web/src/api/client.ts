import type { z } from 'zod';

/**
 * The one way the back-office talks to Gatehouse: same-origin fetch with the session cookie, the CSRF
 * token echoed on every state change, answers checked with zod, and every failure an ApiError carrying
 * the API's `{code, message, requestId}`. A 401 outside sign-in tells the session to go to sign-in.
 */

/** The API's error body; `code: 'network'` or `'bad_response'` are the client's own. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Any thrown value as an ApiError (for showing it). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, 'client', error instanceof Error ? error.message : String(error));
}

/** The CSRF cookie set at sign-in (readable by design: double submit). Present iff a session may exist. */
const CSRF_COOKIE = 'gh_csrf';
const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function csrfToken(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

type Listener = () => void;
const unauthenticatedListeners = new Set<Listener>();

/** Called when the API says the session is gone (401 on a call that needed one). */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions<T> {
  body?: unknown;
  /** Checks (and types) the answer; without it the answer is `unknown`. */
  schema?: z.ZodType<T>;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined | null | readonly string[]>;

/** A path with its query string; undefined, null and empty values are left out. */
export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  try {
    const body = (await response.json()) as Partial<{
      code: string;
      message: string;
      requestId: string;
      details: Record<string, unknown>;
    }>;
    if (typeof body.message === 'string') {
      return new ApiError(
        response.status,
        body.code ?? 'error',
        body.message,
        body.requestId ?? requestId,
        body.details,
      );
    }
  } catch {
    // not JSON: a proxy's page or an empty body
  }
  return new ApiError(
    response.status,
    'http_error',
    `Gatehouse answered ${response.status} ${response.statusText}`.trim(),
    requestId,
  );
}

export async function apiRequest<T = unknown>(
  method: Method,
  path: string,
  options: RequestOptions<T> = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const csrf = csrfToken();
  if (!SAFE_METHODS.has(method) && csrf) headers[CSRF_HEADER] = csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'Gatehouse could not be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !path.startsWith('/api/v1/auth/')) {
      for (const listener of unauthenticatedListeners) listener();
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json();
  if (!options.schema) return body as T;
  const parsed = options.schema.safeParse(body);
  if (!parsed.success) {
    console.warn(`Unexpected answer from ${method} ${path}`, parsed.error.issues);
    throw new ApiError(
      response.status,
      'bad_response',
      'Gatehouse sent an answer this page does not understand. Reload the page; if it persists, report it.',
      response.headers.get('x-request-id') ?? undefined,
    );
  }
  return parsed.data;
}

/** Shorthands: `api.get('/api/v1/me', whoAmI)`, `api.post(path, body, schema)`. */
export const api = {
  get: <T>(path: string, schema?: z.ZodType<T>, signal?: AbortSignal) =>
    apiRequest<T>('GET', path, { ...(schema ? { schema } : {}), ...(signal ? { signal } : {}) }),
  post: <T>(path: string, body?: unknown, schema?: z.ZodType<T>) =>
    apiRequest<T>('POST', path, { body: body ?? {}, ...(schema ? { schema } : {}) }),
  put: <T>(path: string, body?: unknown, schema?: z.ZodType<T>) =>
    apiRequest<T>('PUT', path, { body: body ?? {}, ...(schema ? { schema } : {}) }),
  patch: <T>(path: string, body?: unknown, schema?: z.ZodType<T>) =>
    apiRequest<T>('PATCH', path, { body: body ?? {}, ...(schema ? { schema } : {}) }),
  delete: <T>(path: string, schema?: z.ZodType<T>) =>
    apiRequest<T>('DELETE', path, { ...(schema ? { schema } : {}) }),
};

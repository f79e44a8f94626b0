import { GatehouseError, type ErrorCode } from '../platform/errors.js';

export interface ApiClientOptions {
  url: string;
  token: string | undefined;
}

/** The CLI as a thin client of the HTTP API: the same checks, permissions and audit as any caller. */
export function createApiClient(options: ApiClientOptions) {
  const base = options.url.replace(/\/+$/, '');

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    as: 'parsed' | 'bytes' = 'parsed',
  ): Promise<T> {
    if (!options.token) {
      throw new GatehouseError(
        'unauthenticated',
        'No API token: run `gatehouse login`, or set GATEHOUSE_TOKEN (the bootstrap token printed by `gatehouse serve` on a new store, or one from `gatehouse tokens create`)',
      );
    }
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new GatehouseError(
        'store_unavailable',
        `Cannot reach Gatehouse at ${base} (${(error as Error).message}); is \`gatehouse serve\` running? Set GATEHOUSE_URL or --url otherwise`,
      );
    }
    if (as === 'bytes' && response.ok) return Buffer.from(await response.arrayBuffer()) as T;
    const text = await response.text();
    const parsed: unknown =
      text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!response.ok) {
      const error = parsed as { code?: ErrorCode; message?: string; details?: Record<string, unknown> };
      throw new GatehouseError(error.code ?? 'internal', error.message ?? `HTTP ${response.status}`, {
        ...(error.details ? { details: error.details } : {}),
      });
    }
    return parsed as T;
  }

  return {
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body: unknown) => request<T>('POST', path, body),
    patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
    delete: <T>(path: string) => request<T>('DELETE', path),
    /** Raw response body (exports). */
    text: (path: string) => request<string>('GET', path),
    put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
    /** Raw response bytes (binary downloads such as evidence packs). */
    bytes: (path: string) => request<Buffer>('GET', path, undefined, 'bytes'),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

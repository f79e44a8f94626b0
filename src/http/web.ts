import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './errors.js';
import type { App } from './types.js';

/**
 * The web back-office (web/, built by Vite into web/dist) served at `/`. The API keeps /api; every
 * other GET that accepts HTML gets index.html (the client-side router owns those paths). Same network
 * rule as the API: these routes take the server's onRequest checks (back-office networks and jumpboxes).
 */

/** Everything the page loads comes from this origin; no inline script or style, no framing. */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': WEB_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** A file name under the build folder: plain segments only (no dot-dot, no hidden files). */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Paths the back-office never owns: a miss there is the API's 404, not the page. */
const API_PATHS = /^\/(?:api|healthz|readyz|metrics)(?:\/|$|\?)/;

/** The built back-office folder, or undefined when it has not been built (the server then serves the API only). */
export function findWebRoot(candidate: string): string | undefined {
  return existsSync(path.join(candidate, 'index.html')) ? candidate : undefined;
}

function withSecurityHeaders(reply: FastifyReply): FastifyReply {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
  return reply;
}

/** What the server's not-found and error handlers ask of the back-office (undefined: not a page request). */
export interface WebPages {
  /** The client router's page for a path no route has. */
  page(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
  /** An error (like "not from this network") as a small page instead of a JSON body. */
  errorPage(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    body: ErrorBody,
  ): FastifyReply | undefined;
}

/** A browser asking for a page (not the API, not an asset): it gets HTML. */
function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (API_PATHS.test(request.url) || request.url.startsWith('/assets/')) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorHtml(status: number, body: ErrorBody): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Gatehouse: ${status === 403 ? 'not available here' : 'error'}</title></head>`,
    '<body><main><h1>Gatehouse</h1>',
    `<p role="alert">${escapeHtml(body.message)}</p>`,
    `<p>Request id: <code>${escapeHtml(body.requestId)}</code></p>`,
    '</main></body></html>',
  ].join('');
}

/** Registers the back-office routes; returns what the server's not-found and error handlers use. */
export async function registerWeb(app: App, root: string): Promise<WebPages> {
  await app.register(fastifyStatic, { root, serve: false });
  // read again when the build changes (npm run build:web under a running server names new assets)
  const indexFile = path.join(root, 'index.html');
  let index = { mtimeMs: 0, body: Buffer.alloc(0) };
  const currentIndex = (): Buffer => {
    try {
      const { mtimeMs } = statSync(indexFile);
      if (mtimeMs !== index.mtimeMs) index = { mtimeMs, body: readFileSync(indexFile) };
    } catch {
      // a build in progress removed it for a moment: the last one read still serves
    }
    return index.body;
  };
  currentIndex();
  const sendIndex = (reply: FastifyReply) =>
    withSecurityHeaders(reply)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(currentIndex());

  app.get('/', { config: { permission: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    sendIndex(reply),
  );

  // Vite names these by content hash: they never change, so browsers may keep them for a year
  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { config: { permission: 'public' }, schema: { hide: true } },
    async (request, reply) => {
      const file = request.params['*'];
      if (!SAFE_PATH.test(file)) return reply.callNotFound();
      return withSecurityHeaders(reply).sendFile(file, path.join(root, 'assets'), {
        immutable: true,
        maxAge: '365d',
      });
    },
  );

  app.get('/favicon.svg', { config: { permission: 'public' }, schema: { hide: true } }, async (_r, reply) =>
    withSecurityHeaders(reply).sendFile('favicon.svg', root, { maxAge: '1d' }),
  );

  return {
    page: (request, reply) => (isPageRequest(request) ? sendIndex(reply) : undefined),
    errorPage: (request, reply, status, body) =>
      isPageRequest(request)
        ? withSecurityHeaders(reply)
            .code(status)
            .header('cache-control', 'no-store')
            .type('text/html; charset=utf-8')
            .send(errorHtml(status, body))
        : undefined,
  };
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** Registers the back-office routes; returns the SPA fallback for the server's not-found handler. */
export async function registerWeb(
  app: App,
  root: string,
): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined> {
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

  return (request, reply) => {
    const url = request.url;
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    if (API_PATHS.test(url) || url.startsWith('/assets/')) return undefined;
    const accept = request.headers.accept ?? '';
    if (!accept.includes('text/html')) return undefined;
    return sendIndex(reply);
  };
}

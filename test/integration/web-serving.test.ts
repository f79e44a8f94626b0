import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { createTestApp, type TestApp } from '../support/app.js';

const INDEX =
  '<!doctype html><title>Gatehouse</title><script type="module" src="/assets/app-1a2b3c.js"></script>';
const html = { accept: 'text/html,application/xhtml+xml' };

/** A stand-in for web/dist as Vite builds it. */
function fakeBuild(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'gatehouse-web-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), INDEX);
  writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), 'console.log("app")');
  writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return root;
}

describe('the web back-office served by the Gatehouse server', () => {
  let t: TestApp;
  let root: string;
  const get = (url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    t.app.inject({ method: 'GET', url, headers, remoteAddress });

  beforeAll(async () => {
    root = fakeBuild();
    t = await createTestApp('pglite', { webDir: root });
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the page at / with a strict CSP, and revalidates it on every visit', async () => {
    const page = await get('/', html);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toBe(INDEX);
    expect(page.headers['cache-control']).toBe('no-cache');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
  });

  it("answers the client router's paths with the page (reload or a shared link)", async () => {
    for (const url of ['/request', '/access/123', '/sign-in?next=%2Faudit']) {
      const page = await get(url, html);
      expect(page.statusCode, url).toBe(200);
      expect(page.body, url).toBe(INDEX);
    }
  });

  it('serves hashed assets for a year, and nothing outside the build', async () => {
    const asset = await get('/assets/app-1a2b3c.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('max-age=31536000');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await get('/favicon.svg')).statusCode).toBe(200);
    for (const url of ['/assets/missing.js', '/assets/..%2F..%2Fpackage.json', '/assets/.hidden']) {
      const miss = await get(url, html);
      expect(miss.statusCode, url).toBe(404);
      expect(miss.json(), url).toMatchObject({ code: 'not_found' });
    }
    // dot segments are resolved before routing: what remains is the page, never a file outside the build
    const dotted = await get('/assets/%2e%2e/%2e%2e/package.json', html);
    expect(dotted.body).toBe(INDEX);
  });

  it('keeps /api answers JSON: an unknown API path is a 404 error body, not the page', async () => {
    const miss = await get('/api/v1/nothing-here', html);
    expect(miss.statusCode).toBe(404);
    expect(miss.json()).toMatchObject({ code: 'not_found' });
    // a non-browser caller of an unknown path gets the API's 404 too
    expect((await get('/request', { accept: 'application/json' })).json()).toMatchObject({
      code: 'not_found',
    });
  });

  it('follows the same network rule as the API: not from outside the back-office networks', async () => {
    for (const url of ['/', '/request', '/assets/app-1a2b3c.js', '/api/v1/auth/methods']) {
      const refused = await get(url, html, '203.0.113.9');
      expect(refused.statusCode, url).toBe(403);
      expect(refused.body, url).not.toContain(INDEX);
    }
    // a browser asking for a page is told why in a page of its own; the API and assets answer JSON
    const page = await get('/request', html, '203.0.113.9');
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<title>Gatehouse: not available here</title>');
    expect(page.body).toMatch(/<p role="alert">[^<]*jumpbox[^<]*<\/p>/i);
    expect(page.body).toContain(String(page.headers['x-request-id']));
    expect((await get('/api/v1/auth/methods', html, '203.0.113.9')).json()).toMatchObject({
      code: 'forbidden',
    });
    expect((await get('/request', { accept: 'application/json' }, '203.0.113.9')).json()).toMatchObject({
      code: 'forbidden',
    });
  });

  it('serves a new build without a restart', async () => {
    const rebuilt = INDEX.replace('app-1a2b3c.js', 'app-4d5e6f.js');
    writeFileSync(path.join(root, 'index.html'), rebuilt);
    utimesSync(path.join(root, 'index.html'), new Date(), new Date(Date.now() + 5000));
    expect((await get('/', html)).body).toBe(rebuilt);
    writeFileSync(path.join(root, 'index.html'), INDEX);
    utimesSync(path.join(root, 'index.html'), new Date(), new Date(Date.now() + 10_000));
    expect((await get('/', html)).body).toBe(INDEX);
  });

  it('says where to sign in: the sign-in methods are public', async () => {
    const methods = await get('/api/v1/auth/methods');
    expect(methods.statusCode).toBe(200);
    expect(methods.json()).toEqual({ password: true, oidc: null });
  });
});

describe('a server whose web back-office is not built', () => {
  it('starts, serves the API, sends / to the API docs and says so in its log', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'gatehouse-web-empty-'));
    const lines: string[] = [];
    const t = await createTestApp('pglite', {
      webDir: empty,
      logger: createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } }),
    });
    try {
      const root = await t.app.inject({ method: 'GET', url: '/', headers: html });
      expect(root.statusCode).toBe(302);
      expect(root.headers.location).toBe('/api/docs');
      expect((await t.call('GET', '/api/v1/me')).statusCode).toBe(200);
      const warning = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => /not built/.test(l.msg));
      expect(warning?.msg).toContain('serving the API only');
    } finally {
      await t.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

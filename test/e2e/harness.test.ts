import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newGuardedPage } from './support/browser.js';

const PAGE = `<!doctype html><title>probe</title><script>
  console.error('something broke');
  setTimeout(() => { throw new Error('uncaught in the page'); });
  fetch('/missing');
  fetch('/expected');
  fetch('http://127.0.0.1:9/refused').catch(() => undefined);
  document.title = 'ran';
</script>`;

/** The harness must fail a test on what a user's browser would show as broken. */
describe('the e2e harness watches the browser', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      else if (request.url === '/expected') response.writeHead(401).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('reports console errors, page errors, failed requests and HTTP errors the test did not declare', async () => {
    const { page, context, errors } = await newGuardedPage(browser, base);
    errors.expectHttpError(401, '/expected');
    await page.goto('/');
    await page.waitForFunction('document.title === "ran"');
    await expect.poll(() => errors.problems.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    await context.close();
    const problems = errors.problems.join('\n');
    expect(problems).toContain('console error: something broke');
    expect(problems).toContain('page error: uncaught in the page');
    expect(problems).toContain('HTTP 404 GET /missing');
    expect(problems).toMatch(/request failed: GET http:\/\/127\.0\.0\.1:9\/refused/);
    expect(problems).not.toContain('/expected');
    expect(() => errors.assertNone()).toThrow(/The browser reported problems/);
  });
});

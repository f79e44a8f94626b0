import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems } from './support/accessibility.js';
import { launchBrowser, newGuardedPage } from './support/browser.js';

const STYLE = '<style>:focus-visible { outline: 3px solid orange; } .bare:focus { outline: none; }</style>';

const GOOD = `<!doctype html><title>good</title>${STYLE}
  <a href="#main">Skip to main content</a>
  <h1>Good page</h1>
  <label for="name">Name</label><input id="name">
  <input aria-label="Search" type="search">
  <span id="kind-label">Kind</span><select aria-labelledby="kind-label"><option>a</option></select>
  <label>Note <textarea></textarea></label>
  <button>Save</button>
  <input type="hidden" name="csrf">
  <div hidden><input></div>
  <h2>Only one h1</h2>`;

const BAD = `<!doctype html><title>bad</title>${STYLE}
  <h1>One</h1><h1>Two</h1>
  <input id="unnamed" placeholder="a placeholder is not a label">
  <select name="choice"><option>a</option></select>
  <button class="bare">Focus invisible</button>
  <button type="button"></button>
  <div style="width: 1200px">too wide</div>`;

/** The shared accessibility check must pass a page that meets the floor and name each failure. */
describe('the e2e accessibility check', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const body = request.url === '/good' ? GOOD : request.url === '/bad' ? BAD : undefined;
      if (body) response.writeHead(200, { 'content-type': 'text/html' }).end(body);
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

  it('passes a page with named controls, one h1, no sideways scroll and a visible focus', async () => {
    const { page, context } = await newGuardedPage(browser, base);
    await page.goto('/good');
    await page.getByLabel('Name').focus();
    await expect(accessibilityProblems(page)).resolves.toEqual([]);
    // the viewport and the focus are given back as they were
    expect(page.viewportSize()).toEqual({ width: 1280, height: 900 });
    await expect(page.evaluate('document.activeElement.id')).resolves.toBe('name');
    await context.close();
  });

  it('names every control without a name, the h1 count, the width and an invisible focus', async () => {
    const { page, context } = await newGuardedPage(browser, base);
    await page.goto('/bad');
    const problems = await accessibilityProblems(page);
    await context.close();
    expect(problems).toEqual([
      '/bad: form control without an accessible name: <input id="unnamed">',
      '/bad: form control without an accessible name: <select name="choice">',
      '/bad: form control without an accessible name: <button type="button">',
      '/bad: 2 visible h1 elements, not 1: One | Two',
      expect.stringMatching(/^\/bad: scrolls sideways at 800 px \(document scrollWidth \d+\)$/),
      '/bad: keyboard focus not visible on <button> "Focus invisible"',
    ]);
  });
});

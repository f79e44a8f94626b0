import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, as a root, offline machine runs it (see docs: TESTBED "Browsers"). */
export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Launches Chromium; Playwright gives every launch a fresh, temporary --user-data-dir of its own. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** An HTTP error the test expects (and asserts on the page): `expectHttpError(401, '/api/v1/auth/totp')`. */
interface Expected {
  status: number;
  path: string | RegExp;
}

/**
 * Watches one page for everything that must fail a test: console errors, uncaught page errors, failed
 * requests, and HTTP errors the test did not declare with `expectHttpError`. Chromium reports every
 * 4xx/5xx response as a console error "Failed to load resource"; those are judged by the response.
 */
export class BrowserErrors {
  readonly problems: string[] = [];
  private readonly expected: Expected[] = [];

  watch(page: Page): void {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) return;
      this.problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      const failure = request.failure()?.errorText ?? 'failed';
      // the page cancelled it (navigation, or an AbortController of a load that was replaced)
      if (failure === 'net::ERR_ABORTED') return;
      this.problems.push(`request failed: ${request.method()} ${request.url()}: ${failure}`);
    });
    page.on('response', (response) => {
      if (response.status() < 400) return;
      const url = new URL(response.url());
      const ok = this.expected.some(
        (e) =>
          e.status === response.status() &&
          (typeof e.path === 'string' ? url.pathname === e.path : e.path.test(url.pathname)),
      );
      if (!ok) {
        this.problems.push(`HTTP ${response.status()} ${response.request().method()} ${url.pathname}`);
      }
    });
  }

  /** Declares an HTTP error the test provokes on purpose and checks on the page. */
  expectHttpError(status: number, path: string | RegExp): void {
    this.expected.push({ status, path });
  }

  /** Throws with every problem seen (called after each test). */
  assertNone(): void {
    if (this.problems.length > 0) {
      throw new Error(`The browser reported problems:\n  ${this.problems.join('\n  ')}`);
    }
  }
}

export interface GuardedPage {
  page: Page;
  context: BrowserContext;
  errors: BrowserErrors;
}

/** A page in a context of its own (own cookies), watched for errors. */
export async function newGuardedPage(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 900 },
): Promise<GuardedPage> {
  const context = await browser.newContext({ baseURL, viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  const page = await context.newPage();
  const errors = new BrowserErrors();
  errors.watch(page);
  return { page, context, errors };
}

import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newGuardedPage, type GuardedPage } from './browser.js';
import { createFleet, type E2eFleet, type FleetOptions } from './fleet.js';
import { createOperator, type E2eOperator, type OperatorOptions } from './operators.js';
import { startE2eServer, type E2eServer, type E2eServerOptions } from './server.js';

export { screenshot } from './screenshots.js';
export { accessibilityProblems, expectAccessible } from './accessibility.js';
export { searchAuditPage, type AuditRow, type AuditSearch } from './audit-page.js';
export { signInWithUi, totpCode, type E2eOperator } from './operators.js';
export type { GuardedPage } from './browser.js';
export type { E2eFleet } from './fleet.js';
export { freePort, type E2eServer } from './server.js';

/**
 * The e2e harness for one test file:
 *
 *   const e2e = useE2e({ fleet: true });
 *   it('…', async () => {
 *     const alice = await e2e.operator({ name: 'alice', roles: ['requester'], groups: ['dev'] });
 *     const { page, errors } = await e2e.page();
 *     await signInWithUi(page, alice);
 *     errors.expectHttpError(409, '/api/v1/…');   // only for errors the test provokes and asserts
 *     await screenshot(page, 'my-page');
 *   });
 *
 * Before the file: a real Gatehouse server (current web build) on a scratch PostgreSQL database, and
 * Chromium. After each test: every page it opened must have had no console error, page error, failed
 * request or undeclared HTTP error; its pages are closed. After the file: everything is torn down
 * (browser, server, scratch and target databases, the run's target accounts).
 */
export interface E2e {
  server: E2eServer;
  /** Present with `useE2e({ fleet: true })`. */
  fleet: E2eFleet;
  browser: Browser;
  baseUrl: string;
  /** A new page in its own browser context (own cookies), 1280 × 900 unless told. */
  page(viewport?: { width: number; height: number }): Promise<GuardedPage>;
  operator(options: OperatorOptions): Promise<E2eOperator>;
}

export interface UseE2eOptions extends E2eServerOptions {
  fleet?: boolean | FleetOptions;
}

export function useE2e(options: UseE2eOptions = {}): E2e {
  let server: E2eServer | undefined;
  let fleet: E2eFleet | undefined;
  let browser: Browser | undefined;
  let pages: GuardedPage[] = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`e2e: no ${what} (outside a test, or not asked for)`);
    return value;
  };

  beforeAll(async () => {
    server = await startE2eServer(options);
    if (options.fleet) fleet = await createFleet(server, options.fleet === true ? {} : options.fleet);
    browser = await launchBrowser();
  });

  afterEach(async () => {
    const opened = pages;
    pages = [];
    for (const { context } of opened) await context.close();
    for (const { errors } of opened) errors.assertNone();
  });

  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
    await server?.close();
  });

  return {
    get server() {
      return need(server, 'server');
    },
    get fleet() {
      return need(fleet, 'fleet');
    },
    get browser() {
      return need(browser, 'browser');
    },
    get baseUrl() {
      return need(server, 'server').baseUrl;
    },
    async page(viewport) {
      const guarded = await newGuardedPage(
        need(browser, 'browser'),
        need(server, 'server').baseUrl,
        viewport,
      );
      pages.push(guarded);
      return guarded;
    },
    operator: (operatorOptions) => createOperator(need(server, 'server'), operatorOptions),
  };
}

import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectAccessible,
  screenshot,
  searchAuditPage,
  signInWithUi,
  useE2e,
  type E2eOperator,
} from './support/index.js';

/**
 * Browsing the back-office, on a real server on PostgreSQL: the Inventory page's views, filters, pages
 * and empty and error states; the Audit page finding events the test made through the API by their
 * filters, an event's detail with its hashes, the export's download holding that event, and the chain
 * verified. Each page passes the shared accessibility checks (screenshot() runs them too).
 */

interface AuditRecord {
  id: string;
  seq: number;
  action: string;
  actorName: string;
  ticket: string | null;
  hash: string;
  prevHash: string;
  occurredAt: string;
}

/** The names in the first column of the page's table (the row headers), in order. */
function rowNames(page: Page): Promise<string[]> {
  return page.locator('tbody th[scope="row"]').allTextContents();
}

/** A time as a datetime-local field takes it, in this machine's (and so the browser's) time zone. */
function localInput(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

describe('web back-office: inventory and audit', () => {
  const e2e = useE2e({ fleet: true });
  // one operator per test, so no sign-in waits for the next TOTP time step
  let ivy: E2eOperator;
  let iris: E2eOperator;
  let abe: E2eOperator;
  let amy: E2eOperator;
  let globex: string;
  let web: string;
  let mariadb: string;
  const nodes: string[] = [];
  let ticket: { id: string; ref: string; title: string };

  beforeAll(async () => {
    const { t, run } = e2e.server;
    const { customer, region } = e2e.fleet;
    const created = async (url: string, body: unknown) => {
      const response = await t.call('POST', url, { body });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
      return response.json<Record<string, unknown>>();
    };
    // besides the fleet's Acme (production, staging; a PostgreSQL asset): a server in Acme's staging,
    // and Globex with a MariaDB and enough servers for a second page of assets
    web = `${run}-web`;
    await created('/api/v1/assets', {
      kind: 'server',
      name: web,
      customer,
      environment: 'staging',
      os: 'debian-12',
      address: '198.51.100.10',
    });
    globex = `${run}-globex`;
    await created('/api/v1/customers', { name: globex, displayName: 'Globex' });
    await created(`/api/v1/customers/${globex}/environments`, {
      name: 'production',
      tier: 'production',
      region,
    });
    mariadb = `${run}-orders`;
    await created('/api/v1/assets', {
      kind: 'database',
      name: mariadb,
      customer: globex,
      environment: 'production',
      engine: 'mariadb',
      host: '198.51.100.20',
      port: 3306,
    });
    for (let i = 1; i <= 26; i++) {
      const name = `${run}-node-${String(i).padStart(2, '0')}`;
      nodes.push(name);
      await created('/api/v1/assets', {
        kind: 'server',
        name,
        customer: globex,
        environment: 'production',
        os: 'debian-12',
        address: `198.51.100.${100 + i}`,
        labels: { tier: 'app' },
      });
    }
    // the auditor who browses; and a ticket whose creation is the audit event the test looks for
    ivy = await e2e.operator({ name: 'ivy', displayName: 'Ivy Auditor', roles: ['auditor'] });
    iris = await e2e.operator({ name: 'iris', roles: ['requester'] });
    abe = await e2e.operator({ name: 'abe', displayName: 'Abe Auditor', roles: ['auditor'] });
    amy = await e2e.operator({ name: 'amy', roles: ['auditor'] });
    const title = `Quarterly access review ${run}`;
    const made = await created('/api/v1/tickets', { title, assignee: ivy.username });
    ticket = { id: String(made.id), ref: String(made.ref), title };
    // and enough other events for the audit log's second page
    for (let i = 1; i <= 20; i++) await created('/api/v1/tickets', { title: `Routine check ${i}` });
  });

  it('lists assets, customers, environments and jumpboxes with filters, pages and an empty state', async () => {
    const { asset: postgres } = e2e.fleet.postgres;
    const { customer: acme, jumpbox } = e2e.fleet;
    const { page } = await e2e.page();
    await signInWithUi(page, ivy, '/inventory');
    await page.getByRole('heading', { name: 'Inventory', level: 1 }).waitFor();

    // every asset, 25 to a page: the second page holds the rest
    await expect.poll(() => rowNames(page)).toHaveLength(25);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => rowNames(page)).toHaveLength(29 - 25);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => rowNames(page)).toHaveLength(25);

    // customer, then environment (the customer's own), then kind
    await page.getByLabel('Customer', { exact: true }).selectOption(acme);
    await expect.poll(() => rowNames(page)).toEqual([postgres, web].sort());
    await page.getByLabel('Environment', { exact: true }).selectOption('staging');
    await expect.poll(() => rowNames(page)).toEqual([web]);
    await page.getByLabel('Environment', { exact: true }).selectOption('');
    await page.getByLabel('Kind', { exact: true }).selectOption('database');
    await expect.poll(() => rowNames(page)).toEqual([postgres]);
    await expect(page.getByRole('cell', { name: 'Database (postgres)' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'inventory');

    // a search across customers; then one that matches nothing, and back
    await page.getByLabel('Customer', { exact: true }).selectOption('');
    await page.getByLabel('Kind', { exact: true }).selectOption('');
    await page.getByLabel('Search by name', { exact: true }).fill('node-2');
    await expect.poll(() => rowNames(page)).toEqual(nodes.filter((n) => n.includes('node-2')));
    await page.getByLabel('Search by name', { exact: true }).fill('no-such-asset');
    await page.getByText('No assets match these filters').waitFor();
    await screenshot(page, 'inventory-empty');
    await page.getByRole('button', { name: 'Clear the filters' }).click();
    await expect.poll(() => rowNames(page)).toHaveLength(25);
    await expect(page.getByLabel('Search by name', { exact: true }).inputValue()).resolves.toBe('');

    // customers: a search, and a customer's assets from its row
    const views = page.getByRole('navigation', { name: 'Inventory views' });
    await views.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 2 }).waitFor();
    await expect.poll(() => rowNames(page)).toEqual([acme, globex].sort());
    await page.getByLabel('Search by name', { exact: true }).fill('globex');
    await expect.poll(() => rowNames(page)).toEqual([globex]);
    await screenshot(page, 'inventory-customers');
    await page.getByRole('link', { name: `Assets of ${globex}` }).click();
    await page.getByRole('heading', { name: 'Assets', level: 2 }).waitFor();
    await expect(page.getByLabel('Customer', { exact: true }).inputValue()).resolves.toBe(globex);
    await expect.poll(() => rowNames(page)).toHaveLength(25);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => rowNames(page)).toEqual([nodes[25], mariadb]);

    // environments belong to a customer
    await views.getByRole('link', { name: 'Environments' }).click();
    await page.getByLabel('Customer', { exact: true }).selectOption('');
    await page.getByText('Environments belong to a customer').waitFor();
    await page.getByLabel('Customer', { exact: true }).selectOption(acme);
    await expect.poll(() => rowNames(page)).toEqual(['production', 'staging']);
    await expectAccessible(page);

    // jumpboxes, with where their connections come from
    await views.getByRole('link', { name: 'Jumpboxes' }).click();
    await expect.poll(() => rowNames(page)).toEqual([jumpbox]);
    await page.getByRole('cell', { name: '127.0.0.1/32' }).waitFor();
    await screenshot(page, 'inventory-jumpboxes');
  });

  it("shows the API's error, with its request id, when a list cannot be loaded, and a page that is not there", async () => {
    const { page, errors } = await e2e.page();
    await signInWithUi(page, iris);
    errors.expectHttpError(503, '/api/v1/jumpboxes');
    await page.route(
      (url) => url.pathname === '/api/v1/jumpboxes',
      (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            code: 'unavailable',
            message: 'The database is not reachable; try again in a minute.',
            requestId: 'req-e2e-503',
          }),
        }),
    );
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inventory' }).click();
    await page
      .getByRole('navigation', { name: 'Inventory views' })
      .getByRole('link', { name: 'Jumpboxes' })
      .click();
    const alert = page.getByRole('alert');
    await alert.getByText('The jumpboxes could not be loaded').waitFor();
    await alert.getByText('The database is not reachable; try again in a minute.').waitFor();
    await alert.getByText('req-e2e-503').waitFor();

    // and an address the back-office has no page for
    await page.goto('/inventory-of-nothing');
    await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Go to the start page' }).waitFor();
    await screenshot(page, 'not-found');
  });

  it('finds an event made through the API by its filters, shows its detail, exports it, and verifies the chain', async () => {
    const { t } = e2e.server;
    const listed = await t.call('GET', `/api/v1/audit/events?ticket=${ticket.ref}&action=ticket.created`);
    expect(listed.statusCode, listed.body).toBe(200);
    const [made] = listed.json<{ items: AuditRecord[] }>().items;
    expect(made).toBeDefined();
    const event = made!;

    // more events than one page holds
    const all = await t.call('GET', '/api/v1/audit/events?limit=500');
    expect(all.json<{ items: unknown[] }>().items.length).toBeGreaterThan(50);

    const { page } = await e2e.page();
    await signInWithUi(page, abe, '/audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();

    // the chain's verification
    const verified = page.getByRole('status').filter({ hasText: 'Verified: the chain is intact' });
    await verified.waitFor();
    await expect(verified.textContent()).resolves.toMatch(/Events #1 to #\d+: \d+ checked/);

    // every event, newest first, 50 to a page
    await expect.poll(() => rowNames(page)).toHaveLength(50);
    const first = await rowNames(page);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(async () => (await rowNames(page))[0]).not.toBe(first[0]);
    const older = Number((await rowNames(page))[0]!.replace(/\D/g, ''));
    expect(older).toBeLessThan(Number(first.at(-1)!.replace(/\D/g, '')));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => rowNames(page)).toEqual(first);
    await screenshot(page, 'audit');

    // what the API would refuse is said next to the field, and nothing is asked
    const action = page.getByLabel('Action', { exact: true });
    await action.fill('Ticket Created');
    await page.getByLabel('From', { exact: true }).fill('2026-11-26T12:00');
    await page.getByLabel('To', { exact: true }).fill('2026-11-26T11:00');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('Use lower-case letters, digits and . _ -').waitFor();
    await page.getByText('Must not be before From').waitFor();
    await expect(action.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.evaluate('document.activeElement.labels[0].textContent')).resolves.toBe('Action');
    await expect(rowNames(page)).resolves.toEqual(first);
    await page.getByRole('button', { name: 'Clear', exact: true }).click();

    // by ticket and action prefix
    await page.getByLabel('Action', { exact: true }).fill('ticket.*');
    await page.getByLabel('Ticket', { exact: true }).fill(ticket.ref);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => rowNames(page)).toEqual([`#${event.seq}`]);
    await page.getByRole('cell', { name: 'ticket.created' }).waitFor();

    // by actor, target and a time range around the event; a range before it finds nothing
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    const at = new Date(event.occurredAt);
    await page.getByLabel('Actor', { exact: true }).fill(event.actorName);
    await page.getByLabel('Target type', { exact: true }).fill('ticket');
    await page.getByLabel('Target id', { exact: true }).fill(ticket.id);
    await page.getByLabel('From', { exact: true }).fill(localInput(new Date(at.getTime() - 60_000)));
    await page.getByLabel('To', { exact: true }).fill(localInput(new Date(at.getTime() + 120_000)));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => rowNames(page)).toEqual([`#${event.seq}`]);
    await page.getByLabel('To', { exact: true }).fill(localInput(new Date(at.getTime() - 60_000)));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('No event matches this search').waitFor();
    await expectAccessible(page);
    await page.getByLabel('To', { exact: true }).fill(localInput(new Date(at.getTime() + 120_000)));
    await page.getByRole('button', { name: 'Search', exact: true }).click();

    // its detail: every field, the details as JSON, the hash and the previous hash
    await page.getByRole('link', { name: `Event #${event.seq}` }).click();
    await page.getByRole('heading', { name: `Audit event #${event.seq}`, level: 1 }).waitFor();
    const facts = page.locator('dl.event-facts');
    await facts.getByText(event.id).waitFor();
    await facts.getByText(event.hash).waitFor();
    await facts.getByText(event.prevHash).waitFor();
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    const json = JSON.parse(
      (await page.getByRole('region', { name: 'Details as JSON' }).textContent()) ?? '',
    ) as Record<string, unknown>;
    expect(json).toMatchObject({ ref: ticket.ref, title: ticket.title });
    await screenshot(page, 'audit-event');

    // back to the same search
    await page.getByRole('link', { name: 'Back to the search' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await expect(page.getByLabel('Target id', { exact: true }).inputValue()).resolves.toBe(ticket.id);
    await expect.poll(() => rowNames(page)).toEqual([`#${event.seq}`]);

    // the export downloads a file holding the event, hashes included
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export as JSON lines' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('gatehouse-audit.jsonl');
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    const exported = lines.map((line) => JSON.parse(line) as AuditRecord).find((r) => r.id === event.id);
    expect(exported).toMatchObject({
      seq: event.seq,
      action: 'ticket.created',
      ticket: ticket.ref,
      hash: event.hash,
      prevHash: event.prevHash,
    });
  });

  it("finds the operator's own sign-in by actor and action, and opens it from its detail's related links", async () => {
    const { page } = await e2e.page();
    await signInWithUi(page, amy, '/audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await page.getByLabel('Action', { exact: true }).fill('auth.signed-in');
    await page.getByLabel('Actor', { exact: true }).fill(amy.username);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    // Amy's sign-ins (the harness's, when it enrolled her TOTP, and this browser's), no one else's
    await expect.poll(async () => (await rowNames(page)).length).toBeGreaterThanOrEqual(2);
    const actors = await page.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(new Set(actors)).toEqual(new Set([amy.username]));
    await page.locator('tbody th[scope="row"] a').first().click();
    await page.getByRole('heading', { name: /^Audit event #\d+$/, level: 1 }).waitFor();
    await page.locator('dl.event-facts').getByText('auth.signed-in').waitFor();
    await page.getByRole('link', { name: `Events by ${amy.username}` }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await expect(page.getByLabel('Actor', { exact: true }).inputValue()).resolves.toBe(amy.username);
    await expect(page.getByLabel('Action', { exact: true }).inputValue()).resolves.toBe('');
  });

  it('finds the events of an access path made through the API, by its ticket and by the request', async () => {
    const { t, run } = e2e.server;
    const asApi = async (token: string | undefined, url: string, body: unknown, status: number) => {
      const response = await t.call('POST', url, { ...(token ? { token } : {}), body });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(status);
      return response.json<Record<string, unknown>>();
    };
    await asApi(
      undefined,
      '/api/v1/access/policies',
      {
        policies: [
          {
            name: 'dev-databases',
            requesterGroups: ['dev'],
            levels: ['read-only'],
            assets: { kinds: ['database'] },
            maxDuration: '4h',
            ticket: 'required',
            approvals: { approverGroups: ['leads'], reviewWindow: '2h' },
          },
        ],
      },
      200,
    );
    const dana = `${run}.dana`;
    const lee = `${run}.lee`;
    const danaToken = await t.operatorToken(dana, ['requester'], ['dev']);
    const leeToken = await t.operatorToken(lee, ['approver'], ['leads']);
    const { ref } = await asApi(
      undefined,
      '/api/v1/tickets',
      { title: 'Monthly report', assignee: dana },
      201,
    );
    const request = await asApi(
      danaToken,
      '/api/v1/access/requests',
      {
        asset: e2e.fleet.postgres.asset,
        level: 'read-only',
        duration: '1h',
        reason: 'The monthly report is slow',
        ticket: ref,
      },
      201,
    );
    await asApi(leeToken, `/api/v1/access/requests/${String(request.id)}/approve`, { comment: 'ok' }, 200);

    const ann = await e2e.operator({ name: 'ann', roles: ['auditor'] });
    const { page } = await e2e.page();
    await signInWithUi(page, ann, '/audit');

    // the ticket's whole path, newest first: the ticket, the request, its approval and the grant
    const byTicket = await searchAuditPage(page, { ticket: String(ref) });
    expect(byTicket.map((r) => r.action)).toEqual([
      'grant.created',
      'access-request.approved',
      'access-request.created',
      'ticket.created',
    ]);
    expect(new Set(byTicket.map((r) => r.ticket))).toEqual(new Set([String(ref)]));

    // the request's own events, by whom
    const byRequest = await searchAuditPage(page, {
      targetType: 'access-request',
      targetId: String(request.id),
    });
    const who = Object.fromEntries(byRequest.map((r) => [r.action, r.actor]));
    expect(who).toMatchObject({ 'access-request.created': dana, 'access-request.approved': lee });
  });
});

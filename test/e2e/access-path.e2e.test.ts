import { execFile } from 'node:child_process';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { screenshot, signInWithUi, useE2e, type E2eOperator } from './support/index.js';
import { searchAuditPage } from './support/audit-page.js';

/**
 * The full path of just-in-time access through the back-office, on a real server on PostgreSQL: a
 * requester asks for read-only access to a PostgreSQL asset, a second user approves in a browser of
 * their own, the requester reveals the credential and copies it, the copied line and password log in
 * with `psql` on a cluster that checks passwords, the requester revokes, and the login fails.
 */

type Runner = Pick<JobRunner, 'stop'>;

interface Login {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs the copied connection line's conninfo with psql, the copied password in PGPASSWORD. */
function psqlWith(line: string, password: string, sql: string): Promise<Login> {
  const conninfo = /^psql "([^"]+)"$/.exec(line)?.[1];
  if (!conninfo) throw new Error(`not a psql connection line: ${line}`);
  return new Promise((resolve) => {
    execFile(
      'psql',
      [conninfo, '-X', '-w', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
        timeout: 15_000,
      },
      (error, stdout, stderr) => resolve({ ok: !error, stdout: stdout.trim(), stderr: stderr.trim() }),
    );
  });
}

async function clipboardAfter(page: Page, button: string): Promise<string> {
  await page.getByRole('button', { name: button }).click();
  await page.getByText('Copied').first().waitFor();
  return page.evaluate<string>('navigator.clipboard.readText()');
}

describe('web back-office: request, approve, reveal, connect, revoke', () => {
  const e2e = useE2e({ fleet: { scram: true } });
  let workers: Runner;
  let alice: E2eOperator;
  let bob: E2eOperator;
  let carol: E2eOperator;
  let ticket: string;

  beforeAll(async () => {
    const { t } = e2e.server;
    workers = t.gh.startWorkers();
    const policies = await t.call('POST', '/api/v1/access/policies', {
      body: {
        policies: [
          {
            name: 'dev-databases',
            requesterGroups: ['dev'],
            levels: ['read-only', 'read-write'],
            assets: { kinds: ['database'] },
            maxDuration: '4h',
            ticket: 'required',
            approvals: { approverGroups: ['leads'], reviewWindow: '2h' },
            breakGlass: { allowed: true, maxDuration: '1h' },
          },
          {
            name: 'dba-databases',
            requesterGroups: ['dba'],
            levels: ['read-only'],
            assets: { kinds: ['database'] },
            maxDuration: '2h',
            ticket: 'optional',
            approvals: { requiredGroups: ['dba', 'security'], quorum: 2 },
          },
        ],
      },
    });
    expect(policies.statusCode, policies.body).toBe(200);
    alice = await e2e.operator({ name: 'alice', displayName: 'Alice Requester', groups: ['dev'] });
    bob = await e2e.operator({
      name: 'bob',
      displayName: 'Bob Approver',
      roles: ['approver'],
      groups: ['leads'],
    });
    carol = await e2e.operator({ name: 'carol', displayName: 'Carol Auditor', roles: ['auditor'] });
    const created = await t.call('POST', '/api/v1/tickets', {
      body: { title: 'Slow monthly report', assignee: alice.username },
    });
    expect(created.statusCode, created.body).toBe(201);
    ticket = created.json<{ ref: string }>().ref;
  });

  afterAll(async () => {
    await workers?.stop();
  });

  it('a requester asks, a second user approves, the copied credential logs in with psql until it is revoked', async () => {
    const { asset, database } = e2e.fleet.postgres;

    // the requester: an empty My access, then the request form with its live policy preview
    const requester = await e2e.page();
    await signInWithUi(requester.page, alice, '/access');
    await requester.page.getByRole('heading', { name: 'My access' }).waitFor();
    await requester.page.getByText('You have no access right now').waitFor();
    await screenshot(requester.page, 'my-access-empty');

    const form = requester.page;
    await form.getByRole('link', { name: 'Request access' }).first().click();
    await form.getByRole('heading', { name: 'Request access' }).waitFor();
    await form.getByLabel('Search by name').fill(asset.slice(0, -1));
    await form.getByLabel('Kind').selectOption('database');
    await form.getByRole('radio', { name: new RegExp(asset) }).check();
    await form.getByLabel('Permission level').selectOption('read-only');
    await form.getByLabel('Duration').fill('1h');
    // no ticket yet: the policy wants one, and the preview says so before anything is sent
    await form.getByText('Not allowed as it stands').waitFor();
    await form.getByText(/requires a ticket/).waitFor();
    await form.getByLabel('Ticket').fill(ticket);
    await form.getByLabel('Reason').fill('Check why the monthly report is slow (read-only)');
    await form.getByText('Allowed after review').waitFor();
    const preview = form.getByRole('region', { name: 'What the policy says' });
    await expect.poll(() => preview.innerText()).toContain('Maximum duration');
    expect(await preview.innerText()).toMatch(/4h[\s\S]*1 approval needed \(members of leads\)/);
    await screenshot(form, 'request-access');
    await form.getByRole('button', { name: 'Request access' }).click();
    await form.getByRole('heading', { name: 'Request sent' }).waitFor();
    expect(await form.locator('.request-state').innerText()).toBe('waiting for review: 0 of 1 approvals');

    // the approver, in a browser context of their own: the request with its context and the quorum
    const approver = await e2e.page();
    await signInWithUi(approver.page, bob, '/approvals');
    const card = approver.page.getByRole('listitem').filter({ hasText: `${alice.username} asks for` });
    await card.waitFor();
    const context = await card.innerText();
    for (const shown of [asset, ticket, 'Check why the monthly report is slow', '0 of 1', 'read-only']) {
      expect(context).toContain(shown);
    }
    await card.getByText(`${alice.username} has had no grant yet.`).waitFor();
    await screenshot(approver.page, 'approvals');
    await card.getByLabel('Comment').fill('Fine for the report investigation');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await approver.page.getByText(`Approved ${alice.username}'s request for ${asset}`).waitFor();
    await approver.page.getByText('Nothing to review').waitFor();
    await screenshot(approver.page, 'approvals-empty');

    // the requester: the grant becomes active (provisioned by the server's workers) with its countdown
    const mine = requester.page;
    await mine.goto('/access');
    const reveal = mine.getByRole('button', { name: 'Reveal credential' });
    await reveal.waitFor({ timeout: 30_000 });
    await mine.getByRole('timer').waitFor();
    const timer = mine.getByRole('timer');
    const first = await timer.innerText();
    expect(first).toMatch(/^(5\dm|1h 00m) \d\ds$/);
    // the countdown is live: it moves without a reload
    await expect.poll(() => timer.innerText(), { timeout: 5000 }).not.toBe(first);
    await reveal.click();
    await mine.getByText('Shown this once: copy it now.').waitFor();
    expect(await mine.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""')).toMatch(
      /^Credential for gh_/,
    );
    const password = await clipboardAfter(mine, 'Copy password');
    const line = await clipboardAfter(mine, 'Copy connection line');
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(line).toMatch(new RegExp(`^psql "host=\\S+ port=\\d+ user=gh_\\w+ dbname=${database}"$`));
    expect(line).not.toContain(password);
    await mine.getByText(new RegExp(`by ${alice.username.replace('.', '\\.')}`)).waitFor();
    await screenshot(mine, 'my-access');

    // the copied line and password log in, read-only
    const login = await psqlWith(line, password, 'SELECT current_user, count(*) FROM items');
    expect(login.stderr).toBe('');
    expect(login.ok).toBe(true);
    expect(login.stdout).toMatch(/^gh_\w+\|2$/);
    const write = await psqlWith(line, password, "INSERT INTO items VALUES (3, 'third')");
    expect(write.ok).toBe(false);
    expect(write.stderr).toContain('permission denied');

    // more time: the extension goes to review, the approver grants it, the countdown moves
    await mine.getByRole('button', { name: 'Request extension' }).click();
    await mine.getByLabel('Extend by').fill('30m');
    await mine.getByLabel('Why the work needs more time').fill('The report query runs long');
    await mine.getByRole('button', { name: 'Request extension' }).click();
    await mine.getByText(/^Extension to .* sent for review\.$/).waitFor();
    await approver.page.goto('/approvals');
    const extension = approver.page
      .getByRole('listitem')
      .filter({ hasText: `${alice.username} asks 30m more on ${asset}` });
    expect(await extension.innerText()).toContain('The report query runs long');
    await extension.getByRole('button', { name: 'Approve extension' }).click();
    await approver.page.getByText(`Approved ${alice.username}'s extension on ${asset}.`).waitFor();
    await mine.goto('/access');
    await expect.poll(() => mine.getByRole('timer').innerText()).toMatch(/^1h (2\d|30)m \d\ds$/);

    // early revoke, confirmed; then the account is gone and the same login fails
    await mine.getByRole('button', { name: 'Revoke', exact: true }).click();
    // asked to confirm, the keyboard lands on the safe choice
    expect(await mine.evaluate<string>('document.activeElement?.textContent ?? ""')).toBe('Keep access');
    await mine.getByRole('button', { name: 'Yes, revoke' }).click();
    await mine.getByText('Access revoked; the account is being removed.').waitFor();
    await mine.getByRole('heading', { name: 'Ended' }).waitFor({ timeout: 30_000 });
    await mine.getByText(/revoked by holder/).waitFor();
    const after = await psqlWith(line, password, 'SELECT 1');
    expect(after.ok).toBe(false);
    expect(after.stderr).toMatch(/password authentication failed|does not exist/);

    // an auditor finds the whole path on the Audit page by its ticket, with the chain verified
    const auditor = await e2e.page();
    await signInWithUi(auditor.page, carol, '/audit');
    const rows = await searchAuditPage(auditor.page, { ticket });
    const actions = rows.map((row) => row.action);
    for (const action of [
      'access-request.created',
      'access-request.approved',
      'grant.activated',
      'grant.credential-revealed',
      'grant.extended',
      'grant.revoked',
    ]) {
      expect(actions).toContain(action);
    }
    expect(rows.every((row) => row.ticket === ticket)).toBe(true);
    await auditor.page
      .getByText(/verified/i)
      .first()
      .waitFor();
  });

  it('keyboard alone: a request is filled in and sent; a denial needs a comment, which the requester then reads', async () => {
    const { asset } = e2e.fleet.postgres;
    const dave = await e2e.operator({ name: 'dave', displayName: 'Dave Requester', groups: ['dev'] });
    const assigned = await e2e.server.t.call('POST', '/api/v1/tickets', {
      body: { title: 'Look at the nightly job', assignee: dave.username },
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const daveTicket = assigned.json<{ ref: string }>().ref;

    const { page } = await e2e.page();
    await signInWithUi(page, dave, '/request');
    await page.getByLabel('Search by name').focus();
    const label = async () =>
      page.evaluate<string>(
        'document.activeElement?.labels?.[0]?.innerText ?? document.activeElement?.innerText ?? ""',
      );
    await page.keyboard.type(asset);
    await page.getByRole('radio', { name: new RegExp(asset) }).waitFor();
    await page.keyboard.press('Tab'); // customer
    expect(await label()).toBe('Customer');
    await page.keyboard.press('Tab'); // kind (environment waits for a customer, so it is skipped)
    expect(await label()).toBe('Kind');
    await page.keyboard.press('Tab'); // the matching asset
    await page.keyboard.press('Space');
    expect(await page.getByRole('radio', { name: new RegExp(asset) }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await label()).toBe('Permission level');
    await page.keyboard.press('Tab');
    expect(await label()).toBe('Duration');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('30m');
    await page.keyboard.press('Tab');
    expect(await label()).toBe('Reason');
    await page.keyboard.type('Rerun the nightly job by hand');
    await page.keyboard.press('Tab');
    expect(await label()).toBe('Ticket');
    await page.keyboard.type(daveTicket);
    await page.getByText('Allowed after review').waitFor();
    await page.keyboard.press('Tab'); // file transfer
    await page.keyboard.press('Tab'); // break-glass
    await page.keyboard.press('Tab');
    expect(await label()).toBe('Request access');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Request sent' }).waitFor();

    // the reviewer must say why they deny
    const approver = await e2e.page();
    await signInWithUi(approver.page, bob, '/approvals');
    const card = approver.page.getByRole('listitem').filter({ hasText: `${dave.username} asks for` });
    await card.getByRole('button', { name: 'Deny' }).click();
    await card.getByText('Say why you deny it: the requester sees this comment.').waitFor();
    expect(await card.getByLabel('Comment').getAttribute('aria-invalid')).toBe('true');
    await card.getByLabel('Comment').fill('Use the staging copy for this');
    await card.getByRole('button', { name: 'Deny' }).click();
    await approver.page.getByText(`Denied ${dave.username}'s request for ${asset}.`).waitFor();

    // the requester reads the denial and its reason on My access; nothing was granted
    await page.getByRole('link', { name: 'Go to My access' }).click();
    await page.getByRole('heading', { name: 'Recently closed requests' }).waitFor();
    const closed = await page.locator('.closed-requests').innerText();
    expect(closed).toContain(`denied by ${bob.username}: “Use the staging copy for this”`);
    await page.getByText('You have no access right now').waitFor();
  });

  it('a quorum of two from two groups: the reviewers see its progress, and who is still needed', async () => {
    const { asset } = e2e.fleet.postgres;
    const dora = await e2e.operator({ name: 'dora', displayName: 'Dora DBA', groups: ['dba'] });
    const dan = await e2e.operator({ name: 'dan', roles: ['approver'], groups: ['dba'] });
    const sam = await e2e.operator({ name: 'sam', roles: ['approver'], groups: ['security'] });

    const { page } = await e2e.page();
    await signInWithUi(page, dora, '/request');
    await page.getByLabel('Search by name').fill(asset);
    await page.getByRole('radio', { name: new RegExp(asset) }).check();
    await page.getByLabel('Duration').fill('2h');
    await page.getByLabel('Reason').fill('Vacuum the bloated table');
    await page.getByText(/2 approvals needed \(one from dba and one from security\)/).waitFor();
    await page.getByRole('button', { name: 'Request access' }).click();
    expect(await page.locator('.request-state').innerText()).toBe('waiting for review: 0 of 2 approvals');

    const first = await e2e.page();
    await signInWithUi(first.page, dan, '/approvals');
    const danCard = first.page.getByRole('listitem').filter({ hasText: `${dora.username} asks for` });
    await danCard.getByText('0 of 2').waitFor();
    await danCard.getByRole('button', { name: 'Approve', exact: true }).click();
    await first.page
      .getByText(`Approved ${dora.username}'s request for ${asset}; 1 of 2 approvals so far.`)
      .waitFor();
    // still pending, so still listed: a reviewer counts once, and the card says so instead of asking again
    await danCard.getByText('You approved this request; a reviewer counts once.').waitFor();
    expect(await danCard.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);

    const second = await e2e.page();
    await signInWithUi(second.page, sam, '/approvals');
    const samCard = second.page.getByRole('listitem').filter({ hasText: `${dora.username} asks for` });
    const progress = samCard.locator('.quorum');
    await progress.getByText('1 of 2').waitFor();
    expect(await progress.innerText()).toContain('still needed from security');
    expect(await progress.innerText()).toContain(`${dan.username} approved for dba`);
    expect(await progress.getByRole('meter').getAttribute('value')).toBe('1');
    await screenshot(second.page, 'approvals-quorum');
    await samCard.getByRole('button', { name: 'Approve', exact: true }).click();
    await second.page
      .getByText(`Approved ${dora.username}'s request for ${asset}; access is being granted.`)
      .waitFor();

    // the requester's grant comes up; nobody leaves it running
    await page.goto('/access');
    await page.getByRole('button', { name: 'Reveal credential' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByRole('heading', { name: 'Ended' }).waitFor({ timeout: 30_000 });
  });
});

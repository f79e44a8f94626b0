import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';
import {
  accessRunner,
  auditActions,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  fakeTickets,
  policySet,
  runToken,
  type Credential,
  type ExtensionView,
  type GrantView,
  type RequestView,
} from './access-support.js';

/**
 * The access API's rules, on both stores: policies as data, who may ask for what, reviews and quorum,
 * requests that end without provisioning, visibility and permissions. Targets are a fake connector
 * that keeps the connector interface's rules; the real databases are in access-postgres/-mariadb.
 */

const H = 3_600_000;

describe.each(backends)('access API on %s', (backend) => {
  const run = runToken();
  const clock = manualClock(new Date());
  const tickets = fakeTickets();
  const target = fakeConnector();
  let t: TestApp;
  let runner: JobRunner;
  let prod: string;
  let staging: string;
  let claimed: string;
  const tokens: Record<string, string> = {};
  const user = (name: string) => `${run}.${name}`;
  const url = (path: string) => `/api/v1${path}`;

  const ask = (who: string, body: Record<string, unknown>) =>
    t.call('POST', url('/access/requests'), {
      token: tokens[who]!,
      body: { asset: prod, level: 'read-only', duration: '1h', reason: 'investigate a slow report', ...body },
    });
  const created = async (who: string, body: Record<string, unknown> = {}) => {
    const response = await ask(who, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<RequestView>();
  };
  const act = (who: string, id: string, verb: string, body: Record<string, unknown> = {}) =>
    t.call('POST', url(`/access/requests/${id}/${verb}`), { token: tokens[who]!, body });
  const provisionJobs = async () =>
    (await t.gh.store.db.selectFrom('jobs').select('id').where('kind', '=', 'grant.provision').execute())
      .length;

  beforeAll(async () => {
    t = await createTestApp(backend, {
      clock,
      access: {
        tickets: tickets.source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    runner = accessRunner(t, clock, `access-api-${run}`);
    const fleet = await createFleet(t, run);
    const common = {
      engine: 'postgres' as const,
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
    };
    prod = (await createDatabaseAsset(t, fleet, { name: `${run}-prod-db`, ...common, database: 'app' })).name;
    staging = (
      await createDatabaseAsset(t, fleet, { name: `${run}-stg-db`, ...common, environment: 'staging' })
    ).name;
    claimed = (await createDatabaseAsset(t, fleet, { name: `${run}-claim-db`, ...common })).name;
    await expectStatus(t, 201, 'POST', url('/assets'), {
      body: {
        kind: 'server',
        name: `${run}-web`,
        customer: fleet.customer,
        environment: 'production',
        os: 'Debian 12',
        address: '192.0.2.20',
      },
    });
    await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
      body: {
        name: `${run}-jump`,
        region: fleet.region,
        address: '192.0.2.254',
        sourceCidrs: ['192.0.2.254/32'],
      },
    });
    // this test calls from 127.0.0.1: a jumpbox there, in a region of its own (credentials are shown on
    // jumpboxes only; accounts stay bound to the fleet region's jumpbox)
    await expectStatus(t, 201, 'POST', url('/regions'), { body: { name: `${run}-local` } });
    await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
      body: {
        name: `${run}-local-jump`,
        region: `${run}-local`,
        address: '127.0.0.1',
        sourceCidrs: ['127.0.0.1/32'],
      },
    });
    tokens.dana = await t.operatorToken(user('dana'), ['requester'], ['dev']);
    tokens.eve = await t.operatorToken(user('eve'), ['requester'], ['dev']);
    tokens.lee = await t.operatorToken(user('lee'), ['approver'], ['leads']);
    tokens.lou = await t.operatorToken(user('lou'), ['approver'], ['leads']);
    tokens.nat = await t.operatorToken(user('nat'), ['approver'], ['network']);
    tokens.lara = await t.operatorToken(user('lara'), ['approver'], ['dev', 'leads']);
    tokens.dora = await t.operatorToken(user('dora'), ['requester'], ['dba']);
    tokens.dan = await t.operatorToken(user('dan'), ['approver'], ['dba']);
    tokens.dina = await t.operatorToken(user('dina'), ['approver'], ['dba']);
    tokens.dual = await t.operatorToken(user('dual'), ['approver'], ['dba', 'security']);
    tokens.sam = await t.operatorToken(user('sam'), ['approver'], ['security']);
    tokens.audrey = await t.operatorToken(user('audrey'), ['auditor']);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('policies are data: shown to requesters, replaced by admins only, validated, versioned and audited', async () => {
    const empty = await expectStatus<{ version: number }>(t, 200, 'GET', url('/access/policies'), {
      token: tokens.dana,
    });
    expect(empty.version).toBe(0);
    // default deny before any policy exists
    expect((await ask('dana', {})).statusCode).toBe(403);
    expect(
      (await t.call('POST', url('/access/policies'), { token: tokens.lee, body: policySet() })).statusCode,
    ).toBe(403);

    const applied = await expectStatus<{ version: number; changed: boolean }>(
      t,
      200,
      'POST',
      url('/access/policies'),
      {
        body: { ...policySet(), comment: 'first policies' },
      },
    );
    expect(applied).toMatchObject({ version: 1, changed: true });
    const again = await expectStatus<{ version: number; changed: boolean }>(
      t,
      200,
      'POST',
      url('/access/policies'),
      {
        body: policySet(),
      },
    );
    expect(again).toMatchObject({ version: 1, changed: false });

    const broken = policySet();
    (broken.policies[0] as Record<string, unknown>).maxDuration = '4 hours';
    (broken.policies[1] as Record<string, unknown>).levels = ['superuser'];
    const refused = await t.call('POST', url('/access/policies'), { body: broken });
    expect(refused.statusCode).toBe(400);
    const message = refused.json<{ message: string }>().message;
    expect(message).toMatch(/policies\[0\] \(dev-databases\)\.maxDuration: use a duration like "30m"/);
    expect(message).toMatch(/policies\[1\] \(dba-production\)\.levels\.0/);
    const shown = await expectStatus<{ version: number; document: unknown }>(
      t,
      200,
      'GET',
      url('/access/policies'),
      {
        token: tokens.dana,
      },
    );
    expect(shown).toMatchObject({ version: 1, document: policySet() });

    const valid = await expectStatus<{ policies: { name: string; maxDuration: string }[] }>(
      t,
      200,
      'POST',
      url('/access/policies/validate'),
      { token: tokens.dana, body: policySet({ maxDuration: '3h' }) },
    );
    expect(valid.policies[0]).toMatchObject({ name: 'dev-databases', maxDuration: '3h' });
    expect((await t.call('POST', url('/access/policies/validate'), { body: broken })).statusCode).toBe(400);
    expect(await auditActions(t, 'access-policy-set', '1')).toEqual(['access-policy-set.applied']);
  });

  it('bad input gets a 4xx that says why, and nothing is recorded or provisioned', async () => {
    tickets.open('OPS-9', user('dana'));
    tickets.open('OPS-10', user('eve'));
    await tickets.close(t.gh.store, 'OPS-9', { actor: { type: 'system', id: null, name: 'tickets' } });
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ asset: `${run}-nope` }, 404, /Asset '.*-nope' does not exist/],
      [
        { level: 'admin' },
        403,
        /admin is not allowed on production for group dev; allowed: read-only, read-write/,
      ],
      [
        { duration: '5h' },
        400,
        /duration 5h exceeds the maximum of 4h for read-only on production; ask for 4h or less/,
      ],
      [{ ticket: 'OPS-9' }, 400, /ticket OPS-9 is closed; link an open ticket/],
      [{ ticket: 'OPS-404' }, 400, /ticket OPS-404 was not found/],
      [{ fileTransfer: true }, 400, /file transfer is not allowed/],
      [{ duration: 'soon' }, 400, /body\.duration: use a duration like "30m"/],
      [{ level: 'root' }, 400, /body\.level/],
      [{ reason: '' }, 400, /body\.reason: give a reason/],
      [{ ticket: 'OPS 1; DROP' }, 400, /body\.ticket: a ticket reference/],
      [{ sudo: true }, 400, /unknown field 'sudo'/],
      [{ asset: `${run}-web` }, 400, /is a server; temporary accounts can be granted on databases only/],
    ];
    for (const [body, status, pattern] of cases) {
      const response = await ask('dana', body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(status);
      expect(response.json<{ message: string }>().message).toMatch(pattern);
    }
    // a DBA's production request needs an open ticket assigned to them
    const dba = await ask('dora', { ticket: 'OPS-10' });
    expect(dba.statusCode).toBe(400);
    expect(dba.json<{ message: string }>().message).toMatch(/ticket OPS-10 is assigned to .*eve, not to you/);
    const listed = await expectStatus<{ items: unknown[] }>(t, 200, 'GET', url('/access/requests'));
    expect(listed.items).toEqual([]);
    expect(await provisionJobs()).toBe(0);
    expect(target.accounts.size).toBe(0);
  });

  it('self-approval is refused, and only members of the approver groups review', async () => {
    const own = await created('lara');
    const self = await act('lara', own.id, 'approve', { comment: 'me' });
    expect(self.statusCode).toBe(403);
    expect(self.json<{ message: string }>().message).toMatch(/cannot review your own request/i);
    const outsider = await act('nat', own.id, 'approve');
    expect(outsider.statusCode).toBe(403);
    expect(outsider.json<{ message: string }>().message).toMatch(/only members of leads may review/i);
    const requester = await act('eve', own.id, 'approve');
    expect(requester.statusCode).toBe(403);
    expect(requester.json<{ message: string }>().message).toMatch(/needs the permission 'access:review'/);
    expect((await act('lara', own.id, 'cancel')).statusCode).toBe(200);
  });

  it('a quorum of 2 needs 2 distinct approvers, each required group covered by its own person', async () => {
    tickets.open('OPS-11', user('dora'));
    const request = await created('dora', { ticket: 'OPS-11' });
    expect(request).toMatchObject({ status: 'pending-approval', tally: { approvers: 0, quorum: 2 } });
    // one person in both required groups counts once and covers one of them
    const first = await act('dual', request.id, 'approve', { comment: 'fine' });
    expect(first.json<RequestView>()).toMatchObject({
      status: 'pending-approval',
      tally: { approvers: 1, missingGroups: ['security'], satisfied: false },
    });
    const twice = await act('dual', request.id, 'approve');
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toMatch(/a reviewer counts once/i);
    const second = await act('dan', request.id, 'approve', { comment: 'fine by dba' });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json<RequestView>()).toMatchObject({
      status: 'approved',
      tally: { approvers: 2, satisfied: true },
    });
    expect(second.json<RequestView>().grant?.status).toBe('pending');
    expect(await auditActions(t, 'access-request', request.id)).toEqual([
      'access-request.created',
      'access-request.reviewed',
      'access-request.approved',
    ]);
    const events = await expectStatus<{ items: { ticket: string | null }[] }>(
      t,
      200,
      'GET',
      url(`/audit/events?targetId=${request.id}`),
    );
    expect(events.items.every((e) => e.ticket === 'OPS-11')).toBe(true);

    // two DBAs are two approvers, but security is still missing
    tickets.open('OPS-12', user('dora'));
    const other = await created('dora', { ticket: 'OPS-12' });
    await act('dan', other.id, 'approve');
    const two = await act('dina', other.id, 'approve');
    expect(two.json<RequestView>()).toMatchObject({
      status: 'pending-approval',
      tally: { approvers: 2, missingGroups: ['security'], satisfied: false },
    });
    expect((await act('sam', other.id, 'approve')).json<RequestView>().status).toBe('approved');
  });

  it('denied, cancelled and expired requests never provision', async () => {
    const before = await provisionJobs();
    const denied = await created('dana');
    const noComment = await act('lee', denied.id, 'deny');
    expect(noComment.statusCode).toBe(400);
    expect(noComment.json<{ message: string }>().message).toMatch(/say why you deny it/i);
    expect(
      (await act('lee', denied.id, 'deny', { comment: 'use the replica' })).json<RequestView>(),
    ).toMatchObject({
      status: 'denied',
      grant: null,
    });
    expect((await act('lou', denied.id, 'approve')).statusCode).toBe(409);

    const cancelled = await created('dana');
    expect((await act('eve', cancelled.id, 'cancel')).statusCode).toBe(404);
    expect((await act('dana', cancelled.id, 'cancel')).json<RequestView>()).toMatchObject({
      status: 'cancelled',
      grant: null,
    });
    expect((await act('lee', cancelled.id, 'approve')).statusCode).toBe(409);

    const expired = await created('dana');
    clock.advance(2 * H - 1000);
    await runner.runDue();
    expect(
      (await expectStatus<RequestView>(t, 200, 'GET', url(`/access/requests/${expired.id}`))).status,
    ).toBe('pending-approval');
    clock.advance(1000);
    const late = await act('lee', expired.id, 'approve');
    expect(late.statusCode).toBe(409);
    expect(late.json<{ message: string }>().message).toMatch(/review window closed/i);
    await runner.runDue();
    expect(
      await expectStatus<RequestView>(t, 200, 'GET', url(`/access/requests/${expired.id}`)),
    ).toMatchObject({
      status: 'expired',
      grant: null,
    });
    expect(await auditActions(t, 'access-request', expired.id)).toEqual([
      'access-request.created',
      'access-request.expired',
    ]);
    expect(await provisionJobs()).toBe(before);
  });

  it('a request denied or cancelled after approval, before its provisioning ran, never creates an account', async () => {
    const accountsBefore = new Set(target.accounts.keys());
    const denied = await created('dana');
    const approved = (await act('lee', denied.id, 'approve', { comment: 'ok' })).json<RequestView>();
    expect(approved).toMatchObject({ status: 'approved', grant: { status: 'pending' } });
    const late = await act('lou', denied.id, 'deny', { comment: 'not on production today' });
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json<RequestView>()).toMatchObject({
      status: 'denied',
      grant: { status: 'revoked', endReason: 'request-denied' },
    });

    const cancelled = await created('dana');
    await act('lee', cancelled.id, 'approve', { comment: 'ok' });
    expect((await act('dana', cancelled.id, 'cancel')).json<RequestView>()).toMatchObject({
      status: 'cancelled',
      grant: { status: 'revoked', endReason: 'request-cancelled' },
    });

    // the provisioning jobs queued at approval run now, and do nothing
    await runner.runDue();
    for (const request of [approved, cancelled]) {
      const shown = await expectStatus<RequestView>(t, 200, 'GET', url(`/access/requests/${request.id}`));
      expect(shown.grant).toMatchObject({ status: 'revoked', attempts: { provision: 0 } });
      const credential = await t.call('GET', url(`/grants/${shown.grant!.id}/credential`), {
        token: tokens.dana,
      });
      expect(credential.statusCode).toBeGreaterThanOrEqual(400);
      expect(credential.statusCode).toBeLessThan(500);
      expect(await auditActions(t, 'grant', shown.grant!.id)).toEqual(['grant.created', 'grant.revoked']);
    }
    expect(new Set(target.accounts.keys())).toEqual(accountsBefore);
  });

  it('an auto-approved request is provisioned at once; its holder alone reveals the credential, once', async () => {
    const request = await created('dana', { asset: staging, duration: '30m' });
    expect(request).toMatchObject({ status: 'approved', autoApproved: true });
    await runner.runDue();
    const grant = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${request.grant!.id}`), {
      token: tokens.dana,
    });
    expect(grant.status).toBe('active');
    expect(target.accounts.get(grant.account)).toMatchObject({
      level: 'read-only',
      sourceCidrs: ['192.0.2.254/32'],
    });
    expect(target.accounts.get(grant.account)?.validUntil.toISOString()).toBe(grant.notAfter);
    expect((await t.call('GET', url(`/grants/${grant.id}`), { token: tokens.eve })).statusCode).toBe(404);
    expect(
      (await t.call('GET', url(`/grants/${grant.id}/credential`), { token: tokens.eve })).statusCode,
    ).toBe(404);
    const credential = await expectStatus<Credential>(t, 200, 'GET', url(`/grants/${grant.id}/credential`), {
      token: tokens.dana,
    });
    expect(credential.password).toMatch(/^[^\s'"\\$`]{24}$/);
    expect(credential.connection).toBe(
      `psql "host=192.0.2.10 port=5432 user=${grant.account} dbname=postgres"`,
    );
    const again = await t.call('GET', url(`/grants/${grant.id}/credential`), { token: tokens.dana });
    expect(again.statusCode).toBe(409);
    const sealed = await t.gh.store.db
      .selectFrom('access_grants' as never)
      .select(['sealed_password' as never, 'revealed_by_name' as never])
      .where('id' as never, '=', grant.id as never)
      .executeTakeFirstOrThrow();
    expect(sealed).toEqual({ sealed_password: null, revealed_by_name: user('dana') });
    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: tokens.dana, body: {} });
    await runner.runDue();
    expect(target.accounts.has(grant.account)).toBe(false);
  });

  it('break-glass is granted at once with an alert and reviewed afterwards; a deny then revokes', async () => {
    const accepted = await created('dana', {
      breakGlass: true,
      level: 'read-write',
      duration: '30m',
      reason: 'prod is down',
    });
    expect(accepted).toMatchObject({ status: 'approved', postReview: 'pending' });
    await runner.runDue();
    const reviewed = await act('lee', accepted.id, 'approve', { comment: 'was needed' });
    expect(reviewed.json<RequestView>()).toMatchObject({ status: 'issued', postReview: 'accepted' });

    const rejected = await created('dana', {
      breakGlass: true,
      duration: '30m',
      reason: 'prod is down again',
    });
    await runner.runDue();
    const denied = await act('lou', rejected.id, 'deny', { comment: 'not an emergency' });
    expect(denied.json<RequestView>()).toMatchObject({ status: 'issued', postReview: 'rejected' });
    expect(denied.json<RequestView>().grant?.status).toBe('revoking');
    await runner.runDue();
    expect(target.accounts.has(denied.json<RequestView>().grant!.account)).toBe(false);
    expect(
      (await ask('dana', { breakGlass: true, duration: '2h' })).json<{ message: string }>().message,
    ).toMatch(/break-glass duration 2h exceeds the maximum of 1h/);
    const metrics = await t.call('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/gatehouse_access_alerts_total\{alert="break-glass-opened"\} 2/);
    expect(await auditActions(t, 'access-request', rejected.id)).toEqual([
      'access-request.created',
      'break-glass.opened',
      'access-request.credentials-issued',
      'access-request.denied-after-issue',
      'break-glass.rejected',
    ]);
  });

  it('a creation that keeps failing is retried, then cleaned up: the grant fails and nothing is left', async () => {
    target.failCreate('transient');
    const request = await created('dana', { asset: staging, duration: '30m' });
    const grantId = request.grant!.id;
    for (let i = 0; i < 5; i++) {
      await runner.runDue();
      clock.advance(60_000);
    }
    const failed = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grantId}`));
    expect(failed).toMatchObject({ status: 'failed', endReason: 'provisioning-failed' });
    expect(failed.attempts.provision).toBe(5); // the default limit
    expect(failed.lastError).toBeNull();
    expect(target.accounts.has(failed.account)).toBe(false);

    target.failCreate('invalid');
    const invalid = await created('dana', { asset: staging, duration: '30m' });
    await runner.runDue();
    await runner.runDue();
    expect(await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${invalid.grant!.id}`))).toMatchObject({
      status: 'failed',
      attempts: { provision: 1, revoke: 1 },
    });
    expect(await auditActions(t, 'grant', invalid.grant!.id)).toEqual([
      'grant.created',
      'grant.provisioning-started',
      'grant.provisioning-failed',
      'grant.failed',
    ]);
    target.failCreate(null);
  });

  it("work in flight resumes on start: lost jobs are scheduled again from the grants' states", async () => {
    const waiting = await created('dana', { asset: staging, duration: '30m' });
    const running = await created('dana', { asset: staging, duration: '30m' });
    await runner.runDue();
    const pending = await created('dana', { asset: staging, duration: '30m' });
    // every queued job is lost (a restore, a wiped queue): the rows alone must say what to do
    await t.gh.store.db.deleteFrom('jobs').where('state', '=', 'queued').execute();
    void waiting;
    expect((await t.gh.access.resume()).grants).toBeGreaterThanOrEqual(3);
    await runner.runDue();
    const active = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${pending.grant!.id}`));
    expect(active.status).toBe('active');
    clock.advance(H / 2);
    // startWorkers resumes before its first poll; overdue grants are revoked at once
    await t.gh.store.db.deleteFrom('jobs').where('state', '=', 'queued').execute();
    const workers = t.gh.startWorkers();
    const deadline = Date.now() + 10_000;
    const statusOf = async (id: string) =>
      (await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${id}`))).status;
    while ((await statusOf(running.grant!.id)) !== 'revoked' || (await statusOf(active.id)) !== 'revoked') {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await workers.stop();
    expect(target.accounts.has(active.account)).toBe(false);
  });

  it('with the clock starting at first reveal, the lease runs from the reveal; unclaimed grants end at the claim window', async () => {
    await expectStatus(t, 200, 'POST', url('/access/policies'), {
      body: policySet({ claimOnReveal: claimed }),
    });
    const first = await created('dana', { asset: claimed, duration: '1h' });
    expect(first.status).toBe('approved');
    await runner.runDue();
    const waiting = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${first.grant!.id}`));
    expect(waiting).toMatchObject({ status: 'active', notAfter: null });
    const claimDeadline = new Date(clock.now().getTime() + 30 * 60_000).toISOString();
    expect(target.accounts.get(waiting.account)?.validUntil.toISOString()).toBe(claimDeadline);
    const extendEarly = await t.call('POST', url(`/grants/${waiting.id}/extend`), {
      token: tokens.dana,
      body: { duration: '10m', reason: 'more time' },
    });
    expect(extendEarly.statusCode).toBe(400);
    expect(extendEarly.body).toMatch(/the clock starts at the first reveal/);

    clock.advance(10 * 60_000);
    await expectStatus(t, 200, 'GET', url(`/grants/${waiting.id}/credential`), { token: tokens.dana });
    const running = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${waiting.id}`));
    expect(running.notAfter).toBe(new Date(clock.now().getTime() + H).toISOString());
    await runner.runDue();
    // the target's own expiry follows the lease
    expect(target.accounts.get(waiting.account)?.validUntil.toISOString()).toBe(running.notAfter);

    const unclaimed = await created('dana', { asset: claimed, duration: '1h' });
    await runner.runDue();
    clock.advance(30 * 60_000);
    await runner.runDue();
    const ended = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${unclaimed.grant!.id}`));
    expect(ended).toMatchObject({ status: 'revoked', endReason: 'unclaimed' });
    expect(target.accounts.has(ended.account)).toBe(false);
    const late = await t.call('GET', url(`/grants/${ended.id}/credential`), { token: tokens.dana });
    expect(late.statusCode).toBe(409);
    expect(late.body).toMatch(/the grant has ended/);
    // the revealed one runs its hour from the reveal, not from the approval
    expect((await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${waiting.id}`))).status).toBe(
      'active',
    );
    clock.advance(40 * 60_000);
    await runner.runDue();
    expect(await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${waiting.id}`))).toMatchObject({
      status: 'revoked',
      endReason: 'expired',
    });
    await expectStatus(t, 200, 'POST', url('/access/policies'), { body: policySet() });
  });

  it("a ticket's close cancels its requests not yet issued, and spares grants whose policy says keep", async () => {
    const closer = { actor: { type: 'system' as const, id: null, name: 'tickets' } };
    tickets.open('OPS-20', user('dana'));
    const pending = await created('dana', { ticket: 'OPS-20' });
    await tickets.close(t.gh.store, 'OPS-20', closer);
    expect(
      await expectStatus<RequestView>(t, 200, 'GET', url(`/access/requests/${pending.id}`)),
    ).toMatchObject({
      status: 'cancelled',
      grant: null,
    });

    const keep = policySet();
    (keep.policies[0] as Record<string, unknown>).onTicketClose = 'keep';
    await expectStatus(t, 200, 'POST', url('/access/policies'), { body: keep });
    tickets.open('OPS-21', user('dana'));
    const kept = await created('dana', { ticket: 'OPS-21' });
    const approved = await act('lee', kept.id, 'approve');
    await runner.runDue();
    await tickets.close(t.gh.store, 'OPS-21', closer);
    const grant = await expectStatus<GrantView>(
      t,
      200,
      'GET',
      url(`/grants/${approved.json<RequestView>().grant!.id}`),
    );
    expect(grant.status).toBe('active');
    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: tokens.dana, body: {} });
    await runner.runDue();
    await expectStatus(t, 200, 'POST', url('/access/policies'), { body: policySet() });
  });

  describe('grant extensions', () => {
    const extend = (who: string, grantId: string, body: Record<string, unknown>) =>
      t.call('POST', url(`/grants/${grantId}/extend`), {
        token: tokens[who]!,
        body: { reason: 'the migration runs long', ...body },
      });
    const review = (who: string, id: string, verb: string, body: Record<string, unknown> = {}) =>
      t.call('POST', url(`/access/extensions/${id}/${verb}`), { token: tokens[who]!, body });
    const extensionOf = (id: string) =>
      expectStatus<ExtensionView>(t, 200, 'GET', url(`/access/extensions/${id}`));
    const extensionRows = async () =>
      (await t.gh.store.db.selectFrom('access_extensions').select('id').execute()).length;
    /** A production grant for `who`, approved by lee and provisioned: at-approval, 1 h. */
    async function activeGrant(who: string): Promise<GrantView> {
      const request = await created(who, { duration: '1h' });
      const approved = await act('lee', request.id, 'approve', { comment: 'ok' });
      expect(approved.statusCode).toBe(200);
      await runner.runDue();
      const grantId = approved.json<RequestView>().grant!.id;
      const grant = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grantId}`));
      expect(grant.status).toBe('active');
      return grant;
    }

    it('an extension the policy wants reviewed waits for a reviewer; approved, the reaper and the native expiry move', async () => {
      const grant = await activeGrant('lara');
      const end = new Date(grant.notAfter!).getTime();
      const asked = await extend('lara', grant.id, { duration: '1h' });
      expect(asked.statusCode, asked.body).toBe(201);
      const pending = asked.json<ExtensionView>();
      expect(pending).toMatchObject({ status: 'pending-approval', extendBy: '1h', requester: user('lara') });
      // nothing moves before the review; the review window ends with the lease at the latest
      expect(pending.grant.notAfter).toBe(grant.notAfter);
      expect(new Date(pending.reviewDeadline!).getTime()).toBe(end);
      expect(new Date(pending.notAfter).getTime()).toBe(end + H);
      // one pending extension per grant
      expect((await extend('lara', grant.id, { duration: '30m' })).statusCode).toBe(409);
      // reviewers see it among those awaiting review; another requester does not
      const queue = await expectStatus<{ items: ExtensionView[] }>(
        t,
        200,
        'GET',
        url('/access/extensions?status=pending-approval'),
        { token: tokens.lee },
      );
      expect(queue.items.map((e) => e.id)).toContain(pending.id);
      const others = await expectStatus<{ items: ExtensionView[] }>(
        t,
        200,
        'GET',
        url('/access/extensions'),
        {
          token: tokens.eve,
        },
      );
      expect(others.items.map((e) => e.id)).not.toContain(pending.id);

      const self = await review('lara', pending.id, 'approve');
      expect(self.statusCode).toBe(403);
      expect(self.json<{ message: string }>().message).toMatch(/cannot review your own extension/);
      expect((await review('nat', pending.id, 'approve')).statusCode).toBe(403);
      expect((await review('eve', pending.id, 'approve')).statusCode).toBe(403);
      const approved = await review('lee', pending.id, 'approve', { comment: 'fine' });
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json<ExtensionView>()).toMatchObject({
        status: 'approved',
        tally: { approvers: 1, satisfied: true },
        reviews: [{ reviewer: user('lee'), verdict: 'approve', comment: 'fine' }],
      });
      expect(new Date(approved.json<ExtensionView>().grant.notAfter!).getTime()).toBe(end + H);
      expect((await review('lou', pending.id, 'approve')).statusCode).toBe(409);

      // the target's own expiry follows
      await runner.runDue();
      expect(target.accounts.get(grant.account)?.validUntil.getTime()).toBe(end + H);
      // and the reaper: still active past the old end, revoked at the new one
      clock.advance(end - clock.now().getTime() + 1000);
      await runner.runDue();
      expect((await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grant.id}`))).status).toBe(
        'active',
      );
      expect(target.accounts.has(grant.account)).toBe(true);
      clock.advance(H);
      await runner.runDue();
      expect(await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grant.id}`))).toMatchObject({
        status: 'revoked',
        endReason: 'expired',
      });
      expect(target.accounts.has(grant.account)).toBe(false);
      expect(await auditActions(t, 'access-extension', pending.id)).toEqual([
        'access-extension.requested',
        'access-extension.approved',
      ]);
      expect(await auditActions(t, 'grant', grant.id)).toContain('grant.extended');
    });

    it('a denied extension leaves the lease; one nobody reviews expires with the grant; the holder may cancel', async () => {
      const grant = await activeGrant('dana');
      const first = (await extend('dana', grant.id, { duration: '30m' })).json<ExtensionView>();
      const bare = await review('lee', first.id, 'deny');
      expect(bare.statusCode).toBe(400);
      expect(bare.json<{ message: string }>().message).toMatch(/say why you deny it/i);
      expect(
        (await review('lee', first.id, 'deny', { comment: 'finish it tomorrow' })).json<ExtensionView>(),
      ).toMatchObject({ status: 'denied', grant: { notAfter: grant.notAfter } });
      expect((await review('lou', first.id, 'approve')).statusCode).toBe(409);

      const second = (await extend('dana', grant.id, { duration: '30m' })).json<ExtensionView>();
      expect((await review('eve', second.id, 'cancel')).statusCode).toBe(404);
      expect((await review('dana', second.id, 'cancel')).json<ExtensionView>().status).toBe('cancelled');

      // unreviewed when the lease ends: the reaper ends the grant, the extension expires with it
      const third = (await extend('dana', grant.id, { duration: '30m' })).json<ExtensionView>();
      clock.advance(new Date(grant.notAfter!).getTime() - clock.now().getTime());
      const late = await review('lee', third.id, 'approve');
      expect(late.statusCode).toBe(409);
      await runner.runDue();
      expect(await extensionOf(third.id)).toMatchObject({
        status: 'expired',
        grant: { status: 'revoked', notAfter: grant.notAfter },
      });
      expect(await auditActions(t, 'access-extension', third.id)).toEqual([
        'access-extension.requested',
        'access-extension.expired',
      ]);

      // revoked early: a pending extension expires in the same transaction
      const other = await activeGrant('dana');
      const waiting = (await extend('dana', other.id, { duration: '30m' })).json<ExtensionView>();
      await expectStatus(t, 200, 'POST', url(`/grants/${other.id}/revoke`), { token: tokens.dana, body: {} });
      expect((await extensionOf(waiting.id)).status).toBe('expired');
      expect((await review('lee', waiting.id, 'approve')).statusCode).toBe(409);
      await runner.runDue();
    });

    it('an extension unreviewed at the end of its review window expires, its job re-armed on start if lost; the grant runs on', async () => {
      const request = await created('dana', { duration: '3h' });
      const approved = await act('lee', request.id, 'approve', { comment: 'ok' });
      await runner.runDue();
      const grantId = approved.json<RequestView>().grant!.id;
      const grant = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grantId}`));
      const waiting = (await extend('dana', grantId, { duration: '30m' })).json<ExtensionView>();
      // the policy's 2 h review window ends before the lease's 3 h
      expect(new Date(waiting.reviewDeadline!).getTime()).toBe(clock.now().getTime() + 2 * H);
      await t.gh.store.db.deleteFrom('jobs').where('kind', '=', 'extension.expire').execute();
      await t.gh.access.resume();
      const rearmed = await t.gh.store.db
        .selectFrom('jobs')
        .select(['run_at', 'state'])
        .where('kind', '=', 'extension.expire')
        .execute();
      expect(rearmed).toEqual([{ run_at: new Date(waiting.reviewDeadline!), state: 'queued' }]);
      clock.advance(2 * H);
      await runner.runDue();
      expect(await extensionOf(waiting.id)).toMatchObject({
        status: 'expired',
        grant: { status: 'active', notAfter: grant.notAfter },
      });
      await expectStatus(t, 200, 'POST', url(`/grants/${grantId}/revoke`), { token: tokens.dana, body: {} });
      await runner.runDue();
    });

    it('bad extension input gets a 4xx that says why, and nothing is recorded', async () => {
      const grant = await activeGrant('dana');
      const before = await extensionRows();
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{}, 400, /either duration .* or until/],
        [{ duration: '30m', until: new Date(Date.now() + 9 * H).toISOString() }, 400, /not both/],
        [{ duration: '30m', reason: '' }, 400, /give a reason/],
        [{ duration: 'soon' }, 400, /duration like/],
        [{ until: 'tomorrow' }, 400, /ISO 8601/],
        [{ until: new Date(new Date(grant.notAfter!).getTime() - 60_000).toISOString() }, 400, /later time/],
        [{ duration: '30m', extra: true }, 400, /extra|unrecognized/i],
      ];
      for (const [body, status, message] of cases) {
        const response = await extend('dana', grant.id, body);
        expect(response.statusCode, JSON.stringify(body)).toBe(status);
        expect(response.json<{ message: string }>().message, JSON.stringify(body)).toMatch(message);
      }
      expect((await extend('eve', grant.id, { duration: '30m' })).statusCode).toBe(404);
      expect((await extend('lee', grant.id, { duration: '30m' })).statusCode).toBe(403);
      expect(await extensionRows()).toBe(before);
      // --until: the new end itself
      const until = new Date(new Date(grant.notAfter!).getTime() + H / 2);
      const byTime = (await extend('dana', grant.id, { until: until.toISOString() })).json<ExtensionView>();
      expect(byTime).toMatchObject({ status: 'pending-approval', extendBy: '30m' });
      expect(new Date(byTime.notAfter).getTime()).toBe(until.getTime());
      await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: tokens.dana, body: {} });
      await runner.runDue();
    });
  });

  it('requesters see only their own; reviewers and auditors see all; admins alone sweep and revoke others’', async () => {
    const mine = await expectStatus<{ items: RequestView[] }>(
      t,
      200,
      'GET',
      url('/access/requests?limit=200'),
      {
        token: tokens.eve,
      },
    );
    expect(mine.items).toEqual([]);
    const all = await expectStatus<{ items: RequestView[]; nextCursor: string | null }>(
      t,
      200,
      'GET',
      url('/access/requests?limit=2'),
      { token: tokens.audrey },
    );
    expect(all.items).toHaveLength(2);
    const next = await expectStatus<{ items: RequestView[] }>(
      t,
      200,
      'GET',
      url(`/access/requests?limit=2&cursor=${all.nextCursor}`),
      {
        token: tokens.audrey,
      },
    );
    expect(next.items[0]!.id < all.items[1]!.id).toBe(true);
    expect((await t.call('POST', url('/access/sweep'), { token: tokens.lee, body: {} })).statusCode).toBe(
      403,
    );
    expect(
      (await t.call('POST', url('/access/policies'), { token: tokens.audrey, body: policySet() })).statusCode,
    ).toBe(403);
    expect((await t.call('GET', url('/grants'), { token: null })).statusCode).toBe(401);
  });

  it('every change is in the audit chain, which verifies', async () => {
    const result = await expectStatus<{ ok: boolean }>(t, 200, 'GET', url('/audit/verify'));
    expect(result.ok).toBe(true);
  });
});

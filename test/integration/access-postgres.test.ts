import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { psql } from '../support/db-clients.js';
import { startScramPostgres, type ScramPostgres } from '../support/scram-postgres.js';
import {
  accessRunner,
  applyPolicies,
  auditActions,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  runToken,
  type Credential,
  type ExtensionView,
  type GrantView,
  type RequestView,
} from './access-support.js';

/**
 * Just-in-time access end to end on PostgreSQL: the store on the machine's server, the target a
 * throw-away cluster that checks passwords (the machine's server trusts local logins, so a login there
 * would prove nothing). Logins go through `psql`, time through a manual clock, jobs through runDue.
 */

const run = runToken();
const H = 3_600_000;
const clock = manualClock(new Date());
const limits = { provisionAttempts: 3, revokeAttemptsBeforeAlert: 3 };
const appDb = `app_${run}`;

let server: ScramPostgres;
let admin: pg.Client;
let t: TestApp;
let runner: JobRunner;
let assetName: string;
let stagingAsset: string;
let dana: string; // dev: requests
let lee: string; // lead: approves
let lou: string; // another lead

const url = (path: string) => `/api/v1${path}`;
const drive = () => runner.runDue();
const login = (c: Credential, sql: string) =>
  psql({ host: c.host, port: c.port, user: c.account, password: c.password, database: appDb }, sql);
const roleExists = async (name: string) =>
  (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

async function request(level = 'read-only', duration = '1h', extra: Record<string, unknown> = {}) {
  return expectStatus<RequestView>(t, 201, 'POST', url('/access/requests'), {
    token: dana,
    body: { asset: assetName, level, duration, reason: 'look into slow queries', ...extra },
  });
}

/** A request approved by lee and provisioned: the grant is active. */
async function activeGrant(level = 'read-only', duration = '1h', extra: Record<string, unknown> = {}) {
  const created = await request(level, duration, extra);
  await expectStatus(t, 200, 'POST', url(`/access/requests/${created.id}/approve`), {
    token: lee,
    body: { comment: 'ok' },
  });
  await drive();
  const shown = await expectStatus<RequestView>(t, 200, 'GET', url(`/access/requests/${created.id}`), {
    token: dana,
  });
  expect(shown.status).toBe('issued');
  expect(shown.grant?.status).toBe('active');
  return { request: shown, grant: shown.grant! };
}

const reveal = (grantId: string) =>
  expectStatus<Credential>(t, 200, 'GET', url(`/grants/${grantId}/credential`), { token: dana });
const grantOf = (id: string) => expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${id}`));

beforeAll(async () => {
  server = await startScramPostgres();
  admin = new pg.Client({
    ...server.admin,
    user: server.admin.username,
    host: server.host,
    port: server.port,
    database: 'postgres',
  });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${appDb}`);
  const app = new pg.Client({
    user: server.admin.username,
    password: server.admin.password,
    host: server.host,
    port: server.port,
    database: appDb,
  });
  await app.connect();
  await app.query(
    "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, 'first')",
  );
  await app.end();

  t = await createTestApp('postgres', {
    clock,
    config: { 'jobs.backoffBaseMs': 10, 'jobs.backoffMaxMs': 20 },
    access: { limits, sweep: { prefix: `gh_${run}_` } },
  });
  runner = accessRunner(t, clock, `access-pg-${run}`);
  const fleet = await createFleet(t, run);
  assetName = `${run}-pg`;
  await createDatabaseAsset(t, fleet, {
    name: assetName,
    engine: 'postgres',
    host: server.host,
    port: server.port,
    admin: server.admin,
    database: appDb,
  });
  stagingAsset = `${run}-pg-stg`;
  await createDatabaseAsset(t, fleet, {
    name: stagingAsset,
    engine: 'postgres',
    host: server.host,
    port: server.port,
    admin: server.admin,
    database: appDb,
    environment: 'staging',
  });
  await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
    body: { name: `${run}-jump`, region: fleet.region, address: '127.0.0.1', sourceCidrs: ['127.0.0.1/32'] },
  });
  await applyPolicies(t);
  dana = await t.operatorToken(`${run}.dana`, ['requester'], ['dev']);
  lee = await t.operatorToken(`${run}.lee`, ['approver'], ['leads']);
  lou = await t.operatorToken(`${run}.lou`, ['approver'], ['leads']);
}, 120_000);

afterAll(async () => {
  if (admin) {
    const { rows } = await admin.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)',
      [`gh_${run}_`],
    );
    for (const { rolname } of rows) {
      await admin.query(`DROP OWNED BY ${admin.escapeIdentifier(rolname)}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(rolname)}`).catch(() => undefined);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${appDb} WITH (FORCE)`);
    await admin.end();
  }
  await t?.close();
  await server?.stop();
});

describe('access to a PostgreSQL database, end to end', () => {
  it('an approved read-only grant logs in with psql, can SELECT and cannot INSERT; the credential is shown once', async () => {
    const created = await request();
    expect(created).toMatchObject({ status: 'pending-approval', grant: null });
    const approved = await expectStatus<RequestView>(
      t,
      200,
      'POST',
      url(`/access/requests/${created.id}/approve`),
      {
        token: lee,
        body: { comment: 'go ahead' },
      },
    );
    expect(approved.status).toBe('approved');
    expect(approved.grant?.status).toBe('pending');
    await drive();
    const grant = await grantOf(approved.grant!.id);
    expect(grant.status).toBe('active');
    expect(grant.account).toMatch(new RegExp(`^gh_${run}_dana_[a-z2-7]{10}$`));
    expect(grant.connection).toBe(
      `psql "host=${server.host} port=${server.port} user=${grant.account} dbname=${appDb}"`,
    );

    const credential = await reveal(grant.id);
    expect(credential.account).toBe(grant.account);
    expect(await login(credential, 'SELECT note FROM items WHERE id = 1')).toMatchObject({
      ok: true,
      stdout: 'first',
    });
    const insert = await login(credential, "INSERT INTO items VALUES (2, 'no')");
    expect(insert.ok).toBe(false);
    expect(insert.stderr).toMatch(/permission denied/);

    const again = await t.call('GET', url(`/grants/${grant.id}/credential`), { token: dana });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toMatch(new RegExp(`revealed at .* by ${run}\\.dana`));
    expect(again.body).not.toContain(credential.password);
    const byLead = await t.call('GET', url(`/grants/${grant.id}/credential`), { token: lee });
    expect(byLead.statusCode).toBe(403);
    expect((await grantOf(grant.id)).revealedBy).toBe(`${run}.dana`);

    expect(await auditActions(t, 'access-request', created.id)).toEqual([
      'access-request.created',
      'access-request.approved',
      'access-request.credentials-issued',
    ]);
    expect(await auditActions(t, 'grant', grant.id)).toEqual([
      'grant.created',
      'grant.provisioning-started',
      'grant.activated',
      'grant.credential-revealed',
    ]);
    // the password is in no audit event and no job payload
    const everything = await t.gh.store.db.selectFrom('audit_events').select('details').execute();
    expect(JSON.stringify(everything)).not.toContain(credential.password);
    const jobs = await t.gh.store.db.selectFrom('jobs').select(['payload', 'last_error']).execute();
    expect(JSON.stringify(jobs)).not.toContain(credential.password);
  });

  it('read-write can INSERT; at expiry the open session ends, the login fails and the role is gone', async () => {
    const { grant } = await activeGrant('read-write', '1h');
    const credential = await reveal(grant.id);
    expect((await login(credential, "INSERT INTO items VALUES (10, 'rw')")).ok).toBe(true);
    const session = new pg.Client({
      host: credential.host,
      port: credential.port,
      user: credential.account,
      password: credential.password,
      database: appDb,
    });
    session.on('error', () => undefined);
    await session.connect();
    expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    clock.advance(H - 1000);
    await drive();
    expect((await grantOf(grant.id)).status).toBe('active');
    clock.advance(1000);
    await drive();
    const ended = await grantOf(grant.id);
    expect(ended).toMatchObject({ status: 'revoked', endReason: 'expired', connection: null });

    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
    expect((await login(credential, 'SELECT 1')).ok).toBe(false);
    expect(await roleExists(credential.account)).toBe(false);
    expect(await auditActions(t, 'grant', grant.id)).toEqual([
      'grant.created',
      'grant.provisioning-started',
      'grant.activated',
      'grant.credential-revealed',
      'grant.revocation-started',
      'grant.revoked',
    ]);
  });

  it('a deny after issue revokes the grant and leaves the request issued', async () => {
    const { request: issued, grant } = await activeGrant();
    expect(await roleExists(grant.account)).toBe(true);
    const denied = await expectStatus<RequestView>(
      t,
      200,
      'POST',
      url(`/access/requests/${issued.id}/deny`),
      {
        token: lou,
        body: { comment: 'not during the freeze' },
      },
    );
    expect(denied.status).toBe('issued');
    expect(denied.grant?.status).toBe('revoking');
    await drive();
    expect(await grantOf(grant.id)).toMatchObject({ status: 'revoked', endReason: 'late-denial' });
    expect(await roleExists(grant.account)).toBe(false);
    expect(await auditActions(t, 'access-request', issued.id)).toContain('access-request.denied-after-issue');
  });

  it('revocation is retried while the target is down, flagged with the metric past the limit, done when it returns', async () => {
    const { grant } = await activeGrant();
    const closedPort = await freePort();
    await expectStatus(t, 200, 'PATCH', url(`/assets/${assetName}`), { body: { port: closedPort } });
    clock.advance(H);
    for (let i = 0; i < limits.revokeAttemptsBeforeAlert; i++) {
      await drive();
      clock.advance(1000);
    }
    const flagged = await grantOf(grant.id);
    expect(flagged).toMatchObject({ status: 'revocation_failed', revocationFailed: true });
    expect(flagged.attempts.revoke).toBeGreaterThan(limits.revokeAttemptsBeforeAlert);
    expect(flagged.lastError).toMatch(/unreachable|ECONNREFUSED/);
    const metrics = await t.call('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/^gatehouse_access_revocation_failed 1$/m);
    expect(metrics.body).toMatch(/gatehouse_access_alerts_total\{alert="revocation-failed"\} 1/);
    // still retried, never dropped
    await drive();
    expect((await grantOf(grant.id)).attempts.revoke).toBeGreaterThan(flagged.attempts.revoke);

    await expectStatus(t, 200, 'PATCH', url(`/assets/${assetName}`), { body: { port: server.port } });
    clock.advance(1000);
    await drive();
    expect(await grantOf(grant.id)).toMatchObject({ status: 'revoked', revocationFailed: false });
    expect(await roleExists(grant.account)).toBe(false);
    expect((await t.call('GET', '/metrics', { token: null })).body).toMatch(
      /^gatehouse_access_revocation_failed 0$/m,
    );
    expect(await auditActions(t, 'grant', grant.id)).toEqual(
      expect.arrayContaining(['grant.revocation-failed', 'grant.revoked']),
    );
  });

  it('the orphan sweeper removes a hand-made gh_ account and keeps the accounts of live grants', async () => {
    const { grant } = await activeGrant();
    const orphan = `gh_${run}_handmade`;
    await admin.query(`CREATE ROLE ${orphan} LOGIN PASSWORD 'x-Handmade-42'`);
    const report = await expectStatus<{ removed: { asset: string; account: string }[]; errors: unknown[] }>(
      t,
      200,
      'POST',
      url('/access/sweep'),
      { body: { prefix: `gh_${run}_` } },
    );
    expect(report.removed).toEqual([{ asset: assetName, account: orphan }]);
    expect(report.errors).toEqual([]);
    expect(await roleExists(orphan)).toBe(false);
    expect(await roleExists(grant.account)).toBe(true);
    const events = await expectStatus<{ items: { details: { account: string } }[] }>(
      t,
      200,
      'GET',
      url('/audit/events?action=access.orphan_removed'),
    );
    expect(events.items.map((e) => e.details.account)).toContain(orphan);
    // a requester may not run it
    expect((await t.call('POST', url('/access/sweep'), { token: dana, body: {} })).statusCode).toBe(403);
    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: dana, body: {} });
    await drive();
  });

  it('closing the built-in ticket revokes its grant', async () => {
    await expectStatus(t, 201, 'POST', url('/tickets'), {
      token: dana,
      body: { ref: 'OPS-7', title: 'Slow reports', assignee: `${run}.dana` },
    });
    const { grant } = await activeGrant('read-only', '1h', { ticket: 'OPS-7' });
    await expectStatus(t, 200, 'POST', url('/tickets/OPS-7/close'), { token: dana, body: {} });
    expect((await grantOf(grant.id)).status).toBe('revoking');
    await drive();
    expect(await grantOf(grant.id)).toMatchObject({ status: 'revoked', endReason: 'ticket-closed' });
    expect(await roleExists(grant.account)).toBe(false);
    const events = await expectStatus<{ items: { action: string; ticket: string }[] }>(
      t,
      200,
      'GET',
      url('/audit/events?ticket=OPS-7'),
    );
    expect(events.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['ticket.closed', 'access-request.created', 'grant.activated', 'grant.revoked']),
    );
  });

  it('an auto-approved grant is extended through the policy: the lease and native expiry move, capped at the maximum', async () => {
    const created = await expectStatus<RequestView>(t, 201, 'POST', url('/access/requests'), {
      token: dana,
      body: { asset: stagingAsset, level: 'read-only', duration: '30m', reason: 'compare staging data' },
    });
    expect(created).toMatchObject({ status: 'approved', autoApproved: true });
    await drive();
    const grant = await grantOf(created.grant!.id);
    expect(grant.status).toBe('active');
    await reveal(grant.id);
    const start = new Date(grant.notAfter!).getTime() - H / 2;
    const extend = (duration: string) =>
      t.call('POST', url(`/grants/${grant.id}/extend`), {
        token: dana,
        body: { duration, reason: 'the comparison runs long' },
      });
    const once = await extend('1h');
    expect(once.statusCode, once.body).toBe(201);
    expect(once.json<ExtensionView>()).toMatchObject({ status: 'approved', autoApproved: true });
    expect(new Date(once.json<ExtensionView>().grant.notAfter!).getTime()).toBe(start + 1.5 * H);
    await drive();
    const validUntil = async () =>
      (
        await admin.query<{ until: Date }>('SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1', [
          grant.account,
        ])
      ).rows[0]?.until.getTime();
    expect(await validUntil()).toBe(start + 1.5 * H);
    // 2h30 from the start is over the 2h maximum: capped there
    const capped = await extend('1h');
    expect(capped.statusCode, capped.body).toBe(201);
    expect(capped.json<ExtensionView>()).toMatchObject({ status: 'approved', capped: true, extendBy: '30m' });
    expect(new Date(capped.json<ExtensionView>().grant.notAfter!).getTime()).toBe(start + 2 * H);
    await drive();
    expect(await validUntil()).toBe(start + 2 * H);
    const atMax = await extend('10m');
    expect(atMax.statusCode).toBe(400);
    expect(atMax.json<{ message: string }>().message).toMatch(/already runs the maximum of 2h/);
    expect(await auditActions(t, 'grant', grant.id)).toEqual(expect.arrayContaining(['grant.extended']));
    // someone else may not extend it, nor revoke it unless an admin
    expect(
      (
        await t.call('POST', url(`/grants/${grant.id}/extend`), {
          token: lee,
          body: { duration: '10m', reason: 'more' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await t.call('POST', url(`/grants/${grant.id}/revoke`), { token: lee, body: {} })).statusCode,
    ).toBe(403);
    const byAdmin = await expectStatus<GrantView>(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), {
      body: { reason: 'done' },
    });
    expect(byAdmin).toMatchObject({ status: 'revoking', endReason: 'revoked-by-admin' });
    await drive();
    expect(await roleExists(grant.account)).toBe(false);
  });

  it('an extension the policy wants reviewed moves VALID UNTIL on the target once a reviewer approves it', async () => {
    const { grant } = await activeGrant('read-only', '1h');
    const end = new Date(grant.notAfter!).getTime();
    const validUntil = async () =>
      (
        await admin.query<{ until: Date }>('SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1', [
          grant.account,
        ])
      ).rows[0]?.until.getTime();
    expect(await validUntil()).toBe(end);
    const pending = await expectStatus<ExtensionView>(t, 201, 'POST', url(`/grants/${grant.id}/extend`), {
      token: dana,
      body: { until: new Date(end + H).toISOString(), reason: 'the slow query needs a second run' },
    });
    expect(pending).toMatchObject({ status: 'pending-approval', grant: { notAfter: grant.notAfter } });
    await drive();
    expect(await validUntil()).toBe(end);
    const approved = await expectStatus<ExtensionView>(
      t,
      200,
      'POST',
      url(`/access/extensions/${pending.id}/approve`),
      { token: lee, body: { comment: 'ok' } },
    );
    expect(approved.status).toBe('approved');
    expect(new Date(approved.grant.notAfter!).getTime()).toBe(end + H);
    await drive();
    expect(await validUntil()).toBe(end + H);
    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: dana, body: {} });
    await drive();
    expect(await grantOf(grant.id)).toMatchObject({ status: 'revoked', endReason: 'revoked-by-holder' });
    expect(await roleExists(grant.account)).toBe(false);
  });

  it('leaves the audit chain intact', async () => {
    const result = await expectStatus<{ ok: boolean }>(t, 200, 'GET', url('/audit/verify'));
    expect(result.ok).toBe(true);
  });
});

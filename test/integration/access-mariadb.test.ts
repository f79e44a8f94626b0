import net from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { mariadb } from '../support/db-clients.js';
import {
  accessRunner,
  applyPolicies,
  auditActions,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeTickets,
  runToken,
  type Credential,
  type GrantView,
  type RequestView,
} from './access-support.js';

/**
 * Just-in-time access end to end on the machine's MariaDB (127.0.0.1:3306, root without password):
 * accounts bound to the jumpboxes' source addresses. The region has a demo-style jumpbox seen as
 * 127.0.0.2 and one seen as 127.0.0.1 (where the `mariadb` client, which cannot pick its source,
 * connects from); a client bound to 127.0.0.3 is no jumpbox.
 */

const run = runToken();
const H = 3_600_000;
const clock = manualClock(new Date());
const server = { host: '127.0.0.1', port: 3306 };
const appDb = `gha_${run}`;

let admin: mysql.Connection;
let t: TestApp;
let runner: JobRunner;
let assetName: string;
let dana: string;
let lee: string;

const url = (path: string) => `/api/v1${path}`;
const login = (c: Credential, sql: string) =>
  mariadb({ ...server, user: c.account, password: c.password, database: appDb }, sql);
const connectFrom = (from: string, c: Credential) =>
  mysql.createConnection({
    user: c.account,
    password: c.password,
    database: appDb,
    stream: () => net.connect({ ...server, localAddress: from }),
  });
const hostsOf = async (user: string) =>
  (
    await admin.query<mysql.RowDataPacket[]>(
      'SELECT Host AS host FROM mysql.user WHERE User = ? ORDER BY Host',
      [user],
    )
  )[0].map((r) => String(r.host));

async function activeGrant(level: string) {
  const created = await expectStatus<RequestView>(t, 201, 'POST', url('/access/requests'), {
    token: dana,
    body: { asset: assetName, level, duration: '1h', reason: 'fix a stuck order' },
  });
  const approved = await expectStatus<RequestView>(
    t,
    200,
    'POST',
    url(`/access/requests/${created.id}/approve`),
    {
      token: lee,
      body: {},
    },
  );
  await runner.runDue();
  const grant = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${approved.grant!.id}`));
  expect(grant.status).toBe('active');
  const credential = await expectStatus<Credential>(t, 200, 'GET', url(`/grants/${grant.id}/credential`), {
    token: dana,
  });
  return { grant, credential };
}

beforeAll(async () => {
  admin = await mysql.createConnection({ ...server, user: 'root', password: '' });
  await admin.query(`CREATE DATABASE ${admin.escapeId(appDb)}`);
  await admin.query(`CREATE TABLE ${admin.escapeId(appDb)}.items (id int PRIMARY KEY, note text)`);
  await admin.query(`INSERT INTO ${admin.escapeId(appDb)}.items VALUES (1, 'first')`);
  const tickets = fakeTickets();
  t = await createTestApp('postgres', {
    clock,
    access: { tickets: tickets.source, sweep: { prefix: `gh_${run}_` } },
  });
  runner = accessRunner(t, clock, `access-mariadb-${run}`);
  const fleet = await createFleet(t, run);
  assetName = `${run}-mariadb`;
  await createDatabaseAsset(t, fleet, {
    name: assetName,
    engine: 'mariadb',
    ...server,
    admin: { username: 'root', password: '' },
    database: appDb,
  });
  for (const [name, source] of [
    ['jump', '127.0.0.2/32'],
    ['local', '127.0.0.1/32'],
  ] as const) {
    await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
      body: {
        name: `${run}-${name}`,
        region: fleet.region,
        address: source.split('/')[0],
        sourceCidrs: [source],
      },
    });
  }
  await applyPolicies(t);
  dana = await t.operatorToken(`${run}.dana`, ['requester'], ['dev']);
  lee = await t.operatorToken(`${run}.lee`, ['approver'], ['leads']);
}, 60_000);

afterAll(async () => {
  if (admin) {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT User AS user, Host AS host FROM mysql.user WHERE LEFT(User, ?) = ?',
      [`gh_${run}_`.length, `gh_${run}_`],
    );
    for (const { user, host } of rows) await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(appDb)}`);
    await admin.end();
  }
  await t?.close();
});

describe('access to a MariaDB database, end to end', () => {
  it('read-only works from the jumpboxes only: SELECT yes, INSERT no; refused from 127.0.0.3', async () => {
    const { grant, credential } = await activeGrant('read-only');
    expect(credential.connection).toBe(`mariadb -h 127.0.0.1 -P 3306 -u ${grant.account} -p ${appDb}`);
    expect(await hostsOf(grant.account)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(await login(credential, 'SELECT note FROM items WHERE id = 1')).toMatchObject({
      ok: true,
      stdout: 'first',
    });
    const insert = await login(credential, "INSERT INTO items VALUES (2, 'no')");
    expect(insert.ok).toBe(false);
    expect(insert.stderr).toMatch(/denied/);

    const fromJumpbox = await connectFrom('127.0.0.2', credential);
    const [[who]] = await fromJumpbox.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS cu');
    expect(who).toEqual({ cu: `${grant.account}@127.0.0.2` });
    await fromJumpbox.end();
    await expect(connectFrom('127.0.0.3', credential)).rejects.toThrow(/not allowed|denied/);

    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), { token: dana, body: {} });
    await runner.runDue();
    expect(await hostsOf(grant.account)).toEqual([]);
  });

  it('read-write can INSERT; at expiry the open session is killed and the user is gone', async () => {
    const { grant, credential } = await activeGrant('read-write');
    expect((await login(credential, "INSERT INTO items VALUES (10, 'rw')")).ok).toBe(true);
    const session = await connectFrom('127.0.0.2', credential);
    session.on('error', () => undefined);
    expect((await session.query<mysql.RowDataPacket[]>('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    clock.advance(H);
    await runner.runDue();
    expect(await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grant.id}`))).toMatchObject({
      status: 'revoked',
      endReason: 'expired',
    });
    await expect(session.query('SELECT 1')).rejects.toThrow();
    session.destroy();
    expect((await login(credential, 'SELECT 1')).ok).toBe(false);
    expect(await hostsOf(grant.account)).toEqual([]);
    expect(await auditActions(t, 'grant', grant.id)).toEqual([
      'grant.created',
      'grant.provisioning-started',
      'grant.activated',
      'grant.credential-revealed',
      'grant.revocation-started',
      'grant.revoked',
    ]);
  });

  it('the orphan sweeper removes a hand-made gh_ user', async () => {
    const orphan = `gh_${run}_handmade`;
    await admin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY 'x-Handmade-42'", [orphan]);
    const report = await expectStatus<{ removed: { account: string }[] }>(
      t,
      200,
      'POST',
      url('/access/sweep'),
      {
        body: { prefix: `gh_${run}_` },
      },
    );
    expect(report.removed).toEqual([{ asset: assetName, account: orphan }]);
    expect(await hostsOf(orphan)).toEqual([]);
    expect((await expectStatus<{ ok: boolean }>(t, 200, 'GET', url('/audit/verify'))).ok).toBe(true);
  });
});

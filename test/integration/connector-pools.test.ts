import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnectorSet,
  type AccountSpec,
  type ConnectorSet,
  type MysqlTarget,
  type PostgresTarget,
} from '../../src/adapters/connectors/index.js';
import { generatePassword } from '../../src/modules/access/domain/password.js';
import { GatehouseError } from '../../src/platform/errors.js';
import { mariadb, psql } from '../support/db-clients.js';
import { startScramPostgres, type ScramPostgres } from '../support/scram-postgres.js';

/**
 * Pooled admin connections, as a user of Gatehouse would notice them: connections are reused and bounded,
 * a rotated admin credential is used at once, a killed admin session or a restarted target costs nothing,
 * and closing Gatehouse leaves no admin session behind. Backends are counted on the target itself
 * (pg_stat_activity, the MariaDB processlist) for the pool's own admin account.
 */

const suffix = randomBytes(3).toString('hex');
const hour = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until it returns `expected` (backends end a moment after their client closed). */
async function eventually<T>(read: () => Promise<T>, expected: T, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await sleep(50);
    value = await read();
  }
  return value;
}

let serial = 0;
const spec = (label: string): AccountSpec => ({
  username: `gh_pool${label}_${suffix}_${++serial}`,
  password: generatePassword(),
  level: 'read-only',
  validUntil: new Date(Date.now() + hour),
  sourceCidrs: ['127.0.0.1/32'],
});

describe('pooled PostgreSQL admin connections', () => {
  const appDb = `pool_${suffix}`;
  const adminA = { username: `pool_admin_a_${suffix}`, password: `a-${randomBytes(8).toString('hex')}` };
  const adminB = { username: `pool_admin_b_${suffix}`, password: `b-${randomBytes(8).toString('hex')}` };
  let server: ScramPostgres;
  let set: ConnectorSet;
  const sets: ConnectorSet[] = [];
  const targetAs = (admin: { username: string; password: string }): PostgresTarget => ({
    engine: 'postgres',
    assetId: `asset-${suffix}`,
    host: server.host,
    port: server.port,
    admin,
    database: appDb,
  });

  /** A query as the server's own superuser, on a connection of its own (it survives restarts). */
  async function asSuperuser<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    const client = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.admin.username,
      password: server.admin.password,
      database: 'postgres',
    });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }
  const backendsOf = async (username: string) =>
    (
      await asSuperuser<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND application_name = 'gatehouse'",
        [username],
      )
    )[0]!.n;
  const backendPids = async (username: string) =>
    (
      await asSuperuser<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND application_name = 'gatehouse' ORDER BY pid",
        [username],
      )
    ).map((r) => r.pid);
  const newSet = (settings = { maxConnections: 3, idleMs: 60_000 }) => {
    const created = createConnectorSet(settings);
    sets.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await startScramPostgres();
    for (const admin of [adminA, adminB]) {
      await asSuperuser(`CREATE ROLE ${admin.username} LOGIN SUPERUSER PASSWORD '${admin.password}'`);
    }
    await asSuperuser(`CREATE DATABASE ${appDb}`);
    set = newSet();
  }, 60_000);

  afterAll(async () => {
    for (const s of sets) await s.close();
    await server?.stop();
  });

  it('reuses its admin connections, never more than the bound, across many calls', async () => {
    const connector = set.connectorFor('postgres');
    const target = targetAs(adminA);
    const accounts = Array.from({ length: 6 }, () => spec('reuse'));
    await Promise.all(accounts.map((a) => connector.createAccount(target, a)));
    const opened = await backendPids(adminA.username);
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.length).toBeLessThanOrEqual(3);
    await Promise.all(accounts.map((a) => connector.accountExists(target, a.username)));
    for (const a of accounts)
      expect(await connector.revokeAccount(target, a.username)).toEqual({ existed: true });
    // the same sessions did all of it: none was opened per call
    const after = await backendPids(adminA.username);
    expect(after.every((pid) => opened.includes(pid))).toBe(true);
  });

  it('a changed admin credential is used at once, and the old connections are closed', async () => {
    const connector = set.connectorFor('postgres');
    const s = spec('rotate');
    await connector.createAccount(targetAs(adminA), s);
    expect(await backendsOf(adminA.username)).toBeGreaterThan(0);

    // the asset's admin credential is changed to another account: the next call runs as that one
    await connector.revokeAccount(targetAs(adminB), s.username);
    expect(await backendsOf(adminB.username)).toBeGreaterThan(0);
    expect(await eventually(() => backendsOf(adminA.username), 0)).toBe(0);

    // a wrong credential is refused at once, though sessions opened with the right one were pooled
    const wrong = targetAs({ ...adminB, password: 'not-the-Password-42' });
    const error = await connector.accountExists(wrong, s.username).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'target_unavailable', retryable: false });
    expect(await eventually(() => backendsOf(adminB.username), 0)).toBe(0);
  });

  it('survives its admin sessions being killed on the target', async () => {
    const connector = set.connectorFor('postgres');
    const target = targetAs(adminA);
    await connector.testConnection(target);
    const killed = await asSuperuser<{ pid: number }>(
      'SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1',
      [adminA.username],
    );
    expect(killed.length).toBeGreaterThan(0);
    const s = spec('killed');
    expect(await connector.createAccount(target, s)).toEqual({ created: true });
    expect(
      await psql({ ...server, user: s.username, password: s.password, database: appDb }, 'SELECT 1'),
    ).toMatchObject({ ok: true });
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: true });
  });

  it('survives a restart of the target', async () => {
    const connector = set.connectorFor('postgres');
    const target = targetAs(adminA);
    const before = spec('restart');
    await connector.createAccount(target, before);
    await server.restart();
    const after = spec('restart');
    expect(await connector.createAccount(target, after)).toEqual({ created: true });
    expect(await connector.revokeAccount(target, before.username)).toEqual({ existed: true });
    expect(await connector.revokeAccount(target, after.username)).toEqual({ existed: true });
  });

  it('close ends every admin session, waiting for calls still running; later calls are retryable', async () => {
    const own = newSet();
    const connector = own.connectorFor('postgres');
    const target = targetAs(adminA);
    const s = spec('close');
    await connector.createAccount(target, s);
    const running = connector.revokeAccount(target, s.username);
    const closing = own.close();
    expect(await running).toEqual({ existed: true });
    await closing;
    expect(own.openPools).toBe(0);
    // only the shared set's sessions may remain: end those too, then none of the admin's is left
    await set.close();
    expect(await eventually(() => backendsOf(adminA.username), 0)).toBe(0);
    const refused = await connector.testConnection(target).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatehouseError);
    expect(refused).toMatchObject({ code: 'target_unavailable', retryable: true });
    set = newSet();
  });

  it('moves the native expiry of an account (VALID UNTIL), and does nothing for one that is gone', async () => {
    const connector = set.connectorFor('postgres');
    const target = targetAs(adminA);
    const s = spec('expiry');
    await connector.createAccount(target, s);
    const at = new Date(Date.now() + 2 * hour);
    at.setMilliseconds(0);
    await connector.setAccountExpiry(target, s.username, at);
    const [row] = await asSuperuser<{ until: Date }>(
      'SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1',
      [s.username],
    );
    expect(row?.until.toISOString()).toBe(at.toISOString());
    // once past, the password no longer logs in
    await connector.setAccountExpiry(target, s.username, new Date(Date.now() - 60_000));
    const login = await psql(
      { ...server, user: s.username, password: s.password, database: appDb },
      'SELECT 1',
    );
    expect(login.ok).toBe(false);
    await connector.revokeAccount(target, s.username);
    await expect(connector.setAccountExpiry(target, s.username, at)).resolves.toBeUndefined();
    await expect(connector.setAccountExpiry(target, 'gh_bad;name', at)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

describe('pooled MariaDB admin connections', () => {
  const server = { host: '127.0.0.1', port: 3306 };
  const appDb = `ghc_pool_${suffix}`;
  // ghx_: other test files on this shared server leave ghx_ accounts out of their account listings
  const admin = { username: `ghx_pool_${suffix}`, password: `p-${randomBytes(8).toString('hex')}` };
  const target: MysqlTarget = {
    engine: 'mariadb',
    assetId: `asset-my-${suffix}`,
    ...server,
    admin,
    database: appDb,
  };
  let root: mysql.Connection;
  let set: ConnectorSet;

  const sessionsOf = async () =>
    (
      await root.query<mysql.RowDataPacket[]>(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? ORDER BY ID',
        [admin.username],
      )
    )[0].map((r) => Number(r.id));

  beforeAll(async () => {
    root = await mysql.createConnection({ ...server, user: 'root', password: '' });
    await root.query(`CREATE DATABASE ${root.escapeId(appDb)}`);
    for (const host of ['127.0.0.1', 'localhost']) {
      await root.query('CREATE USER ?@? IDENTIFIED BY ?', [admin.username, host, admin.password]);
      await root.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [admin.username, host]);
    }
    set = createConnectorSet({ maxConnections: 3, idleMs: 60_000 });
  });

  afterAll(async () => {
    await set?.close();
    if (root) {
      for (const host of ['127.0.0.1', 'localhost']) {
        await root.query('DROP USER IF EXISTS ?@?', [admin.username, host]);
      }
      await root.query(`DROP DATABASE IF EXISTS ${root.escapeId(appDb)}`);
      await root.end();
    }
  });

  it('reuses its sessions, survives them being killed, and close ends them', async () => {
    const connector = set.connectorFor('mariadb');
    const first = spec('my');
    await connector.createAccount(target, first);
    const opened = await sessionsOf();
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.length).toBeLessThanOrEqual(3);
    expect(await connector.accountExists(target, first.username)).toBe(true);
    expect((await sessionsOf()).every((id) => opened.includes(id))).toBe(true);

    for (const id of opened) await root.query('KILL CONNECTION ?', [id]);
    const second = spec('my');
    expect(await connector.createAccount(target, second)).toEqual({ created: true });
    const works = await mariadb(
      { ...server, user: second.username, password: second.password, database: appDb },
      'SELECT 1',
    );
    expect(works).toMatchObject({ ok: true });
    // nothing native to move: the name is checked, nothing changes on the server
    await connector.setAccountExpiry(target, second.username, new Date(Date.now() + hour));
    for (const s of [first, second])
      expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: true });

    expect((await sessionsOf()).length).toBeGreaterThan(0);
    await set.close();
    expect(await eventually(async () => (await sessionsOf()).length, 0)).toBe(0);
  });
});

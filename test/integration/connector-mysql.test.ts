import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnectorSet,
  type AccountSpec,
  type MysqlTarget,
} from '../../src/adapters/connectors/index.js';
import { ensureBackslashEscapes } from '../../src/adapters/connectors/mysql/session.js';
import { generatePassword } from '../../src/modules/access/domain/password.js';
import { hostilePassword, invalidUsername } from '../support/connector-arbitraries.js';
import { mariadb } from '../support/db-clients.js';

/**
 * The MySQL/MariaDB connector against the machine's MariaDB (127.0.0.1:3306, root without password).
 * Logins go through the `mariadb` client. That client cannot choose its source address, so the
 * "only from the jumpbox" tests connect with mysql2 over a socket bound to 127.0.0.2 / 127.0.0.3
 * (mysql2's own `localAddress` option is typed but ignored, hence the `stream` factory).
 */

const suffix = randomBytes(3).toString('hex');
// pooled, as the access service uses it: every contract below holds with reused admin connections
const connectors = createConnectorSet();
const connector = connectors.connectorFor('mariadb');
const hour = 3_600_000;
const appDb = `ghc_app_${suffix}`;
const otherDb = `ghc_other_${suffix}`;
const server = { host: '127.0.0.1', port: 3306 };
const target: MysqlTarget = {
  engine: 'mariadb',
  ...server,
  admin: { username: 'root', password: '' },
  database: appDb,
};
const created = new Set<string>();
let serial = 0;
let admin: mysql.Connection;

const name = (label: string) => `gh_${label}_${suffix}_${++serial}`;
const spec = (over: Partial<AccountSpec> & { username: string }): AccountSpec => ({
  password: generatePassword(),
  level: 'read-only',
  validUntil: new Date(Date.now() + hour),
  sourceCidrs: ['127.0.0.1/32'],
  ...over,
});
async function create(s: AccountSpec, on: MysqlTarget = target) {
  created.add(s.username);
  return connector.createAccount(on, s);
}
const login = (user: string, password: string, sql: string, database = appDb) =>
  mariadb({ ...server, user, password, database }, sql);
/** A mysql2 session as the given user, its socket bound to `from`. */
const connectFrom = (from: string, user: string, password: string) =>
  mysql.createConnection({
    user,
    password,
    database: appDb,
    stream: () => net.connect({ ...server, localAddress: from }),
  });
/**
 * Every account on the server, sorted — except other test runs' managed accounts and `ghx_` outsiders,
 * which come and go while this file runs (the server is shared).
 */
const accounts = async () =>
  (await admin.query<mysql.RowDataPacket[]>("SELECT CONCAT(User, '@', Host) AS a FROM mysql.user"))[0]
    .map((r) => String(r.a))
    .filter((a) => !/^ghx?_/.test(a) || a.includes(`_${suffix}`))
    .sort();

beforeAll(async () => {
  admin = await mysql.createConnection({ ...server, user: 'root', password: '' });
  for (const db of [appDb, otherDb]) {
    await admin.query(`CREATE DATABASE ${admin.escapeId(db)}`);
    await admin.query(`CREATE TABLE ${admin.escapeId(db)}.items (id int PRIMARY KEY, note text)`);
    await admin.query(`INSERT INTO ${admin.escapeId(db)}.items VALUES (1, 'first')`);
  }
});

afterAll(async () => {
  const leftovers = (await connector.listManagedAccounts(target).catch(() => [])).filter((a) =>
    a.username.includes(`_${suffix}_`),
  );
  for (const username of new Set([...created, ...leftovers.map((a) => a.username)])) {
    await connector.revokeAccount(target, username).catch(() => undefined);
  }
  if (admin) {
    for (const db of [appDb, otherDb]) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(db)}`);
    await admin.end();
  }
  await connectors.close();
});

describe('MySQL/MariaDB connector', () => {
  it('tests the connection and names the server version', async () => {
    expect((await connector.testConnection(target)).serverVersion).toMatch(/MariaDB/);
  });

  it('reports a target that is down as retryable target_unavailable', async () => {
    const error = await connector
      .testConnection({ ...target, port: 1, connectTimeoutMs: 1_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'target_unavailable', retryable: true });
  });

  it('reports a refused admin credential as not retryable, without the password', async () => {
    const error = await connector
      .testConnection({ ...target, admin: { username: 'root', password: 'not-the-Password-42' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'target_unavailable', retryable: false });
    expect(String((error as Error).message)).not.toContain('not-the-Password-42');
  });

  it('read-only logs in with the mariadb client, can SELECT, cannot INSERT nor read beyond its database', async () => {
    const s = spec({ username: name('ro') });
    expect(await create(s)).toEqual({ created: true });
    expect(await login(s.username, s.password, 'SELECT note FROM items WHERE id = 1')).toMatchObject({
      ok: true,
      stdout: 'first',
    });
    const insert = await login(s.username, s.password, "INSERT INTO items VALUES (2, 'nope')");
    expect(insert.ok).toBe(false);
    expect(insert.stderr).toMatch(/denied/);
    expect((await login(s.username, s.password, `SELECT * FROM ${otherDb}.items`)).ok).toBe(false);
    const hashes = await login(s.username, s.password, 'SELECT * FROM mysql.global_priv');
    expect(hashes.ok).toBe(false);
    expect(hashes.stderr).toMatch(/denied/);
    const users = await login(s.username, s.password, 'SELECT User, Password FROM mysql.user');
    expect(users.ok).toBe(false);
    expect(users.stderr).toMatch(/denied/);
    expect((await login(s.username, `${s.password}x`, 'SELECT 1')).ok).toBe(false);
  });

  it('refuses every level without a database (grants would be on *.*), unless the level is mapped', async () => {
    const { database: _database, ...noDatabase } = target;
    for (const level of ['read-only', 'read-write', 'admin'] as const) {
      const s = spec({ username: name('nodb'), level });
      const refused = await create(s, noDatabase).catch((e: unknown) => e);
      expect(refused).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining('access.database'),
      });
      expect((refused as Error).message).toContain(`levels.${level}`);
      expect(await connector.accountExists(target, s.username)).toBe(false);
    }
    const s = spec({ username: name('mapped') });
    await create(s, { ...noDatabase, levels: { 'read-only': ['SELECT'] } });
    expect(await login(s.username, s.password, `SELECT note FROM ${otherDb}.items`)).toMatchObject({
      ok: true,
      stdout: 'first',
    });
  });

  it('read-write can INSERT', async () => {
    const s = spec({ username: name('rw'), level: 'read-write' });
    await create(s);
    const id = 100 + serial;
    expect(await login(s.username, s.password, `INSERT INTO items VALUES (${id}, 'rw')`)).toMatchObject({
      ok: true,
    });
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT 1 FROM ${appDb}.items WHERE id = ?`, [
      id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('works from the jumpbox source address and is refused from another', async () => {
    const s = spec({ username: name('jb'), sourceCidrs: ['127.0.0.2/32'] });
    await create(s);
    const fromJumpbox = await connectFrom('127.0.0.2', s.username, s.password);
    const [[who]] = await fromJumpbox.query<mysql.RowDataPacket[]>(
      'SELECT CURRENT_USER() AS cu, USER() AS u',
    );
    expect(who).toEqual({ cu: `${s.username}@127.0.0.2`, u: `${s.username}@127.0.0.2` });
    await fromJumpbox.end();
    await expect(connectFrom('127.0.0.3', s.username, s.password)).rejects.toThrow(/not allowed|denied/);
    // and from the machine itself (127.0.0.1), with the real client
    expect((await login(s.username, s.password, 'SELECT 1')).ok).toBe(false);
  });

  it('binds a CIDR wider than one address as address/netmask', async () => {
    const s = spec({ username: name('net'), sourceCidrs: ['127.0.0.4/30'] });
    await create(s);
    expect(await accounts()).toContain(`${s.username}@127.0.0.4/255.255.255.252`);
    for (const from of ['127.0.0.4', '127.0.0.7'])
      await (await connectFrom(from, s.username, s.password)).end();
    for (const from of ['127.0.0.3', '127.0.0.8']) {
      await expect(connectFrom(from, s.username, s.password)).rejects.toThrow(/not allowed|denied/);
    }
  });

  it('createAccount twice converges: password, grants and hosts', async () => {
    const first = spec({
      username: name('conv'),
      level: 'read-write',
      sourceCidrs: ['127.0.0.1/32', '127.0.0.2/32'],
    });
    await create(first);
    const second = {
      ...first,
      password: generatePassword(),
      level: 'read-only' as const,
      sourceCidrs: ['127.0.0.1/32'],
    };
    expect(await create(second)).toEqual({ created: false });
    expect((await login(first.username, first.password, 'SELECT 1')).ok).toBe(false);
    expect(await login(first.username, second.password, 'SELECT 1')).toMatchObject({ ok: true });
    expect((await login(first.username, second.password, "INSERT INTO items VALUES (999, 'x')")).ok).toBe(
      false,
    );
    expect((await accounts()).filter((a) => a.startsWith(`${first.username}@`))).toEqual([
      `${first.username}@127.0.0.1`,
    ]);
  });

  it('revoke: login fails, every host of the account is gone, a second revoke is fine', async () => {
    const s = spec({ username: name('rev'), sourceCidrs: ['127.0.0.1/32', '127.0.0.2/32'] });
    await create(s);
    expect((await login(s.username, s.password, 'SELECT 1')).ok).toBe(true);
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: true });
    expect((await login(s.username, s.password, 'SELECT 1')).ok).toBe(false);
    expect(await connector.accountExists(target, s.username)).toBe(false);
    expect((await accounts()).filter((a) => a.startsWith(`${s.username}@`))).toEqual([]);
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: false });
  });

  it('terminates a session that is open at revoke', async () => {
    const s = spec({ username: name('sess') });
    await create(s);
    const session = await mysql.createConnection({
      ...server,
      user: s.username,
      password: s.password,
      database: appDb,
    });
    session.on('error', () => undefined);
    await session.query('SELECT 1');
    await connector.revokeAccount(target, s.username);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    session.destroy();
  });

  it('revokes an account that created tables in two databases; the tables stay', async () => {
    // server-wide grants only when the level is mapped explicitly
    const global = { ...target, database: undefined, levels: { admin: ['ALL PRIVILEGES' as const] } };
    const s = spec({ username: name('own'), level: 'admin' });
    await create(s, global);
    for (const db of [appDb, otherDb]) {
      expect(await login(s.username, s.password, `CREATE TABLE t_${serial} (x int)`, db)).toMatchObject({
        ok: true,
      });
    }
    expect(await connector.revokeAccount(global, s.username)).toEqual({ existed: true });
    for (const db of [appDb, otherDb]) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [db, `t_${serial}`],
      );
      expect(rows).toHaveLength(1);
    }
  });

  it('lists only gh_ accounts, with their hosts, and narrows by prefix', async () => {
    const s = spec({ username: name('list'), sourceCidrs: ['127.0.0.1/32', '127.0.0.2/32'] });
    await create(s);
    const outsider = `ghx_${suffix}`;
    await admin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY 'x'", [outsider]);
    try {
      const all = await connector.listManagedAccounts(target);
      expect(all.every((a) => a.username.startsWith('gh_'))).toBe(true);
      expect(all.find((a) => a.username === s.username)?.hosts).toEqual(['127.0.0.1', '127.0.0.2']);
      expect(
        (await connector.listManagedAccounts(target, `gh_list_${suffix}`)).map((a) => a.username),
      ).toEqual([s.username]);
    } finally {
      await admin.query("DROP USER ?@'127.0.0.1'", [outsider]);
    }
  });

  it('refuses names over 32 characters and accounts with no jumpbox source', async () => {
    await expect(create(spec({ username: `gh_${'a'.repeat(30)}` }))).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(create(spec({ username: name('nosrc'), sourceCidrs: [] }))).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(create(spec({ username: name('any'), sourceCidrs: ['0.0.0.0/0'] }))).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('keeps escaping sound in a session whose sql_mode has NO_BACKSLASH_ESCAPES', async () => {
    const tricky = "a\\'; SELECT 1; -- ";
    const c = await mysql.createConnection({ ...server, user: 'root', password: '' });
    try {
      await c.query("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'");
      // mysql2 escapes with backslashes: under this mode its escaping would not hold
      const naive = await c.query<mysql.RowDataPacket[]>('SELECT ? AS v', [tricky]).then(
        ([rows]) => rows[0]?.v as unknown,
        () => 'refused',
      );
      expect(naive).not.toBe(tricky);
      await ensureBackslashEscapes(c);
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT ? AS v', [tricky]);
      expect(rows[0]?.v).toBe(tricky);
    } finally {
      await c.end();
    }
  });
});

describe('MySQL/MariaDB connector: nothing escapes the quoting (property)', () => {
  it('refuses names outside the grammar before reaching the server', async () => {
    const down = { ...target, port: 1, connectTimeoutMs: 1_000 };
    await expect(connector.accountExists(down, 'gh_valid')).rejects.toMatchObject({
      code: 'target_unavailable',
    });
    await fc.assert(
      fc.asyncProperty(invalidUsername, async (username) => {
        for (const call of [
          () => connector.createAccount(down, spec({ username })),
          () => connector.revokeAccount(down, username),
          () => connector.accountExists(down, username),
        ]) {
          await expect(call()).rejects.toMatchObject({ code: 'validation_failed' });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('sets hostile passwords exactly (both engines’ statements): that password logs in, another does not, no account appears', async () => {
    const before = await accounts();
    await fc.assert(
      fc.asyncProperty(
        hostilePassword,
        fc.constantFrom('mysql' as const, 'mariadb' as const),
        async (password, engine) => {
          const s = spec({ username: name('prop'), password });
          const on = { ...target, engine };
          try {
            await create(s, on);
            expect(await accounts()).toEqual([...before, `${s.username}@127.0.0.1`].sort());
            expect(await login(s.username, password, 'SELECT CURRENT_USER()')).toMatchObject({
              ok: true,
              stdout: `${s.username}@127.0.0.1`,
            });
            expect((await login(s.username, `${password}x`, 'SELECT 1')).ok).toBe(false);
          } finally {
            await connector.revokeAccount(on, s.username);
          }
          expect(await accounts()).toEqual(before);
        },
      ),
      { numRuns: 30 },
    );
  });
});

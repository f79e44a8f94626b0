import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnectorSet,
  type AccountSpec,
  type PostgresTarget,
} from '../../src/adapters/connectors/index.js';
import {
  defaultPasswordPolicy,
  generatePassword,
  scramIterationsFor,
} from '../../src/modules/access/domain/password.js';
import { GatehouseError } from '../../src/platform/errors.js';
import { hostilePassword, invalidUsername } from '../support/connector-arbitraries.js';
import { psql } from '../support/db-clients.js';
import { startScramPostgres, type ScramPostgres } from '../support/scram-postgres.js';

/**
 * The PostgreSQL connector against a real server that checks passwords (see ../support/scram-postgres.ts
 * for why not the machine's trust-auth server). Logins go through `psql`, as an engineer's would.
 */

const suffix = randomBytes(3).toString('hex');
// pooled, as the access service uses it: every contract below holds with reused admin connections
const connectors = createConnectorSet();
const connector = connectors.connectorFor('postgres');
const hour = 3_600_000;
const appDb = `app_${suffix}`;
const otherDb = `other_${suffix}`;
const ownerRole = `app_owner_${suffix}`;

let server: ScramPostgres;
let target: PostgresTarget;
let admin: pg.Client;
const created = new Set<string>();
let serial = 0;

const name = (label: string) => `gh_${label}_${suffix}_${++serial}`;
const spec = (over: Partial<AccountSpec> & { username: string }): AccountSpec => ({
  password: generatePassword(),
  level: 'read-only',
  validUntil: new Date(Date.now() + hour),
  sourceCidrs: ['127.0.0.1/32'],
  ...over,
});
async function create(s: AccountSpec) {
  created.add(s.username);
  return connector.createAccount(target, s);
}
const login = (user: string, password: string, sql: string, database = appDb) =>
  psql({ host: server.host, port: server.port, user, password, database }, sql);
const adminIn = async <T>(database: string, work: (c: pg.Client) => Promise<T>) => {
  const c = new pg.Client({ ...clientOptions(), database });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
};
const clientOptions = () => ({
  host: server.host,
  port: server.port,
  user: server.admin.username,
  password: server.admin.password,
});
const roleNames = async () =>
  (await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles ORDER BY 1')).rows.map(
    (r) => r.rolname,
  );

beforeAll(async () => {
  server = await startScramPostgres();
  target = {
    engine: 'postgres',
    host: server.host,
    port: server.port,
    admin: server.admin,
    database: appDb,
    levels: { admin: [ownerRole] },
  };
  admin = new pg.Client({ ...clientOptions(), database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ownerRole} NOLOGIN`);
  for (const db of [appDb, otherDb]) {
    await admin.query(`CREATE DATABASE ${db}`);
    await adminIn(db, async (c) => {
      await c.query('CREATE TABLE items (id int PRIMARY KEY, note text)');
      await c.query("INSERT INTO items VALUES (1, 'first')");
      await c.query('CREATE SCHEMA sales');
      await c.query('CREATE TABLE sales.orders (id serial PRIMARY KEY, note text)');
      await c.query("INSERT INTO sales.orders (note) VALUES ('order one')");
    });
  }
}, 60_000);

afterAll(async () => {
  for (const username of created) await connector.revokeAccount(target, username).catch(() => undefined);
  if (admin) {
    for (const db of [appDb, otherDb]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${ownerRole}`);
    for (const level of ['ro', 'rw']) {
      for (const db of [appDb, otherDb]) await admin.query(`DROP ROLE IF EXISTS gatehouse_${level}_${db}`);
    }
    await admin.end();
  }
  await connectors.close();
  await server?.stop();
});

describe('PostgreSQL connector', () => {
  it('tests the connection and names the server version', async () => {
    expect((await connector.testConnection(target)).serverVersion).toMatch(/^\d+\.\d+/);
  });

  it('reports a target that is down as retryable target_unavailable', async () => {
    const down = { ...target, port: 1, connectTimeoutMs: 1_000 };
    const error = await connector.testConnection(down).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'target_unavailable', retryable: true });
  });

  it('reports a refused admin credential as not retryable, without the password', async () => {
    const wrong = { ...target, admin: { username: 'postgres', password: 'not-the-Password-42' } };
    const error = await connector.testConnection(wrong).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'target_unavailable', retryable: false });
    expect(String((error as Error).message)).not.toContain('not-the-Password-42');
  });

  it('read-only logs in with psql, can SELECT in every schema of its database and cannot INSERT', async () => {
    const s = spec({ username: name('ro') });
    expect(await create(s)).toEqual({ created: true });
    const select = await login(s.username, s.password, 'SELECT note FROM items WHERE id = 1');
    expect(select).toMatchObject({ ok: true, stdout: 'first' });
    const other = await login(s.username, s.password, 'SELECT note FROM sales.orders WHERE id = 1');
    expect(other).toMatchObject({ ok: true, stdout: 'order one' });
    const insert = await login(s.username, s.password, "INSERT INTO items VALUES (2, 'nope')");
    expect(insert.ok).toBe(false);
    expect(insert.stderr).toMatch(/permission denied/);
    const insertOther = await login(s.username, s.password, "INSERT INTO sales.orders (note) VALUES ('no')");
    expect(insertOther.ok).toBe(false);
    expect(insertOther.stderr).toMatch(/permission denied/);
    expect((await login(s.username, `${s.password}x`, 'SELECT 1')).ok).toBe(false);
  });

  it('read-only cannot read credentials (pg_authid) nor another database, and is a member of its level role only', async () => {
    const s = spec({ username: name('cred') });
    await create(s);
    const verifiers = await login(s.username, s.password, 'SELECT rolpassword FROM pg_authid');
    expect(verifiers.ok).toBe(false);
    expect(verifiers.stderr).toMatch(/permission denied/);
    const elsewhere = await login(s.username, s.password, 'SELECT note FROM items', otherDb);
    expect(elsewhere.ok).toBe(false);
    expect(elsewhere.stderr).toMatch(/permission denied/);
    const { rows } = await admin.query<{ rolname: string; rolcanlogin: boolean }>(
      `SELECT r.rolname, r.rolcanlogin FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
        WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [s.username],
    );
    expect(rows).toEqual([{ rolname: `gatehouse_ro_${appDb}`, rolcanlogin: false }]);
  });

  it('accounts made at once share the level role; a table created later is topped up for the next one', async () => {
    const batch = Array.from({ length: 12 }, (_, i) =>
      spec({ username: name('many'), level: i % 2 ? 'read-write' : 'read-only' }),
    );
    const results = await Promise.all(batch.map((s) => create(s)));
    expect(results).toEqual(batch.map(() => ({ created: true })));
    for (const s of [batch[0]!, batch[1]!]) {
      expect(await login(s.username, s.password, 'SELECT note FROM items WHERE id = 1')).toMatchObject({
        ok: true,
        stdout: 'first',
      });
    }
    await adminIn(appDb, (c) =>
      c.query('CREATE TABLE sales.later (id int); INSERT INTO sales.later VALUES (7)'),
    );
    const next = spec({ username: name('later') });
    await create(next);
    expect(await login(next.username, next.password, 'SELECT id FROM sales.later')).toMatchObject({
      ok: true,
      stdout: '7',
    });
    // read-only on the new table too for the earlier read-only account, and still no INSERT
    expect(await login(batch[0]!.username, batch[0]!.password, 'SELECT id FROM sales.later')).toMatchObject({
      ok: true,
      stdout: '7',
    });
    const insert = await login(batch[0]!.username, batch[0]!.password, 'INSERT INTO sales.later VALUES (8)');
    expect(insert.ok).toBe(false);
    // the level roles are no gh_ accounts: the sweeper's listing does not name them
    const listed = (await connector.listManagedAccounts(target)).map((a) => a.username);
    expect(listed.filter((u) => u.startsWith('gatehouse_'))).toEqual([]);
  });

  it('read-write can INSERT, also into a table with a sequence in another schema', async () => {
    const s = spec({ username: name('rw'), level: 'read-write' });
    await create(s);
    const id = 100 + serial;
    expect(await login(s.username, s.password, `INSERT INTO items VALUES (${id}, 'rw')`)).toMatchObject({
      ok: true,
    });
    expect((await adminIn(appDb, (c) => c.query('SELECT 1 FROM items WHERE id = $1', [id]))).rowCount).toBe(
      1,
    );
    const sequenced = await login(s.username, s.password, "INSERT INTO sales.orders (note) VALUES ('rw')");
    expect(sequenced).toMatchObject({ ok: true });
    expect((await login(s.username, s.password, 'SELECT rolpassword FROM pg_authid')).ok).toBe(false);
  });

  it('refuses read-only and read-write without a database, unless the level is mapped to roles', async () => {
    const { database: _database, ...noDatabase } = target;
    for (const level of ['read-only', 'read-write'] as const) {
      const refused = await connector
        .createAccount(noDatabase, spec({ username: name('nodb'), level }))
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining('access.database'),
      });
      expect((refused as Error).message).toContain(`levels.${level}`);
    }
    const mapped = { ...noDatabase, levels: { 'read-only': [ownerRole] } };
    const s = spec({ username: name('mapped') });
    created.add(s.username);
    expect(await connector.createAccount(mapped, s)).toEqual({ created: true });
    const { rows } = await admin.query('SELECT pg_has_role($1, $2, $3) AS member', [
      s.username,
      ownerRole,
      'MEMBER',
    ]);
    expect(rows[0].member).toBe(true);
  });

  it('admin is refused without a mapping, and is the mapped membership with one', async () => {
    const { levels: _levels, ...unmapped } = target;
    const refused = await connector
      .createAccount(unmapped, spec({ username: name('adm'), level: 'admin' }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('levels.admin'),
    });
    const s = spec({ username: name('adm'), level: 'admin' });
    await create(s);
    const { rows } = await admin.query('SELECT pg_has_role($1, $2, $3) AS member', [
      s.username,
      ownerRole,
      'MEMBER',
    ]);
    expect(rows[0].member).toBe(true);
  });

  it('refuses a level mapped to a role the server does not have, and leaves nothing behind', async () => {
    const s = spec({ username: name('bad') });
    const error = await connector
      .createAccount({ ...target, levels: { 'read-only': [`missing_${suffix}`] } }, s)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'validation_failed', retryable: false });
    expect(await connector.accountExists(target, s.username)).toBe(false);
  });

  it('createAccount twice converges: new password, validity and grants', async () => {
    const first = spec({ username: name('conv') });
    await create(first);
    const second = { ...first, password: generatePassword(), level: 'read-write' as const };
    expect(await create(second)).toEqual({ created: false });
    expect((await login(first.username, first.password, 'SELECT 1')).ok).toBe(false);
    expect(await login(second.username, second.password, 'SELECT 1')).toMatchObject({ ok: true });
    const rights = () =>
      adminIn(appDb, async (c) => {
        const { rows } = await c.query<{ select: boolean; insert: boolean; nextval: boolean }>(
          `SELECT has_table_privilege($1, 'sales.orders', 'SELECT') AS select,
                  has_table_privilege($1, 'sales.orders', 'INSERT') AS insert,
                  has_sequence_privilege($1, 'sales.orders_id_seq', 'USAGE') AS nextval`,
          [first.username],
        );
        return rows[0];
      });
    expect(await rights()).toEqual({ select: true, insert: true, nextval: true });
    await create({ ...second, level: 'read-only' });
    expect(await rights()).toEqual({ select: true, insert: false, nextval: false });
    const rejected = await login(second.username, second.password, "INSERT INTO items VALUES (900, 'x')");
    expect(rejected.ok).toBe(false);
    // an account made under the old default (a predefined role) loses it on the next convergence
    await admin.query(`GRANT pg_read_all_data TO ${first.username}`);
    await create({ ...second, level: 'read-only' });
    const { rows } = await admin.query('SELECT pg_has_role($1, $2, $3) AS member', [
      first.username,
      'pg_read_all_data',
      'MEMBER',
    ]);
    expect(rows[0].member).toBe(false);
  });

  it('refuses login once VALID UNTIL has passed, though the role still exists (native backstop)', async () => {
    const s = spec({ username: name('exp'), validUntil: new Date(Date.now() - 60_000) });
    await create(s);
    const result = await login(s.username, s.password, 'SELECT 1');
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/password authentication failed/);
    expect(await connector.accountExists(target, s.username)).toBe(true);
  });

  it('revoke: login fails, the role is gone, a second revoke is fine', async () => {
    const s = spec({ username: name('rev') });
    await create(s);
    expect((await login(s.username, s.password, 'SELECT 1')).ok).toBe(true);
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: true });
    expect((await login(s.username, s.password, 'SELECT 1')).ok).toBe(false);
    expect(await connector.accountExists(target, s.username)).toBe(false);
    expect(await roleNames()).not.toContain(s.username);
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: false });
  });

  it('terminates a session that is open at revoke', async () => {
    const s = spec({ username: name('sess') });
    await create(s);
    const session = new pg.Client({
      host: server.host,
      port: server.port,
      user: s.username,
      password: s.password,
      database: appDb,
    });
    session.on('error', () => undefined);
    await session.connect();
    expect((await session.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBeGreaterThan(0);
    await connector.revokeAccount(target, s.username);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
  });

  it('revokes a user who owns tables in two databases; the tables are kept, owned by the admin', async () => {
    const s = spec({ username: name('own'), level: 'read-write' });
    await create(s);
    for (const db of [appDb, otherDb]) {
      await adminIn(db, (c) => c.query(`GRANT CREATE ON SCHEMA public TO ${s.username}`));
      const made = await login(
        s.username,
        s.password,
        `CREATE TABLE t_${s.username} (x int); INSERT INTO t_${s.username} VALUES (7)`,
        db,
      );
      expect(made).toMatchObject({ ok: true });
    }
    expect(await connector.revokeAccount(target, s.username)).toEqual({ existed: true });
    expect(await roleNames()).not.toContain(s.username);
    for (const db of [appDb, otherDb]) {
      const owner = await adminIn(db, (c) =>
        c.query<{ owner: string }>('SELECT tableowner AS owner FROM pg_tables WHERE tablename = $1', [
          `t_${s.username}`,
        ]),
      );
      expect(owner.rows[0]?.owner).toBe('postgres');
    }
  });

  it('stores the verifier with the iterations it is given: 16 for a generated password, and psql logs in', async () => {
    const light = createConnectorSet(undefined, {
      postgres: { scramIterations: scramIterationsFor(defaultPasswordPolicy) },
    });
    try {
      const s = spec({ username: name('iter') });
      created.add(s.username);
      expect(await light.connectorFor('postgres').createAccount(target, s)).toEqual({ created: true });
      const { rows } = await admin.query<{ verifier: string }>(
        'SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1',
        [s.username],
      );
      expect(rows[0]?.verifier).toMatch(/^SCRAM-SHA-256\$16:/);
      expect(await login(s.username, s.password, 'SELECT current_user')).toMatchObject({
        ok: true,
        stdout: s.username,
      });
      expect((await login(s.username, `${s.password}x`, 'SELECT 1')).ok).toBe(false);
      // the default set keeps PostgreSQL's own count
      const other = spec({ username: name('iter') });
      await create(other);
      const stretched = await admin.query<{ verifier: string }>(
        'SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1',
        [other.username],
      );
      expect(stretched.rows[0]?.verifier).toMatch(/^SCRAM-SHA-256\$4096:/);
    } finally {
      await light.close();
    }
  });

  it('lists only gh_ accounts, with their native expiry, and narrows by prefix', async () => {
    const s = spec({ username: name('list') });
    await create(s);
    await admin.query(`CREATE ROLE ghx_${suffix} LOGIN`);
    try {
      const all = await connector.listManagedAccounts(target);
      expect(all.every((a) => a.username.startsWith('gh_'))).toBe(true);
      expect(all.find((a) => a.username === s.username)?.validUntil?.getTime()).toBe(s.validUntil.getTime());
      const narrowed = await connector.listManagedAccounts(target, `gh_list_${suffix}`);
      expect(narrowed.map((a) => a.username)).toEqual([s.username]);
      await expect(connector.listManagedAccounts(target, 'app_')).rejects.toMatchObject({
        code: 'validation_failed',
      });
    } finally {
      await admin.query(`DROP ROLE ghx_${suffix}`);
    }
  });
});

describe('PostgreSQL connector: nothing escapes the quoting (property)', () => {
  it('refuses names outside the grammar before reaching the server', async () => {
    const down = { ...target, port: 1, connectTimeoutMs: 1_000 };
    // a valid name against the closed port gets target_unavailable: the refusals below come first
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

  it('sets hostile passwords exactly: that password logs in with psql, another does not, no role appears', async () => {
    const before = await roleNames();
    await fc.assert(
      fc.asyncProperty(hostilePassword, async (password) => {
        const s = spec({ username: name('prop'), password });
        try {
          await create(s);
          expect(await roleNames()).toEqual([...before, s.username].sort());
          const ok = await login(s.username, password, 'SELECT current_user');
          expect(ok).toMatchObject({ ok: true, stdout: s.username });
          expect((await login(s.username, `${password}x`, 'SELECT 1')).ok).toBe(false);
        } finally {
          await connector.revokeAccount(target, s.username);
        }
        expect(await roleNames()).toEqual(before);
      }),
      { numRuns: 30 },
    );
  });
});

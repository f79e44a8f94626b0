import { createHash } from 'node:crypto';
import { TransientError, ValidationError } from '../../../platform/errors.js';
import {
  assertAccountSpec,
  assertManagedPrefix,
  assertManagedUsername,
  mysqlTargetSchema,
  parseTarget,
} from '../config.js';
import type { AccountSpec, Connector, ManagedAccount, MysqlPrivilege, PermissionLevel } from '../types.js';
import { hostPatternsFor } from './host-patterns.js';
import { oneOffMySessions, type MySession, type MySessions, type ParsedMysqlTarget } from './session.js';

/**
 * MySQL and MariaDB: an account is one `'name'@'<host>'` per jumpbox source, so it only works from the
 * jumpboxes, with the privileges its level maps to. Neither engine can expire an account at a given
 * time, so expiry here rests on the lease reaper and the orphan sweeper alone.
 *
 * Every value goes through mysql2's placeholders, every name through `escapeId`; privilege keywords
 * come only from the allow-list in ../config.ts. Account names are at most 32 characters (MySQL's limit).
 */

const defaultPrivileges: Record<PermissionLevel, readonly MysqlPrivilege[]> = {
  'read-only': ['SELECT'],
  'read-write': ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  admin: ['ALL PRIVILEGES'],
};

const parse = (target: unknown) => parseTarget(mysqlTargetSchema, target);

/**
 * The level's privileges. Without a database they would be on `*.*`, where even SELECT reads
 * `mysql.global_priv` (every account's password hash): the defaults need a database, and server-wide
 * grants are only made when the asset maps the level explicitly. Why: docs/decisions/0007-*.md.
 */
function privilegesFor(target: ParsedMysqlTarget, level: PermissionLevel): readonly MysqlPrivilege[] {
  const mapped = target.levels?.[level];
  if (mapped) return mapped;
  if (!target.database) {
    throw new ValidationError(
      `this ${target.engine === 'mysql' ? 'MySQL' : 'MariaDB'} asset names no database, and without one the ` +
        `${level} level would be granted on *.* (mysql.global_priv included): set the asset's access.database ` +
        `label, or map levels.${level} explicitly for server-wide grants`,
    );
  }
  return defaultPrivileges[level];
}

/**
 * MariaDB: the mysql_native_password hash is computed here and sent with `IDENTIFIED BY PASSWORD`, so
 * the password itself never appears in a statement (general log, processlist, binlog). MySQL 8 removed
 * that form; there the password is sent and the server applies its default plugin.
 */
function identifiedBy(target: ParsedMysqlTarget, password: string): { clause: string; value: string } {
  if (target.engine === 'mysql') return { clause: 'IDENTIFIED BY ?', value: password };
  const inner = createHash('sha1').update(Buffer.from(password, 'utf8')).digest();
  const hash = `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
  return { clause: 'IDENTIFIED BY PASSWORD ?', value: hash };
}

async function hostsOf(s: MySession, username: string): Promise<string[]> {
  const rows = await s.query<{ host: string }>(
    'SELECT Host AS host FROM mysql.user WHERE User = ? ORDER BY Host',
    [username],
  );
  return rows.map((r) => String(r.host));
}

/** Kills every connection of the user and waits until none is listed. */
async function killSessions(s: MySession, username: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await s.query<{ id: number | string }>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()',
      [username],
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline) {
      throw new TransientError(
        'target_unavailable',
        `sessions of ${username} did not end within ${timeoutMs} ms`,
      );
    }
    for (const { id } of rows) {
      const thread = Number(id);
      if (!Number.isSafeInteger(thread)) continue;
      // already gone (ER_NO_SUCH_THREAD) is what we want; the next listing tells
      await s.query('KILL CONNECTION ?', [thread]).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function createOrConverge(
  s: MySession,
  target: ParsedMysqlTarget,
  spec: AccountSpec,
  hosts: string[],
  privileges: readonly MysqlPrivilege[],
) {
  const { username } = spec;
  const scope = target.database ? `${s.escapeId(target.database)}.*` : '*.*';
  const auth = identifiedBy(target, spec.password);
  const limits = `WITH MAX_USER_CONNECTIONS ${target.connectionLimit}`;
  const existing = await hostsOf(s, username);
  // a retry with other jumpbox sources than the first attempt: hosts no longer wanted go
  for (const host of existing.filter((h) => !hosts.includes(h))) {
    await s.query('DROP USER IF EXISTS ?@?', [username, host]);
  }
  // each account is configured locked and unlocked only once all of them are complete
  for (const host of hosts) {
    const verb = existing.includes(host) ? 'ALTER' : 'CREATE';
    await s.query(`${verb} USER ?@? ${auth.clause} ${limits} ACCOUNT LOCK`, [username, host, auth.value], {
      secret: true,
    });
    await s.query('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@?', [username, host]);
    await s.query(`GRANT ${privileges.join(', ')} ON ${scope} TO ?@?`, [username, host]);
  }
  for (const host of hosts) await s.query('ALTER USER ?@? ACCOUNT UNLOCK', [username, host]);
  return { created: existing.length === 0 };
}

async function revoke(s: MySession, username: string) {
  const hosts = await hostsOf(s, username);
  for (const host of hosts) await s.query('ALTER USER IF EXISTS ?@? ACCOUNT LOCK', [username, host]);
  // sessions outlive DROP USER on both engines: end them explicitly
  await killSessions(s, username);
  for (const host of hosts) await s.query('DROP USER IF EXISTS ?@?', [username, host]);
  await killSessions(s, username);
  if ((await hostsOf(s, username)).length > 0) {
    throw new TransientError('target_unavailable', `${username} still exists after DROP USER; will retry`);
  }
  return { existed: hosts.length > 0 };
}

/** With `sessions` from `pooledMySessions`, admin connections are pooled per target; else one per call. */
export function createMysqlConnector(sessions: MySessions = oneOffMySessions): Connector {
  const withMysql: MySessions['run'] = (target, action, work) => sessions.run(target, action, work);
  return {
    engines: ['mysql', 'mariadb'],
    validateConfig: (target) => parse(target),

    async testConnection(input) {
      const target = parse(input);
      return withMysql(target, 'testing the connection', async (s) => {
        const [row] = await s.query<{ version: string }>('SELECT VERSION() AS version');
        return { serverVersion: String(row?.version ?? 'unknown') };
      });
    },

    async createAccount(input, spec) {
      const target = parse(input);
      assertAccountSpec(target.engine, spec);
      if (spec.sourceCidrs.length === 0) {
        throw new ValidationError(
          'MySQL/MariaDB accounts are bound to the addresses they connect from: list the jumpbox source CIDRs',
        );
      }
      const hosts = hostPatternsFor(spec.sourceCidrs);
      const privileges = privilegesFor(target, spec.level);
      return withMysql(target, `creating ${spec.username}`, (s) =>
        createOrConverge(s, target, spec, hosts, privileges),
      );
    },

    async revokeAccount(input, username) {
      const target = parse(input);
      assertManagedUsername(target.engine, username);
      return withMysql(target, `revoking ${username}`, (s) => revoke(s, username));
    },

    async accountExists(input, username) {
      const target = parse(input);
      assertManagedUsername(target.engine, username);
      return withMysql(
        target,
        `looking up ${username}`,
        async (s) => (await hostsOf(s, username)).length > 0,
      );
    },

    /**
     * Neither engine can expire an account at a given time (`PASSWORD EXPIRE` only makes the holder
     * change the password, which keeps the account usable): the name is checked and nothing is sent.
     * The lease reaper and the orphan sweeper carry expiry here.
     */
    async setAccountExpiry(input, username, at) {
      const target = parse(input);
      assertManagedUsername(target.engine, username);
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new ValidationError('the expiry must be a valid date');
      }
    },

    async listManagedAccounts(input, prefix = 'gh_'): Promise<ManagedAccount[]> {
      const target = parse(input);
      assertManagedPrefix(prefix);
      return withMysql(target, 'listing managed accounts', async (s) => {
        const rows = await s.query<{ user: string; host: string }>(
          'SELECT User AS user, Host AS host FROM mysql.user WHERE LEFT(User, ?) = ? ORDER BY User, Host',
          [prefix.length, prefix],
        );
        const accounts = new Map<string, string[]>();
        // the column's collation may ignore case: compare exactly here
        for (const { user, host } of rows.filter((r) => String(r.user).startsWith(prefix))) {
          accounts.set(String(user), [...(accounts.get(String(user)) ?? []), String(host)]);
        }
        return [...accounts].map(([username, hosts]) => ({ username, hosts }));
      });
    },
  };
}

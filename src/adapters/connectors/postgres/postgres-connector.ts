import { GatehouseError, TransientError, ValidationError } from '../../../platform/errors.js';
import {
  assertAccountSpec,
  assertManagedPrefix,
  assertManagedUsername,
  parseTarget,
  postgresTargetSchema,
} from '../config.js';
import type { AccountSpec, Connector, DatabaseTarget, ManagedAccount, PermissionLevel } from '../types.js';
import { ensureLevelRole, LOCK_RIGHTS } from './level-roles.js';
import { isAscii, scramSha256Verifier } from './scram.js';
import {
  oneOffPgSessions,
  withPostgres,
  type ParsedPostgresTarget,
  type PgSession,
  type PgSessions,
} from './session.js';

/**
 * PostgreSQL: an account is a LOGIN role with `VALID UNTIL` (the target's own expiry backstop — it
 * applies to password authentication, so not to `trust`, `peer` or certificate entries in pg_hba.conf)
 * and membership in the roles its level maps to.
 *
 * DDL takes no bind parameters: names are checked against the managed-account grammar, then quoted with
 * the driver's `escapeIdentifier`/`escapeLiteral`. Everything else (`rolname = $1`) is a parameter.
 * Why verifiers, pg_shdepend and a password-checking test cluster: docs/decisions/0005-*.md.
 */

/**
 * What a level grants when the asset maps no roles to it. `read-only` and `read-write` are rights on the
 * target database's own schemas — never `pg_read_all_data`/`pg_write_all_data`, which also read the
 * catalogs, `pg_authid` (every role's password verifier) included. `admin` means different things on
 * different assets: it must be configured. Why: docs/decisions/0007-*.md.
 */
const defaultTablePrivileges: Record<PermissionLevel, string | undefined> = {
  'read-only': 'SELECT',
  'read-write': 'SELECT, INSERT, UPDATE, DELETE',
  admin: undefined,
};
const defaultSequencePrivileges: Record<PermissionLevel, string | undefined> = {
  'read-only': 'SELECT',
  'read-write': 'SELECT, USAGE',
  admin: undefined,
};

/** Either the roles the asset maps the level to, or the schema-scoped default in its database. */
type LevelGrant =
  | { kind: 'roles'; roles: readonly string[] }
  | { kind: 'schemas'; database: string; tables: string; sequences: string };

function grantFor(target: ParsedPostgresTarget, level: PermissionLevel): LevelGrant {
  const roles = target.levels?.[level];
  if (roles) return { kind: 'roles', roles };
  const tables = defaultTablePrivileges[level];
  const sequences = defaultSequencePrivileges[level];
  if (!tables || !sequences) {
    throw new ValidationError(
      `this PostgreSQL asset has no role mapping for the ${level} level; set levels.${level} to the roles an ` +
        `${level} account should be a member of`,
    );
  }
  if (!target.database) {
    throw new ValidationError(
      `this PostgreSQL asset names no database, and the ${level} level is granted on one database's schemas: ` +
        `set the asset's access.database label (the target's database), or map levels.${level} to roles explicitly`,
    );
  }
  return { kind: 'schemas', database: target.database, tables, sequences };
}

const parse = (target: unknown) => parseTarget(postgresTargetSchema, target);

interface RoleRow {
  rolsuper: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
}

async function findRole(s: PgSession, username: string): Promise<RoleRow | undefined> {
  const rows = await s.query<RoleRow>(
    'SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1',
    [username],
  );
  return rows[0];
}

/** The password clause: a SCRAM verifier computed here when possible, else the password itself. */
async function passwordValue(password: string, iterations: number): Promise<string> {
  return isAscii(password) ? scramSha256Verifier(password, { iterations }) : password;
}

async function createOrAlterRole(
  s: PgSession,
  target: ParsedPostgresTarget,
  spec: AccountSpec,
  /** From `passwordValue`, computed before the session was taken (hashing holds no connection). */
  password: string,
) {
  const existing = await findRole(s, spec.username);
  const role = s.ident(spec.username);
  // attributes a CREATEROLE admin may set; the superuser-only ones are named only when they need undoing
  const attributes = [
    'LOGIN',
    'NOCREATEDB',
    'NOCREATEROLE',
    'INHERIT',
    ...(existing?.rolsuper ? ['NOSUPERUSER'] : []),
    ...(existing?.rolreplication ? ['NOREPLICATION'] : []),
    ...(existing?.rolbypassrls ? ['NOBYPASSRLS'] : []),
    `CONNECTION LIMIT ${target.connectionLimit}`,
    `PASSWORD ${s.literal(password)}`,
    `VALID UNTIL ${s.literal(spec.validUntil.toISOString())}`,
  ].join(' ');
  await s.query(`${existing ? 'ALTER' : 'CREATE'} ROLE ${role} WITH ${attributes}`, [], { secret: true });
  return { created: !existing };
}

/** `fresh`: the role was created in this transaction, so it is a member of nothing and holds no right. */
async function convergeMemberships(
  s: PgSession,
  username: string,
  wanted: readonly string[],
  fresh: boolean,
) {
  const rows = fresh
    ? []
    : await s.query<{ rolname: string }>(
        `SELECT r.rolname FROM pg_auth_members m
       JOIN pg_roles r ON r.oid = m.roleid
       JOIN pg_roles u ON u.oid = m.member
      WHERE u.rolname = $1`,
        [username],
      );
  const current = new Set(rows.map((r) => r.rolname));
  const role = s.ident(username);
  for (const granted of current) {
    if (!wanted.includes(granted)) await s.query(`REVOKE ${s.ident(granted)} FROM ${role}`);
  }
  for (const member of wanted) {
    if (!current.has(member)) await s.query(`GRANT ${s.ident(member)} TO ${role}`);
  }
}

/**
 * Takes back rights granted to the account itself: an account made before level roles held its
 * rights directly (decision 0017). A role created in this transaction holds none.
 */
async function revokeDirectRights(s: PgSession, username: string) {
  const role = s.ident(username);
  const held = await s.query<{ kind: string; schema: string; name: string }>(
    `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT 'database' AS kind, '' AS schema, datname AS name FROM pg_database
      WHERE datname = current_database()
        AND EXISTS (SELECT 1 FROM aclexplode(datacl) a, r WHERE a.grantee = r.oid)
     UNION ALL
     SELECT 'schema', nspname, '' FROM pg_namespace
      WHERE EXISTS (SELECT 1 FROM aclexplode(nspacl) a, r WHERE a.grantee = r.oid)
     UNION ALL
     SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE EXISTS (SELECT 1 FROM aclexplode(c.relacl) a, r WHERE a.grantee = r.oid)`,
    [username],
  );
  // every statement below is made of quoted names and fixed keywords only: one round trip, under the lock
  const statements = held.map(({ kind, schema, name }) => {
    const object =
      kind === 'database'
        ? `DATABASE ${s.ident(name)}`
        : kind === 'schema'
          ? `SCHEMA ${s.ident(schema)}`
          : `${kind === 'sequence' ? 'SEQUENCE' : 'TABLE'} ${s.ident(schema)}.${s.ident(name)}`;
    return `REVOKE ALL ON ${object} FROM ${role}`;
  });
  if (statements.length > 0) await s.batch([LOCK_RIGHTS, ...statements]);
}

/** Terminates every session of the role, and waits until none is left. */
async function terminateSessions(s: PgSession, username: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await s.query<{ pid: number }>(
      `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE usename = $1 AND pid <> pg_backend_pid()`,
      [username],
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline) {
      throw new TransientError(
        'target_unavailable',
        `sessions of ${username} did not end within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The database the admin is connected to, and the others where the role owns objects or holds
 * privileges, from the cluster-wide `pg_shdepend` (dbid 0 = shared objects, handled from any database).
 */
async function databasesToClean(
  s: PgSession,
  username: string,
): Promise<{ current: string; others: string[] }> {
  const [row] = await s.query<{ current: string; others: string[] }>(
    `SELECT current_database()::text AS current,
            ARRAY(SELECT DISTINCT d.datname::text FROM pg_shdepend sd
                    JOIN pg_database d ON d.oid = sd.dbid
                   WHERE sd.refclassid = 'pg_authid'::regclass
                     AND sd.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                     AND d.datname <> current_database()) AS others`,
    [username],
  );
  return row ?? { current: '', others: [] };
}

/**
 * Objects it created go to the admin (data is kept), then its remaining privileges are dropped: one
 * implicit transaction (a multi-statement query), under the rights lock.
 */
const release = (session: PgSession, username: string) => {
  const role = session.ident(username);
  return session.batch([LOCK_RIGHTS, `REASSIGN OWNED BY ${role} TO CURRENT_USER`, `DROP OWNED BY ${role}`]);
};

async function releaseObjects(s: PgSession, target: ParsedPostgresTarget, username: string) {
  const { others } = await databasesToClean(s, username);
  await release(s, username);
  for (const database of others) {
    await withPostgres(
      target,
      `releasing objects of ${username} in database ${database}`,
      (elsewhere) => release(elsewhere, username),
      database,
    );
  }
}

async function revoke(s: PgSession, target: ParsedPostgresTarget, username: string) {
  if (!(await findRole(s, username))) return { existed: false };
  const role = s.ident(username);
  await s.query(`ALTER ROLE ${role} NOLOGIN`);
  await terminateSessions(s, username);
  for (let pass = 1; ; pass++) {
    await releaseObjects(s, target, username);
    try {
      await s.query(`DROP ROLE IF EXISTS ${role}`);
      break;
    } catch (error) {
      // something new depends on it (created between the listing and the drop): clean again
      const dependents = error instanceof GatehouseError && error.details?.driverCode === '2BP01';
      if (!dependents || pass >= 3) throw error;
    }
  }
  if (await findRole(s, username)) {
    throw new TransientError('target_unavailable', `${username} still exists after DROP ROLE; will retry`);
  }
  return { existed: true };
}

function toDate(value: unknown): Date | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
}

export interface PostgresConnectorOptions {
  /**
   * PBKDF2 iterations of the SCRAM verifiers computed here (default 4096, PostgreSQL's own); the access
   * service derives a lower count from a strong enough password policy (decision 0016).
   */
  scramIterations?: number | undefined;
}

/** With `sessions` from `pooledPgSessions`, admin connections are pooled per target; else one per call. */
export function createPostgresConnector(
  sessions: PgSessions = oneOffPgSessions,
  options: PostgresConnectorOptions = {},
): Connector {
  const scramIterations = options.scramIterations ?? 4096;
  const run: PgSessions['run'] = (target, action, work) => sessions.run(target, action, work);
  return {
    engines: ['postgres'],
    validateConfig: (target) => parse(target),

    async testConnection(input: DatabaseTarget) {
      const target = parse(input);
      return run(target, 'testing the connection', async (s) => {
        const [row] = await s.query<{ version: string }>(
          "SELECT current_setting('server_version') AS version",
        );
        return { serverVersion: row?.version ?? 'unknown' };
      });
    },

    async createAccount(input, spec) {
      const target = parse(input);
      assertAccountSpec('postgres', spec);
      const grant = grantFor(target, spec.level);
      const password = await passwordValue(spec.password, scramIterations);
      return run(target, `creating ${spec.username}`, (s) =>
        s.transaction(async () => {
          const result = await createOrAlterRole(s, target, spec, password);
          const fresh = result.created;
          const wanted = grant.kind === 'roles' ? grant.roles : [await ensureLevelRole(s, spec.level, grant)];
          await convergeMemberships(s, spec.username, wanted, fresh);
          if (!fresh) await revokeDirectRights(s, spec.username);
          return result;
        }),
      );
    },

    async revokeAccount(input, username) {
      const target = parse(input);
      assertManagedUsername('postgres', username);
      return run(target, `revoking ${username}`, (s) => revoke(s, target, username));
    },

    async accountExists(input, username) {
      const target = parse(input);
      assertManagedUsername('postgres', username);
      return run(target, `looking up ${username}`, async (s) => (await findRole(s, username)) !== undefined);
    },

    async setAccountExpiry(input, username, at) {
      const target = parse(input);
      assertManagedUsername('postgres', username);
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new ValidationError('the expiry must be a valid date');
      }
      return run(target, `moving the expiry of ${username}`, async (s) => {
        // an account already gone has no expiry to move: nothing to do (idempotent, like revoke)
        if (!(await findRole(s, username))) return;
        await s.query(`ALTER ROLE ${s.ident(username)} VALID UNTIL ${s.literal(at.toISOString())}`);
      });
    },

    async listManagedAccounts(input, prefix = 'gh_'): Promise<ManagedAccount[]> {
      const target = parse(input);
      assertManagedPrefix(prefix);
      return run(target, 'listing managed accounts', async (s) => {
        const rows = await s.query<{ rolname: string; rolvaliduntil: unknown }>(
          'SELECT rolname, rolvaliduntil FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname',
          [prefix],
        );
        return rows.map((r) => {
          const validUntil = toDate(r.rolvaliduntil);
          return validUntil ? { username: r.rolname, validUntil } : { username: r.rolname };
        });
      });
    },
  };
}

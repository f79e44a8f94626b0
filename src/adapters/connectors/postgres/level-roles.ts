import { createHash } from 'node:crypto';
import type { PermissionLevel } from '../types.js';
import type { PgSession } from './session.js';

/**
 * Schema-scoped levels (`read-only`, `read-write` without a role mapping) are granted through one
 * NOLOGIN role per target database and level, e.g. `gatehouse_ro_app`: the role holds the rights on
 * the database's own schemas, and an account is only made a member of it. Creating an account then
 * rewrites no object's ACL and takes no lock; the rights are topped up (under the rights lock) only
 * when the database has an object the level role has no right on yet, such as a new table.
 * Why: docs/decisions/0017-*.md. The name never starts with `gh_`, so the orphan sweeper leaves it.
 */

/**
 * Rights live in catalog rows every role shares (a table's `relacl`, the database's `datacl`): two
 * transactions granting on the same table at once make the second fail ("tuple concurrently updated").
 * Every Gatehouse transaction that rewrites them takes this transaction-scoped advisory lock first, so
 * concurrent grants and revokes on a target — from this node or another — queue for a few milliseconds
 * instead of failing and being retried with backoff.
 */
export const LOCK_RIGHTS = 'SELECT pg_advisory_xact_lock(7452810000000001)';

export interface SchemaGrant {
  database: string;
  /** Fixed privilege keywords, e.g. `SELECT, INSERT`. */
  tables: string;
  sequences: string;
}

const PREFIX: Partial<Record<PermissionLevel, string>> = { 'read-only': 'ro', 'read-write': 'rw' };

/** `gatehouse_<ro|rw>_<database>`, or with a hash of the database's name when that does not fit 63 bytes. */
export function levelRoleName(level: PermissionLevel, database: string): string {
  const prefix = `gatehouse_${PREFIX[level] ?? level.replace(/[^a-z]/g, '')}_`;
  const plain = `${prefix}${database}`;
  if (/^[a-z0-9_]+$/.test(database) && plain.length <= 63) return plain;
  return `${prefix}${createHash('sha256').update(database, 'utf8').digest('hex').slice(0, 16)}`;
}

/** The database's own schemas: not the catalogs, information_schema, TOAST or temporary ones. */
const OWN_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/** `has_table_privilege` with a list is true if any one is held: each privilege is checked alone. */
const allOf = (check: string, privileges: string) =>
  privileges
    .split(',')
    .map((p) => `${check}(r.oid, c.oid, '${p.trim()}')`)
    .join(' AND ');

/** Whether the level role exists and holds its rights on every object of the database's own schemas. */
async function levelRoleReady(s: PgSession, role: string, grant: SchemaGrant): Promise<boolean> {
  const [row] = await s.query<{ ready: boolean }>(
    `SELECT CASE WHEN r.oid IS NULL THEN false ELSE
              has_database_privilege(r.oid, current_database(), 'CONNECT')
              AND NOT EXISTS (SELECT 1 FROM pg_namespace n
                               WHERE ${OWN_SCHEMA} AND NOT has_schema_privilege(r.oid, n.oid, 'USAGE'))
              AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE ${OWN_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                                 AND NOT (${allOf('has_table_privilege', grant.tables)}))
              AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE ${OWN_SCHEMA} AND c.relkind = 'S'
                                 -- CASE: the sequence check must never see another kind of relation
                                 AND NOT CASE WHEN c.relkind = 'S'
                                              THEN ${allOf('has_sequence_privilege', grant.sequences)}
                                              ELSE true END)
            END AS ready
       FROM (SELECT (SELECT oid FROM pg_roles WHERE rolname = $1) AS oid) AS r`,
    [role],
  );
  return row?.ready === true;
}

/**
 * Makes sure the level role exists and holds the level's rights on every schema, table and sequence of
 * the session's database; returns its name. Runs inside the account's transaction: the lock (and the
 * rewrite of ACLs) is taken only when something is missing.
 */
export async function ensureLevelRole(
  s: PgSession,
  level: PermissionLevel,
  grant: SchemaGrant,
): Promise<string> {
  const name = levelRoleName(level, grant.database);
  if (await levelRoleReady(s, name, grant)) return name;
  await s.query(LOCK_RIGHTS);
  // another transaction may have topped it up while this one waited for the lock
  if (await levelRoleReady(s, name, grant)) return name;
  const [existing] = await s.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  const role = s.ident(name);
  const [row] = await s.query<{ database: string; schemas: string[] }>(
    `SELECT current_database()::text AS database,
            ARRAY(SELECT nspname::text FROM pg_namespace n WHERE ${OWN_SCHEMA} ORDER BY nspname) AS schemas`,
  );
  // every statement below is made of quoted names and fixed keywords only: one round trip
  const statements = existing ? [] : [`CREATE ROLE ${role} NOLOGIN NOINHERIT`];
  statements.push(`GRANT CONNECT ON DATABASE ${s.ident(row?.database || grant.database)} TO ${role}`);
  for (const schema of row?.schemas ?? []) {
    const ns = s.ident(schema);
    statements.push(
      `GRANT USAGE ON SCHEMA ${ns} TO ${role}`,
      `GRANT ${grant.tables} ON ALL TABLES IN SCHEMA ${ns} TO ${role}`,
      `GRANT ${grant.sequences} ON ALL SEQUENCES IN SCHEMA ${ns} TO ${role}`,
    );
  }
  await s.batch(statements);
  return name;
}

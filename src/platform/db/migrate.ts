import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { packageRoot } from '../paths.js';
import { GatehouseError } from '../errors.js';
import type { Store } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export const migrationsDir = path.join(packageRoot, 'migrations');

/** Reads `migrations/NNNN_name.sql` in version order. */
export function loadMigrations(dir: string = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

const LOCK_KEY = 7070_0001;

async function ensureLedger(store: Store): Promise<void> {
  await store.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`);
}

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

async function appliedMigrations(store: Store): Promise<Applied[]> {
  const result =
    await sql<Applied>`SELECT version, name, checksum FROM schema_migrations ORDER BY version`.execute(
      store.db,
    );
  return result.rows;
}

function checkHistory(applied: Applied[], known: Migration[]): void {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const row of applied) {
    const migration = byVersion.get(row.version);
    if (!migration) {
      throw new GatehouseError(
        'migration_required',
        `The store has migration ${row.version} (${row.name}) that this Gatehouse does not know: it is newer than this build`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new GatehouseError(
        'migration_required',
        `Migration ${row.version} (${row.name}) was edited after it was applied; add a new migration instead`,
      );
    }
  }
}

export interface MigrationStatus {
  current: boolean;
  applied: number[];
  pending: number[];
}

export async function migrationStatus(store: Store, known = loadMigrations()): Promise<MigrationStatus> {
  await ensureLedger(store);
  const applied = await appliedMigrations(store);
  const done = new Set(applied.map((a) => a.version));
  const pending = known.filter((m) => !done.has(m.version)).map((m) => m.version);
  return { current: pending.length === 0, applied: [...done], pending };
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that several
 * nodes starting together apply each migration once. Returns the versions it applied.
 */
export async function migrate(
  store: Store,
  options: { migrations?: Migration[]; onApply?: (m: Migration) => void } = {},
): Promise<number[]> {
  const known = options.migrations ?? loadMigrations();
  await ensureLedger(store);
  return store.db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      const applied =
        await sql<Applied>`SELECT version, name, checksum FROM schema_migrations ORDER BY version`.execute(
          conn,
        );
      checkHistory(applied.rows, known);
      const done = new Set(applied.rows.map((a) => a.version));
      const ran: number[] = [];
      for (const migration of known) {
        if (done.has(migration.version)) continue;
        options.onApply?.(migration);
        await sql.raw('BEGIN').execute(conn);
        try {
          await sql.raw(migration.sql).execute(conn);
          await sql`INSERT INTO schema_migrations (version, name, checksum) VALUES (${migration.version}, ${migration.name}, ${migration.checksum})`.execute(
            conn,
          );
          await sql.raw('COMMIT').execute(conn);
        } catch (error) {
          await sql.raw('ROLLBACK').execute(conn);
          throw new GatehouseError(
            'migration_required',
            `Migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
            { cause: error },
          );
        }
        ran.push(migration.version);
      }
      return ran;
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}

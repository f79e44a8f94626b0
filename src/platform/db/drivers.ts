import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { GatehouseError } from '../errors.js';

/** A pool Kysely's PostgresDialect can drive, plus what migrations and shutdown need. */
export interface SqlPool extends PostgresPool {
  readonly kind: 'pglite' | 'postgres';
  /** Where the store lives, without credentials: for logs and messages. */
  readonly location: string;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  end(): Promise<void>;
}

function toSafeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} exceeds the safe integer range`);
  return value;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

const defaultParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: string) => unknown;
/** int8 (counts, sequence numbers) as JS numbers, refusing values that would lose precision. */
const int8AsNumber = (oid: number, format?: string): unknown =>
  oid === 20 ? toSafeNumber : defaultParser(oid, format);

export function createPostgresPool(url: string, options: { max?: number } = {}): SqlPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: 'gatehouse',
    types: { getTypeParser: int8AsNumber },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor must a checked-out client losing it between queries (idle in transaction): its next query fails.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return {
    kind: 'postgres',
    location: `PostgreSQL ${redactUrl(url)}`,
    connect: () => pool.connect(),
    exec: async (script) => {
      await pool.query(script);
    },
    end: () => pool.end(),
  };
}

/** Serialises access to PGlite's single connection (a transaction holds it until release). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return acquired;
  }
}

function commandOf(sql: string): string {
  const match = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|merge|select)\b/i.exec(sql);
  return (match?.[1] ?? 'SELECT').toUpperCase();
}

const pgliteParsers = { [pgliteTypes.INT8]: toSafeNumber };

export interface PgliteOptions {
  /** Folder for the data files; omit for an in-memory store (tests). */
  dataDir?: string;
  /** A tarball from `dumpDataDir`, to start from a prepared state (tests). */
  loadDataDir?: Blob;
}

/**
 * Only one process may open an embedded store at a time: PGlite is a single-process PostgreSQL.
 * A lock file next to the data files holds the owner's pid; a stale one (dead pid) is taken over.
 */
function acquireLock(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'gatehouse.lock');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lockFile, 'utf8').trim());
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
      if (alive) {
        throw new GatehouseError(
          'store_locked',
          `The embedded store in ${dataDir} is in use by process ${pid} (gatehouse serve?). ` +
            'Stop it, use the running server through the API, or point DATABASE_URL at a PostgreSQL server.',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new GatehouseError('store_locked', `Could not lock the embedded store in ${dataDir}`);
}

export async function createPglitePool(options: PgliteOptions = {}): Promise<SqlPool & { pglite: PGlite }> {
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
  const unlock = dataDir ? acquireLock(dataDir) : () => undefined;
  let db: PGlite;
  try {
    const storeDir = dataDir ? path.join(dataDir, 'pglite') : undefined;
    if (storeDir && !existsSync(storeDir)) mkdirSync(storeDir, { recursive: true, mode: 0o700 });
    db = new PGlite({
      ...(storeDir ? { dataDir: storeDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      parsers: pgliteParsers,
    });
    await db.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const mutex = new Mutex();
  return {
    kind: 'pglite',
    location: dataDir ? `PGlite ${dataDir}` : 'PGlite (in memory)',
    pglite: db,
    connect: async () => {
      const release = await mutex.lock();
      const query = async <R>(
        sql: string,
        parameters: readonly unknown[],
      ): Promise<PostgresQueryResult<R>> => {
        if (parameters.length === 0) {
          const results = await db.exec(sql);
          const last = results[results.length - 1];
          return {
            command: commandOf(sql) as PostgresQueryResult<R>['command'],
            rowCount: last?.affectedRows ?? last?.rows.length ?? 0,
            rows: (last?.rows ?? []) as R[],
          };
        }
        const result = await db.query<R>(sql, parameters as unknown[]);
        return {
          command: commandOf(sql) as PostgresQueryResult<R>['command'],
          rowCount: result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      };
      // Cursors (streaming) are not offered by this pool; Kysely only asks for them from .stream().
      return { query, release } as unknown as PostgresPoolClient;
    },
    exec: async (script) => {
      const release = await mutex.lock();
      try {
        await db.exec(script);
      } finally {
        release();
      }
    },
    end: async () => {
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}

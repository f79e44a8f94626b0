import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { GatehouseError, TransientError } from '../errors.js';
import { createPglitePool, createPostgresPool, type PgliteOptions, type SqlPool } from './drivers.js';
import type { Database } from './schema.js';

/** What a store method runs on: the database, or the transaction of the change it is part of. */
export type Executor = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  readonly location: string;
  readonly db: Kysely<Database>;
  /** Runs a multi-statement script without parameters (migrations, test set-up). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions extends PgliteOptions {
  /** A PostgreSQL server; without it the store is embedded PGlite. */
  databaseUrl?: string | undefined;
  maxConnections?: number;
}

/** A store over an existing pool (tests that need the PGlite instance underneath use this). */
export function storeOnPool(pool: SqlPool): Store {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    kind: pool.kind,
    location: pool.location,
    db,
    exec: (script) => pool.exec(script),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const pool = createPostgresPool(options.databaseUrl, { max: options.maxConnections });
    const store = storeOnPool(pool);
    try {
      await pool.exec('SELECT 1');
    } catch (error) {
      await store.close();
      throw new TransientError(
        'store_unavailable',
        `Cannot reach ${pool.location}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return store;
  }
  return storeOnPool(await createPglitePool({ dataDir: options.dataDir, loadDataDir: options.loadDataDir }));
}

/** PostgreSQL error codes Gatehouse reacts to. */
export const PgCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  invalidTextRepresentation: '22P02',
  stringTooLong: '22001',
  numericOutOfRange: '22003',
  characterNotInRepertoire: '22021',
  insufficientPrivilege: '42501',
  readOnlyTransaction: '25006',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'constraint' in error) {
    const constraint = error.constraint;
    return typeof constraint === 'string' ? constraint : undefined;
  }
  return undefined;
}

/** An error from PostgreSQL itself: its code is a five-character SQLSTATE (Fastify's codes are not). */
export function isStoreError(error: unknown): boolean {
  return !(error instanceof GatehouseError) && /^[0-9A-Z]{5}$/.test(pgErrorCode(error) ?? '');
}

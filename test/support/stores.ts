import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject, it } from 'vitest';
import { migrate } from '../../src/platform/db/migrate.js';
import { openStore, type Store } from '../../src/platform/db/store.js';
import { adminDatabaseUrl, databaseUrlFor, TEST_DB_PREFIX } from './pg-admin.js';

export type Backend = 'pglite' | 'postgres';
/** Integration suites run once per backend: the same behaviour is required of both. */
export const backends: Backend[] = ['pglite', 'postgres'];

export interface TestStore {
  store: Store;
  /** For PostgreSQL: the URL of this test's own database (to open a second store on it). */
  databaseUrl: string | undefined;
  /** Closes the store and, for PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

/** A new, migrated store of the given kind that belongs to this test alone. */
export async function createTestStore(backend: Backend): Promise<TestStore> {
  if (backend === 'pglite') {
    const tarball = readFileSync(inject('pgliteTemplate'));
    const store = await openStore({ loadDataDir: new Blob([tarball]) });
    await migrate(store);
    return { store, databaseUrl: undefined, drop: () => store.close() };
  }
  const name = `${TEST_DB_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openStore({ databaseUrl: adminDatabaseUrl() });
  await admin.exec(`CREATE DATABASE ${name}`);
  const databaseUrl = databaseUrlFor(name);
  const store = await openStore({ databaseUrl });
  await migrate(store);
  return {
    store,
    databaseUrl,
    drop: async () => {
      await store.close();
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/**
 * `it` for tests that need a second connection or process on the same database — something only a
 * PostgreSQL server offers (PGlite is one process). On PGlite such tests are not registered at all,
 * rather than reported as skipped.
 */
export function serverOnly(backend: Backend): typeof it | ((name: string, ...rest: unknown[]) => void) {
  return backend === 'postgres' ? it : () => undefined;
}

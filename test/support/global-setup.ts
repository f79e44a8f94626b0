import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { createPglitePool } from '../../src/platform/db/drivers.js';
import { migrate } from '../../src/platform/db/migrate.js';
import { openStore, storeOnPool } from '../../src/platform/db/store.js';
import { adminDatabaseUrl, TEST_DB_PREFIX } from './pg-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/**
 * Once per run: a migrated PGlite data folder, dumped to a tarball that every test store starts from
 * (creating PGlite from scratch takes seconds; loading the dump well under one), and removal of test
 * databases a crashed earlier run left on the PostgreSQL server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const admin = await openStore({ databaseUrl: adminDatabaseUrl() });
  const { rows } = await sql<{ datname: string }>`
    SELECT datname FROM pg_database WHERE datname LIKE ${TEST_DB_PREFIX + '%'}`.execute(admin.db);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // names are gh_test_<pid>_<random>: leave databases of test runs still going (their pid is alive)
  const stale = rows.filter(({ datname }) => !alive(Number(/^gh_test_(\d+)_/.exec(datname)?.[1] ?? 0)));
  for (const { datname } of stale) {
    // names come from pg_database and match our prefix grammar; quote them as identifiers anyway
    await admin.exec(`DROP DATABASE IF EXISTS "${datname.replace(/"/g, '""')}" WITH (FORCE)`);
  }
  await admin.close();

  const pool = await createPglitePool();
  const store = storeOnPool(pool);
  await migrate(store);
  const dump = await pool.pglite.dumpDataDir('none');
  await store.close();
  const file = path.join(tmpdir(), `gatehouse-pglite-template-${process.pid}.tar`);
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return async () => undefined;
}

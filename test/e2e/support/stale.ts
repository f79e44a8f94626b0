import pg from 'pg';
import { adminDatabaseUrl, TEST_DB_PREFIX } from '../../support/pg-admin.js';

/** The tag of an e2e run: its process id (so a later run can tell a crashed run's leftovers) and a nonce. */
export const RUN_TAG = /^e2e(\d+)x[0-9a-f]{4}$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Removes what crashed e2e runs left on the machine's PostgreSQL server: scratch databases
 * (gh_test_<pid>_…), target databases (e2e<pid>x…_app) and target accounts (gh_e2e<pid>x…_…) of
 * processes that are gone. Those of runs still going are left alone.
 */
export async function removeStaleRuns(): Promise<string[]> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  const removed: string[] = [];
  try {
    const databases = await admin.query<{ datname: string }>('SELECT datname FROM pg_database');
    for (const { datname } of databases.rows) {
      const pid =
        /^e2e(\d+)x[0-9a-f]{4}_app$/.exec(datname)?.[1] ??
        (datname.startsWith(TEST_DB_PREFIX) ? /^gh_test_(\d+)_/.exec(datname)?.[1] : undefined);
      if (pid === undefined || alive(Number(pid))) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)} WITH (FORCE)`);
      removed.push(datname);
    }
    const roles = await admin.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname ~ '^gh_e2e[0-9]+x[0-9a-f]{4}_'",
    );
    for (const { rolname } of roles.rows) {
      const pid = Number(/^gh_e2e(\d+)x/.exec(rolname)?.[1]);
      if (alive(pid)) continue;
      await admin.query(`DROP OWNED BY ${admin.escapeIdentifier(rolname)}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(rolname)}`).catch(() => undefined);
      removed.push(rolname);
    }
  } finally {
    await admin.end();
  }
  return removed;
}

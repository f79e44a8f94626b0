import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationStatus } from '../../src/platform/db/migrate.js';
import { backends, createTestStore, type TestStore } from '../support/stores.js';

describe.each(backends)('migrations on %s', (backend) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('applies every migration once and reports the store as current', async () => {
    t = await createTestStore(backend);
    expect(await migrate(t.store)).toEqual([]);
    const status = await migrationStatus(t.store);
    expect(status.current).toBe(true);
    expect([...status.applied].sort((a, b) => a - b)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('refuses to run when an applied migration was edited', async () => {
    t = await createTestStore(backend);
    const edited = loadMigrations().map((m) => (m.version === 1 ? { ...m, checksum: 'edited' } : m));
    await expect(migrate(t.store, { migrations: edited })).rejects.toThrow(/edited after it was applied/);
  });

  it('rolls back a failing migration entirely', async () => {
    t = await createTestStore(backend);
    const broken = [
      ...loadMigrations(),
      {
        version: 9999,
        name: 'broken',
        checksum: 'x',
        sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();',
      },
    ];
    await expect(migrate(t.store, { migrations: broken })).rejects.toThrow(
      /Migration 9999 \(broken\) failed/,
    );
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'half_done'`.execute(t.store.db);
    expect(rows[0]?.n).toBe(0);
    expect((await migrationStatus(t.store, broken)).pending).toEqual([9999]);
  });
});

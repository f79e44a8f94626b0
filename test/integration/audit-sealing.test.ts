import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../../src/modules/audit/audit.service.js';
import { startAuditSealer, type AuditSealer } from '../../src/modules/audit/audit.sealer.js';
import type { AuditEventInput } from '../../src/modules/audit/audit.types.js';
import { manualClock, systemIds } from '../../src/platform/clock.js';
import { createSigner, type Signer } from '../../src/platform/crypto.js';
import { openStore, pgErrorCode, type Executor, type Store } from '../../src/platform/db/store.js';
import { createLogger } from '../../src/platform/logger.js';
import { backends, createTestStore, serverOnly, type TestStore } from '../support/stores.js';

/**
 * Sealing after commit (decision 0015): events are written unsealed in the transaction of their change
 * and chained later by one sealer at a time; readers see the log sealed.
 */

const HOUR = 3_600_000;
const logger = createLogger({ level: 'silent' });

const input = (n: number): AuditEventInput => ({
  actor: { type: 'operator', id: 'op-alice', name: 'alice' },
  action: 'asset.updated',
  target: { type: 'asset', id: `asset-${n}` },
  details: { n },
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function newLog(signer: Signer, checkpointEvery = 1000): AuditLog {
  const clock = manualClock('2026-01-01T00:00:00.000Z');
  return createAuditLog({ clock, ids: systemIds(clock), signer, checkpointEvery, checkpointMinutes: 60 });
}

/** What the table holds, read past the audit service (which would seal first). */
async function rawCounts(db: Executor): Promise<{ sealed: number; unsealed: number }> {
  const { rows } = await sql<{ sealed: number; unsealed: number }>`
    SELECT count(seq)::int AS sealed, (count(*) - count(seq))::int AS unsealed FROM audit_events`.execute(db);
  return rows[0]!;
}

/** Polls the table until nothing waits to be sealed (no read of the log in between). */
async function untilSealed(db: Executor, expected: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await rawCounts(db);
    if (counts.unsealed === 0 && counts.sealed === expected) return;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(counts)} of ${expected} events`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(backends)('audit sealing on %s', (backend) => {
  let t: TestStore | undefined;
  const sealers: AuditSealer[] = [];
  const extraStores: Store[] = [];
  afterEach(async () => {
    for (const sealer of sealers.splice(0)) await sealer.stop();
    for (const store of extraStores.splice(0)) await store.close();
    await t?.drop();
    t = undefined;
  });

  it('leaves events committed but unsealed by a process that stopped; the next one seals them at start', async () => {
    t = await createTestStore(backend);
    const { db } = t.store;
    const signer = createSigner(randomBytes(32));
    const crashed = newLog(signer, 2);
    for (const n of range(1, 5)) await db.transaction().execute((tx) => crashed.append(tx, input(n)));
    expect(await rawCounts(db)).toEqual({ sealed: 0, unsealed: 5 });

    const next = newLog(signer, 2);
    sealers.push(startAuditSealer({ store: t.store, audit: next, logger, intervalMs: HOUR }));
    await untilSealed(db, 5);
    const verified = await next.verify(db);
    expect(verified).toMatchObject({ ok: true, checked: 5, checkpoints: { total: 2, verified: 2 } });
  });

  it('seals in the background after commit, woken by the append itself', async () => {
    t = await createTestStore(backend);
    const { db } = t.store;
    const log = newLog(createSigner(randomBytes(32)));
    sealers.push(startAuditSealer({ store: t.store, audit: log, logger, intervalMs: HOUR }));
    for (const n of range(1, 3)) await db.transaction().execute((tx) => log.append(tx, input(n)));
    await untilSealed(db, 3);
    expect(await log.verify(db)).toMatchObject({ ok: true, checked: 3 });
  });

  it('refuses changing or deleting an event before it is sealed, as after', async () => {
    t = await createTestStore(backend);
    const { db } = t.store;
    const log = newLog(createSigner(randomBytes(32)));
    const event = await db.transaction().execute((tx) => log.append(tx, input(1)));
    const attempts = [
      sql`UPDATE audit_events SET actor_name = 'mallory' WHERE id = ${event.id}`,
      // sealing it by hand while changing what it says
      sql`UPDATE audit_events SET seq = 1, prev_hash = 'x', hash = 'y', details = '{}' WHERE id = ${event.id}`,
      sql`DELETE FROM audit_events WHERE id = ${event.id}`,
    ];
    for (const attempt of attempts) {
      const error = await attempt.execute(db).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(/append-only: (UPDATE|DELETE) on audit_events is refused/);
      expect(pgErrorCode(error)).toBe('42501');
    }
    expect(await rawCounts(db)).toEqual({ sealed: 0, unsealed: 1 });
    expect(await log.get(db, event.id)).toMatchObject({ seq: 1, actorName: 'alice', details: { n: 1 } });
    // once sealed, its place in the chain cannot be set again
    await expect(sql`UPDATE audit_events SET seq = 2 WHERE id = ${event.id}`.execute(db)).rejects.toThrow(
      /append-only: UPDATE on audit_events is refused/,
    );
    expect(await log.verify(db)).toMatchObject({ ok: true, checked: 1 });
  });

  serverOnly(backend)(
    'two nodes with sealers and readers running while 60 transactions append: one gap-free chain',
    async () => {
      t = await createTestStore(backend);
      const signer = createSigner(randomBytes(32));
      const other = await openStore({ databaseUrl: t.databaseUrl });
      extraStores.push(other);
      const nodes = [
        { store: t.store, log: newLog(signer, 10) },
        { store: other, log: newLog(signer, 10) },
      ];
      for (const node of nodes) {
        sealers.push(
          startAuditSealer({
            store: node.store,
            audit: node.log,
            logger,
            intervalMs: 50,
          }),
        );
      }
      const rolledBack: string[] = [];
      await Promise.all(
        range(1, 60).map(async (n) => {
          const { store, log } = nodes[n % 2]!;
          if (n % 10 === 0) {
            // a failing change takes its event along: never sealed, no gap
            await store.db
              .transaction()
              .execute(async (tx) => {
                rolledBack.push((await log.append(tx, input(n))).id);
                throw new Error('the change failed');
              })
              .catch(() => undefined);
            return;
          }
          await store.db.transaction().execute((tx) => log.append(tx, input(n)));
          if (n % 7 === 0) await log.search(store.db, {}, { limit: 5 });
        }),
      );
      await untilSealed(t.store.db, 54);
      const events = [];
      for await (const event of nodes[0]!.log.stream(t.store.db)) events.push(event);
      expect(events.map((e) => e.seq)).toEqual(range(1, 54));
      expect(rolledBack).toHaveLength(6);
      expect(events.filter((e) => rolledBack.includes(e.id))).toEqual([]);
      const verified = await nodes[1]!.log.verify(other.db);
      expect(verified).toMatchObject({ ok: true, checked: 54, checkpoints: { total: 5, verified: 5 } });
    },
  );
});

import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog, type AuditLogDeps } from '../../src/modules/audit/audit.service.js';
import type {
  Actor,
  AppendedEvent,
  AuditEvent,
  AuditEventInput,
} from '../../src/modules/audit/audit.types.js';
import { checkpointPayload, GENESIS_HASH, hashEvent } from '../../src/modules/audit/domain/chain.js';
import { manualClock, systemIds } from '../../src/platform/clock.js';
import { createSigner, verifySignature, type Signer } from '../../src/platform/crypto.js';
import { openStore, pgErrorCode, type Executor, type Store, type Tx } from '../../src/platform/db/store.js';
import { IntegrityError, ValidationError } from '../../src/platform/errors.js';
import { backends, createTestStore, serverOnly, type TestStore } from '../support/stores.js';

const alice: Actor = { type: 'operator', id: 'op-alice', name: 'alice' };
const bob: Actor = { type: 'token', id: 'op-bob', name: 'bob' };
const system: Actor = { type: 'system', id: null, name: 'job-runner' };
const MINUTE = 60_000;

function newAuditLog(overrides: Partial<AuditLogDeps> = {}) {
  const clock = manualClock('2026-01-01T00:00:00.000Z');
  const signer = overrides.signer ?? createSigner(randomBytes(32));
  const log = createAuditLog({
    clock,
    ids: systemIds(clock),
    signer,
    checkpointEvery: 1000,
    checkpointMinutes: 60,
    ...overrides,
  });
  return { clock, signer, log };
}

const input = (n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  actor: alice,
  action: 'asset.updated',
  target: { type: 'asset', id: `asset-${n}` },
  ticket: 'OPS-1',
  details: { n },
  ...extra,
});

/** The event as sealed into the chain (a read seals what its transaction committed). */
async function sealedOf(db: Executor, log: AuditLog, event: AppendedEvent): Promise<AuditEvent> {
  const sealed = await log.get(db, event.id);
  if (!sealed) throw new Error(`event ${event.id} is not in the log`);
  return sealed;
}

/** `n` events, one transaction each (each sealed before the next), the clock moving `stepMs` between them. */
async function appendEach(
  store: Store,
  log: AuditLog,
  n: number,
  options: { clock?: ReturnType<typeof manualClock>; stepMs?: number } = {},
): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const appended = await store.db.transaction().execute((tx) => log.append(tx, input(i)));
    out.push(await sealedOf(store.db, log, appended));
    options.clock?.advance(options.stepMs ?? 0);
  }
  return out;
}

async function allEvents(db: Executor, log: AuditLog): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const event of log.stream(db)) out.push(event);
  return out;
}

const checkpointRows = (db: Executor) =>
  db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();

async function insertRegion(tx: Tx, name: string): Promise<void> {
  const now = new Date();
  await tx
    .insertInto('regions')
    .values({ id: randomUUID(), name, display_name: name, created_at: now, updated_at: now })
    .execute();
}

const regionNames = async (db: Executor) =>
  (await db.selectFrom('regions').select('name').orderBy('name').execute()).map((r) => r.name);

/**
 * Acts as an attacker with superuser rights on the database would: with triggers (and foreign-key
 * checks) switched off for the transaction, rows can be changed at will.
 */
async function asSuperuser(store: Store, attack: (tx: Tx) => Promise<void>): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(tx);
    await attack(tx);
  });
}

async function rehash(tx: Tx, event: AuditEvent): Promise<string> {
  const { hash: _old, ...rest } = event;
  const hash = hashEvent(rest);
  await tx
    .updateTable('audit_events')
    .set({
      seq: event.seq,
      actor_name: event.actorName,
      details: JSON.stringify(event.details),
      prev_hash: event.prevHash,
      hash,
    })
    .where('id', '=', event.id)
    .execute();
  return hash;
}

describe.each(backends)('audit log on %s', (backend) => {
  let t: TestStore | undefined;
  const extraStores: Store[] = [];
  afterEach(async () => {
    for (const store of extraStores.splice(0)) await store.close();
    await t?.drop();
    t = undefined;
  });

  const setup = async (overrides: Partial<AuditLogDeps> = {}) => {
    t = await createTestStore(backend);
    return { store: t.store, db: t.store.db, ...newAuditLog(overrides) };
  };

  describe('append', () => {
    it('writes the event in the transaction of the change, chained from the genesis hash', async () => {
      const { db, log } = await setup();
      const event = await db.transaction().execute(async (tx) => {
        await insertRegion(tx, 'eu-west');
        return log.append(tx, { ...input(1), requestId: 'req-1', sourceIp: '192.0.2.10' });
      });
      const first = await log.get(db, event.id);
      expect(first).toEqual({ ...event, seq: 1, prevHash: GENESIS_HASH, hash: first?.hash });
      expect(first).toMatchObject({ actorName: 'alice', requestId: 'req-1' });
      expect(await regionNames(db)).toEqual(['eu-west']);

      const second = await sealedOf(
        db,
        log,
        await db.transaction().execute((tx) => log.append(tx, input(2, { actor: system }))),
      );
      expect(second).toMatchObject({ seq: 2, prevHash: first?.hash, actorType: 'system', actorId: null });
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 2 });
    });

    it('stores exactly what it hashed: details survive the database unchanged', async () => {
      const { db, log } = await setup();
      const details = {
        z: 1,
        a: { y: [1, 2, { b: null }], x: 'é😀 \u2028', '10': true, '9': false },
        big: 1e21,
        tiny: 1.5e-7,
        float: 0.1,
        negativeZero: -0,
        text: 'line\nbreak "quoted" \\ back',
        when: new Date('2026-02-03T04:05:06.789Z'),
        skipped: undefined,
      };
      const event = await db.transaction().execute((tx) => log.append(tx, input(1, { details })));
      const stored = await log.get(db, event.id);
      expect(stored).toMatchObject(event);
      expect(stored?.details).toMatchObject({ when: '2026-02-03T04:05:06.789Z', negativeZero: 0 });
      expect(stored?.details).not.toHaveProperty('skipped');
      expect(hashEvent(stored!)).toBe(stored?.hash);
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 1 });
    });

    it('disappears with the change when the transaction rolls back, leaving no gap', async () => {
      const { db, log } = await setup();
      await db.transaction().execute((tx) => log.append(tx, input(1)));
      await expect(
        db.transaction().execute(async (tx) => {
          await insertRegion(tx, 'us-east');
          await log.append(tx, input(2));
          throw new Error('the change failed after the audit event was written');
        }),
      ).rejects.toThrow(/the change failed/);
      expect(await regionNames(db)).toEqual([]);
      expect((await allEvents(db, log)).map((e) => e.seq)).toEqual([1]);

      const next = await db.transaction().execute((tx) => log.append(tx, input(3)));
      expect((await sealedOf(db, log, next)).seq).toBe(2);
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 2 });
    });

    it.each<[string, Partial<AuditEventInput>, RegExp, new (...args: never[]) => Error]>([
      ['an action that is not dotted lower-case', { action: 'Customer Created' }, /dotted/, ValidationError],
      ['an action with one word', { action: 'created' }, /dotted/, ValidationError],
      ['a password in details', { details: { password: 'hunter2' } }, /'password'/, IntegrityError],
      [
        'a nested secret',
        { details: { db: { creds: [{ Secret: 'x' }] } } },
        /db\.creds\.0\.Secret/,
        IntegrityError,
      ],
      ['a snake_case private key', { details: { private_key: 'x' } }, /private_key/, IntegrityError],
      ['a kebab-case TOTP secret', { details: { 'totp-secret': 'x' } }, /totp-secret/, IntegrityError],
      ['oversized details', { details: { blob: 'x'.repeat(70_000) } }, /exceed/, ValidationError],
    ])('refuses %s and fails the surrounding transaction', async (_name, change, message, type) => {
      const { db, log } = await setup();
      const attempt = db.transaction().execute(async (tx) => {
        await insertRegion(tx, 'ap-south');
        await log.append(tx, input(1, change));
      });
      await expect(attempt).rejects.toThrow(message);
      await expect(attempt).rejects.toBeInstanceOf(type);
      expect(await regionNames(db)).toEqual([]);
      expect(await allEvents(db, log)).toEqual([]);
    });

    it('fails the whole transaction when the database refuses the event, even if the caller catches', async () => {
      const { db, log } = await setup();
      // PostgreSQL's jsonb cannot hold U+0000: the append fails inside the database
      const nul = input(1, { details: { name: 'a\u0000b' } });
      await expect(
        db.transaction().execute(async (tx) => {
          await insertRegion(tx, 'sa-east');
          await log.append(tx, nul);
        }),
      ).rejects.toThrow();
      // a caller that swallows the error still cannot commit its change: the transaction is aborted
      await db
        .transaction()
        .execute(async (tx) => {
          await insertRegion(tx, 'sa-east');
          await log.append(tx, nul).catch(() => undefined);
        })
        .catch(() => undefined);
      expect(await regionNames(db)).toEqual([]);
      expect(await allEvents(db, log)).toEqual([]);
    });

    it('keeps one unbroken chain under 50 concurrent transactions', async () => {
      const { db, log } = await setup({ checkpointEvery: 7 });
      const events = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          db.transaction().execute(async (tx) => {
            await insertRegion(tx, `region-${i}`);
            return log.append(tx, input(i));
          }),
        ),
      );
      const sealed = await allEvents(db, log);
      expect(sealed.map((e) => e.seq)).toEqual(range(1, 50));
      expect(new Set(sealed.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
      expect(await regionNames(db)).toHaveLength(50);
      const result = await log.verify(db);
      expect(result).toMatchObject({ ok: true, checked: 50, checkpoints: { total: 7, verified: 7 } });
    });

    it('keeps one chain when batches and single events interleave', async () => {
      const { db, log } = await setup({ checkpointEvery: 25 });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.transaction().execute(async (tx) =>
            i % 2
              ? log.appendMany(
                  tx,
                  range(1, 10).map((n) => input(n)),
                )
              : [await log.append(tx, input(i))],
          ),
        ),
      );
      const seqs = (await allEvents(db, log)).map((e) => e.seq);
      expect(seqs).toEqual(range(1, 110));
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 110 });
    });

    serverOnly(backend)(
      'keeps one chain when two processes append to the same database at once',
      async () => {
        const { db, log, signer } = await setup({ checkpointEvery: 10 });
        const other = await openStore({ databaseUrl: t!.databaseUrl });
        extraStores.push(other);
        const otherLog = newAuditLog({ signer, checkpointEvery: 10 }).log;
        const fromBoth = await Promise.all(
          range(1, 60).map((i) =>
            i % 2
              ? db.transaction().execute((tx) => log.append(tx, input(i)))
              : other.db.transaction().execute((tx) => otherLog.append(tx, input(i, { actor: bob }))),
          ),
        );
        const sealed = await allEvents(db, log);
        expect(sealed.map((e) => e.seq)).toEqual(range(1, 60));
        expect(new Set(sealed.map((e) => e.id))).toEqual(new Set(fromBoth.map((e) => e.id)));
        const result = await log.verify(db);
        expect(result).toMatchObject({ ok: true, checked: 60, checkpoints: { total: 6, verified: 6 } });
      },
    );
  });

  describe('checkpoints', () => {
    it('signs the head every N events', async () => {
      const { db, log, signer } = await setup({ checkpointEvery: 5 });
      await appendEach(t!.store, log, 12);
      await db.transaction().execute((tx) =>
        log.appendMany(
          tx,
          range(1, 7).map((n) => input(n)),
        ),
      );
      const events = await allEvents(db, log);
      const checkpoints = await checkpointRows(db);
      // every 5th event, inside a batch too
      expect(checkpoints.map((c) => c.seq)).toEqual([5, 10, 15]);
      for (const c of checkpoints) {
        expect(c.hash).toBe(events[c.seq - 1]!.hash);
        expect(c.key_id).toBe(signer.keyId);
        const payload = checkpointPayload({
          seq: c.seq,
          hash: c.hash,
          createdAt: c.created_at,
          keyId: c.key_id,
        });
        expect(verifySignature(log.publicKey().pem, payload, c.signature)).toBe(true);
      }
      expect(await log.verify(db)).toMatchObject({ ok: true, checkpoints: { total: 3, verified: 3 } });
    });

    it('signs the head when the last checkpoint is older than checkpointMinutes', async () => {
      const { store, db, log, clock } = await setup({ checkpointEvery: 1000, checkpointMinutes: 10 });
      expect(await log.checkpointIfDue(store)).toBe(false); // nothing to sign yet
      await appendEach(store, log, 3);
      expect(await log.checkpointIfDue(store)).toBe(true); // never signed: due at once
      expect(await log.checkpointIfDue(store)).toBe(false); // nothing new

      await appendEach(store, log, 1);
      clock.advance(9 * MINUTE);
      expect(await log.checkpointIfDue(store)).toBe(false); // new event, but the last checkpoint is recent
      clock.advance(1 * MINUTE);
      expect(await log.checkpointIfDue(store)).toBe(true);

      clock.advance(60 * MINUTE);
      expect(await log.checkpointIfDue(store)).toBe(false); // old, but nothing new since

      const checkpoints = await checkpointRows(db);
      expect(checkpoints.map((c) => [c.seq, c.created_at.toISOString()])).toEqual([
        [3, '2026-01-01T00:00:00.000Z'],
        [4, '2026-01-01T00:10:00.000Z'],
      ]);
      expect(await log.checkpointNow(store)).toBeUndefined();
      await appendEach(store, log, 2);
      expect(await log.checkpointNow(store)).toBe(6);
      expect(await log.verify(db)).toMatchObject({ ok: true, checkpoints: { total: 3, verified: 3 } });
    });
  });

  describe('the database refuses changes to evidence', () => {
    const refused = (op: string, table: string) => new RegExp(`append-only: ${op} on ${table} is refused`);

    it.each([
      ['UPDATE', 'audit_events', sql`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 1`],
      ['DELETE', 'audit_events', sql`DELETE FROM audit_events WHERE seq = 2`],
      ['TRUNCATE', 'audit_events', sql`TRUNCATE audit_events CASCADE`],
      ['UPDATE', 'audit_checkpoints', sql`UPDATE audit_checkpoints SET signature = 'x'`],
      ['DELETE', 'audit_checkpoints', sql`DELETE FROM audit_checkpoints`],
      ['TRUNCATE', 'audit_checkpoints', sql`TRUNCATE audit_checkpoints`],
    ])('%s on %s', async (op, table, statement) => {
      const { store, db, log } = await setup({ checkpointEvery: 2 });
      await appendEach(store, log, 4);
      const error = await statement.execute(db).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(refused(op, table));
      expect(pgErrorCode(error)).toBe('42501');
      expect((await allEvents(db, log)).map((e) => e.actorName)).toEqual([
        'alice',
        'alice',
        'alice',
        'alice',
      ]);
      expect(await checkpointRows(db)).toHaveLength(2);
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 4 });
    });

    it('refuses an event time finer than the millisecond its hash covers', async () => {
      const { store, db, log } = await setup({ checkpointEvery: 100 });
      await appendEach(store, log, 1);
      const error = await db
        .transaction()
        .execute(async (tx) => {
          await sql`SET LOCAL session_replication_role = replica`.execute(tx);
          await sql`UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 1`.execute(
            tx,
          );
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(pgErrorCode(error)).toBe('23514');
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 1 });
    });

    it('TRUNCATE of the events alone', async () => {
      const { store, db, log } = await setup({ checkpointEvery: 2 });
      await appendEach(store, log, 2);
      await expect(sql`TRUNCATE audit_events`.execute(db)).rejects.toThrow(
        /append-only|referenced in a foreign key/,
      );
      expect(await allEvents(db, log)).toHaveLength(2);
    });
  });

  describe('verify', () => {
    /** Ten events one minute apart, checkpoints at 5 and 10. */
    const tenEvents = async () => {
      const ctx = await setup({ checkpointEvery: 5 });
      await appendEach(ctx.store, ctx.log, 10, { clock: ctx.clock, stepMs: MINUTE });
      const events = await allEvents(ctx.db, ctx.log);
      return { ...ctx, events };
    };

    it('reports an intact log as ok', async () => {
      const { db, log } = await tenEvents();
      const progress: number[] = [];
      const result = await log.verify(db, { onProgress: (checked) => progress.push(checked) });
      expect(result).toEqual({
        ok: true,
        fromSeq: 1,
        toSeq: 10,
        checked: 10,
        checkpoints: { total: 2, verified: 2 },
      });
      expect(progress.at(-1)).toBe(10);
    });

    it('reports an empty log as ok', async () => {
      const { db, log } = await setup();
      expect(await log.verify(db)).toMatchObject({ ok: true, checked: 0 });
    });

    it('names an edited event', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`UPDATE audit_events SET details = details || '{"n": 500}'::jsonb WHERE seq = 7`.execute(tx);
      });
      const result = await log.verify(db);
      expect(result.ok).toBe(false);
      expect(result.broken).toEqual({
        seq: 7,
        reason: expect.stringMatching(/event 7 was altered/) as unknown,
      });
      expect(result.checked).toBe(6);
      expect(result.checkpoints).toEqual({ total: 2, verified: 1 });
    });

    it('names an edited event whose hash the attacker recomputed', async () => {
      const { store, db, log, events } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await rehash(tx, { ...events[2]!, actorName: 'mallory' });
      });
      const result = await log.verify(db);
      expect(result.broken?.seq).toBe(3);
      expect(result.broken?.reason).toMatch(/event 3 was altered or replaced/);
    });

    it('catches an edit re-linked through the whole tail by the checkpoint after it', async () => {
      const { store, db, log, events } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        let prevHash = events[1]!.hash;
        for (const event of events.slice(2)) {
          prevHash = await rehash(tx, {
            ...event,
            prevHash,
            actorName: event.seq === 3 ? 'mallory' : event.actorName,
          });
        }
      });
      const result = await log.verify(db);
      expect(result.broken).toEqual({
        seq: 5,
        reason: expect.stringMatching(/checkpoint at event 5 does not match the event's hash/) as unknown,
      });
      expect(result.checkpoints.verified).toBe(0);
    });

    it('names a deleted event', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`DELETE FROM audit_events WHERE seq = 4`.execute(tx);
      });
      const result = await log.verify(db);
      expect(result.broken).toEqual({
        seq: 4,
        reason: expect.stringMatching(/event 4 is missing/) as unknown,
      });
    });

    it('names a deleted event when later events were renumbered to hide the gap', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`DELETE FROM audit_events WHERE seq = 4`.execute(tx);
        await sql`UPDATE audit_events SET seq = seq + 1000 WHERE seq > 4`.execute(tx);
        await sql`UPDATE audit_events SET seq = seq - 1001 WHERE seq > 1000`.execute(tx);
      });
      const result = await log.verify(db);
      expect(result.broken?.seq).toBe(4);
      expect(result.broken?.reason).toMatch(/event 4 does not follow event 3/);
    });

    it('names a swapped pair (two events exchanged sequence numbers)', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`UPDATE audit_events SET seq = 1006 WHERE seq = 6`.execute(tx);
        await sql`UPDATE audit_events SET seq = 6 WHERE seq = 7`.execute(tx);
        await sql`UPDATE audit_events SET seq = 7 WHERE seq = 1006`.execute(tx);
      });
      const result = await log.verify(db);
      expect(result.broken?.seq).toBe(6);
      expect(result.broken?.reason).toMatch(/event 6/);
    });

    it('names an inserted event (later events renumbered to make room)', async () => {
      const { store, db, log, events } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4`.execute(tx);
        await sql`UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000`.execute(tx);
        const forged = {
          ...events[2]!,
          seq: 4,
          id: randomUUID(),
          actorName: 'alice',
          action: 'grant.approved',
          prevHash: events[2]!.hash,
        };
        const { hash: _h, ...unhashed } = forged;
        await tx
          .insertInto('audit_events')
          .values({
            seq: 4,
            id: forged.id,
            occurred_at: forged.occurredAt,
            actor_type: forged.actorType,
            actor_id: forged.actorId,
            actor_name: forged.actorName,
            action: forged.action,
            target_type: forged.targetType,
            target_id: forged.targetId,
            ticket: forged.ticket,
            details: JSON.stringify(forged.details),
            request_id: forged.requestId,
            source_ip: forged.sourceIp,
            prev_hash: forged.prevHash,
            hash: hashEvent(unhashed),
          })
          .execute();
      });
      const result = await log.verify(db);
      expect(result.broken?.seq).toBe(4);
      expect(result.broken?.reason).toMatch(/event 4 was inserted/);
    });

    it('detects tampering done with the triggers disabled on the table', async () => {
      const { db, log } = await tenEvents();
      await db.transaction().execute(async (tx) => {
        await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(tx);
        await sql`UPDATE audit_events SET ticket = 'OPS-999' WHERE seq = 2`.execute(tx);
        await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(tx);
      });
      expect((await log.verify(db)).broken?.seq).toBe(2);
    });

    it('names a cut-off tail when a checkpoint points past the end', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`DELETE FROM audit_events WHERE seq >= 8`.execute(tx);
      });
      const result = await log.verify(db);
      expect(result.toSeq).toBe(10);
      expect(result.broken).toEqual({
        seq: 8,
        reason: expect.stringMatching(/event 8–10 is missing .*the log ends at 7/) as unknown,
      });
      expect(result.checkpoints.verified).toBe(1);
    });

    it('names a log whose every event was deleted behind a checkpoint', async () => {
      const { store, db, log } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await sql`DELETE FROM audit_events`.execute(tx);
      });
      expect((await log.verify(db)).broken?.seq).toBe(1);
    });

    describe('forged checkpoints', () => {
      type CheckpointFields = { hash: string; created_at: Date; key_id: string; signature: string };
      const forge = async (
        store: Store,
        seq: number,
        change: (row: CheckpointFields) => CheckpointFields,
      ) => {
        await asSuperuser(store, async (tx) => {
          const row = await tx
            .selectFrom('audit_checkpoints')
            .selectAll()
            .where('seq', '=', seq)
            .executeTakeFirstOrThrow();
          await tx.updateTable('audit_checkpoints').set(change(row)).where('seq', '=', seq).execute();
        });
      };
      const signedBy = (signer: Signer, seq: number, row: CheckpointFields, hash = row.hash) => ({
        ...row,
        hash,
        key_id: signer.keyId,
        signature: signer.sign(
          checkpointPayload({ seq, hash, createdAt: row.created_at, keyId: signer.keyId }),
        ),
      });

      it('with a bad signature', async () => {
        const { store, db, log } = await tenEvents();
        await forge(store, 5, (row) => {
          const signature = Buffer.from(row.signature, 'base64');
          signature[10] = signature[10]! ^ 0x01;
          return { ...row, signature: signature.toString('base64') };
        });
        const result = await log.verify(db);
        expect(result.broken).toEqual({
          seq: 5,
          reason: expect.stringMatching(/checkpoint at event 5 has an invalid signature/) as unknown,
        });
        expect(result.checked).toBe(10);
        expect(result.checkpoints).toEqual({ total: 2, verified: 0 });
      });

      it('with an altered timestamp under a valid signature', async () => {
        const { store, db, log } = await tenEvents();
        await forge(store, 10, (row) => ({
          ...row,
          created_at: new Date(row.created_at.getTime() - MINUTE),
        }));
        expect((await log.verify(db)).broken?.reason).toMatch(
          /checkpoint at event 10 has an invalid signature/,
        );
      });

      it('signed by another master key', async () => {
        const { store, db, log } = await tenEvents();
        const attacker = createSigner(randomBytes(32));
        await forge(store, 10, (row) => signedBy(attacker, 10, row));
        const result = await log.verify(db);
        expect(result.broken).toEqual({
          seq: 10,
          reason: expect.stringMatching(new RegExp(`signed by unknown key ${attacker.keyId}`)) as unknown,
        });
        expect(result.checkpoints.verified).toBe(1);
      });

      it('signed by another master key that claims to be ours', async () => {
        const { store, db, log, signer } = await tenEvents();
        const attacker = createSigner(randomBytes(32));
        await forge(store, 5, (row) => ({ ...signedBy(attacker, 5, row), key_id: signer.keyId }));
        expect((await log.verify(db)).broken?.reason).toMatch(
          /checkpoint at event 5 has an invalid signature/,
        );
      });

      it('whose hash does not match its event', async () => {
        const { store, db, log, signer } = await tenEvents();
        await forge(store, 5, (row) => signedBy(signer, 5, row, 'f'.repeat(64)));
        const result = await log.verify(db);
        expect(result.broken).toEqual({
          seq: 5,
          reason: expect.stringMatching(/checkpoint at event 5 does not match the event's hash/) as unknown,
        });
      });

      it('inserted by an attacker who can only INSERT', async () => {
        const { store, db, log, events } = await tenEvents();
        const attacker = createSigner(randomBytes(32));
        await store.db
          .insertInto('audit_checkpoints')
          .values({
            seq: 7,
            ...signedBy(attacker, 7, {
              hash: events[6]!.hash,
              created_at: new Date(),
              key_id: '',
              signature: '',
            }),
          })
          .execute();
        expect((await log.verify(db)).broken).toMatchObject({
          seq: 7,
          reason: expect.stringMatching(/unknown key/),
        });
      });
    });

    it('verifies a range, anchored on the event before it', async () => {
      const { store, db, log } = await tenEvents();
      expect(await log.verify(db, { fromSeq: 3, toSeq: 8 })).toEqual({
        ok: true,
        fromSeq: 3,
        toSeq: 8,
        checked: 6,
        checkpoints: { total: 1, verified: 1 },
      });
      await asSuperuser(store, async (tx) => {
        await sql`UPDATE audit_events SET action = 'asset.deleted' WHERE seq = 9`.execute(tx);
      });
      expect(await log.verify(db, { fromSeq: 3, toSeq: 8 })).toMatchObject({ ok: true });
      expect(await log.verify(db, { fromSeq: 6 })).toMatchObject({ ok: false, broken: { seq: 9 } });
      expect(await log.verify(db, { toSeq: 10 })).toMatchObject({ ok: false, broken: { seq: 9 } });
    });

    it('blames the anchor of a range when it was replaced', async () => {
      const { store, db, log, events } = await tenEvents();
      await asSuperuser(store, async (tx) => {
        await rehash(tx, { ...events[3]!, actorName: 'mallory' });
      });
      const result = await log.verify(db, { fromSeq: 5, toSeq: 6 });
      expect(result.broken?.seq).toBe(4);
      expect(result.broken?.reason).toMatch(/event 4 was altered or replaced/);
    });

    it('names a missing anchor, and a range that runs past the end', async () => {
      const { store, db, log } = await tenEvents();
      expect(await log.verify(db, { fromSeq: 8, toSeq: 12 })).toMatchObject({
        ok: false,
        broken: { seq: 11 },
      });
      await asSuperuser(store, async (tx) => {
        await sql`DELETE FROM audit_events WHERE seq = 4`.execute(tx);
      });
      expect(await log.verify(db, { fromSeq: 5 })).toMatchObject({
        ok: false,
        broken: { seq: 4, reason: expect.stringMatching(/event 4 is missing/) },
      });
    });

    it('accepts checkpoints of a previous key given in extraPublicKeys', async () => {
      const { store, db, log: oldLog } = await setup({ checkpointEvery: 3 });
      await appendEach(store, oldLog, 6);
      const rotated = newAuditLog({ checkpointEvery: 3 }).log;
      await appendEach(store, rotated, 3);

      const withoutOldKey = await rotated.verify(db);
      expect(withoutOldKey.broken).toMatchObject({ seq: 3, reason: expect.stringMatching(/unknown key/) });
      const stranger = createSigner(randomBytes(32)).publicKeyPem;
      expect((await rotated.verify(db, { extraPublicKeys: [stranger] })).ok).toBe(false);
      const withOldKey = await rotated.verify(db, { extraPublicKeys: [stranger, oldLog.publicKey().pem] });
      expect(withOldKey).toMatchObject({ ok: true, checked: 9, checkpoints: { total: 3, verified: 3 } });
    });

    it('pages through more events than one read returns', async () => {
      const { db, log } = await setup({ checkpointEvery: 2000 });
      for (let batch = 0; batch < 6; batch++) {
        await db.transaction().execute((tx) =>
          log.appendMany(
            tx,
            range(1, 1001).map((n) => input(n)),
          ),
        );
      }
      expect(await log.verify(db)).toMatchObject({
        ok: true,
        checked: 6006,
        checkpoints: { total: 3, verified: 3 },
      });
      const streamed = await allEvents(db, log);
      expect(streamed.map((e) => e.seq)).toEqual(range(1, 6006));
    });
  });

  describe('search and stream', () => {
    /** A small, varied log; event i happened at minute i - 1. */
    const seed = async () => {
      const ctx = await setup();
      const inputs: AuditEventInput[] = [
        { actor: alice, action: 'customer.created', target: { type: 'customer', id: 'c1' }, ticket: 'OPS-1' },
        { actor: alice, action: 'customer.updated', target: { type: 'customer', id: 'c1' }, ticket: 'OPS-1' },
        { actor: bob, action: 'customers.imported', target: { type: 'customer', id: 'c2' } },
        { actor: bob, action: 'grant.created', target: { type: 'asset', id: 'a1' }, ticket: 'OPS-2' },
        { actor: bob, action: 'customer.environment.created', target: { type: 'environment', id: 'e1' } },
        { actor: system, action: 'job_run.started', requestId: 'req-6' },
        { actor: system, action: 'jobxrun.started' },
        { actor: alice, action: 'grant.revoked', target: { type: 'asset', id: 'a1' }, ticket: 'OPS-2' },
        { actor: alice, action: 'grant.created', target: { type: 'asset', id: 'a2' }, ticket: 'OPS-3' },
        { actor: bob, action: 'customer.deleted', target: { type: 'customer', id: 'c1' }, ticket: 'OPS-1' },
      ];
      for (const event of inputs) {
        await ctx.db.transaction().execute((tx) => ctx.log.append(tx, event));
        ctx.clock.advance(MINUTE);
      }
      const at = (minute: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + minute * MINUTE);
      const find = async (filters: Parameters<AuditLog['search']>[1]) =>
        (await ctx.log.search(ctx.db, filters, { limit: 100 })).events.map((e) => e.seq);
      return { ...ctx, at, find };
    };

    it('filters by exact action and by action prefix', async () => {
      const { find } = await seed();
      expect(await find({ action: 'grant.created' })).toEqual([9, 4]);
      expect(await find({ action: 'customer.*' })).toEqual([10, 5, 2, 1]);
      expect(await find({ action: 'customer' })).toEqual([]);
      expect(await find({ action: 'job_run.*' })).toEqual([6]); // `_` is not a wildcard
      expect(await find({ action: 'grant.%' })).toEqual([]);
      expect(await find({})).toEqual(range(1, 10).reverse());
    });

    it('filters by actor, target, ticket, request and time window, combined', async () => {
      const { find, at } = await seed();
      expect(await find({ actorId: 'op-bob' })).toEqual([10, 5, 4, 3]);
      expect(await find({ actorName: 'job-runner' })).toEqual([7, 6]);
      expect(await find({ targetType: 'asset', targetId: 'a1' })).toEqual([8, 4]);
      expect(await find({ targetType: 'customer' })).toEqual([10, 3, 2, 1]);
      expect(await find({ ticket: 'OPS-1' })).toEqual([10, 2, 1]);
      expect(await find({ requestId: 'req-6' })).toEqual([6]);
      expect(await find({ from: at(3), to: at(5) })).toEqual([6, 5, 4]);
      expect(await find({ from: at(8) })).toEqual([10, 9]);
      expect(await find({ to: at(0) })).toEqual([1]);
      expect(await find({ actorId: 'op-alice', action: 'grant.*', ticket: 'OPS-2' })).toEqual([8]);
      expect(await find({ actorId: 'op-alice', from: at(9) })).toEqual([]);
    });

    it('pages newest first with a cursor, without duplicates or gaps, while events keep arriving', async () => {
      const { db, log, find } = await seed();
      await db.transaction().execute((tx) =>
        log.appendMany(
          tx,
          range(1, 15).map((n) => input(n)),
        ),
      );
      const expected = await find({ action: 'asset.updated' });
      expect(expected).toEqual(range(11, 25).reverse());

      const seen: number[] = [];
      let cursor: number | undefined;
      let pages = 0;
      for (;;) {
        const page = await log.search(db, { action: 'asset.*' }, { limit: 4, ...(cursor ? { cursor } : {}) });
        pages += 1;
        expect(page.events.length).toBeLessThanOrEqual(4);
        seen.push(...page.events.map((e) => e.seq));
        // newer events must not leak into later pages
        await db.transaction().execute((tx) => log.append(tx, input(99)));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(expected);
    });

    it('ends the last page exactly when the matches run out', async () => {
      const { db, log } = await seed();
      const page = await log.search(db, { actorName: 'alice' }, { limit: 4 });
      expect(page.events.map((e) => e.seq)).toEqual([9, 8, 2, 1]);
      expect(page.nextCursor).toBeNull();
    });

    it('streams events in sequence order within a time window', async () => {
      const { db, log, at } = await seed();
      const seqs = async (window: { from?: Date; to?: Date }) => {
        const out: number[] = [];
        for await (const event of log.stream(db, window)) out.push(event.seq);
        return out;
      };
      expect(await seqs({})).toEqual(range(1, 10));
      expect(await seqs({ from: at(3), to: at(6) })).toEqual([4, 5, 6, 7]);
      expect(await seqs({ from: at(9) })).toEqual([10]);
      expect(await seqs({ to: at(1) })).toEqual([1, 2]);
      expect(await seqs({ from: at(20) })).toEqual([]);
    });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

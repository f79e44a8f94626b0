import { sql } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { Row } from '../../platform/db/schema.js';
import type { AppendedEvent, AuditEvent } from './audit.types.js';
import type { Checkpoint } from './domain/chain.js';
import { escapeLike } from '../../platform/paging.js';

/** Held by the one sealer at a time (any node) for its transaction: it owns the head of the chain. */
const SEALER_LOCK_KEY = 7070_0002;
/** Events per INSERT: 13 parameters each, well under PostgreSQL's limit of 65,535 per statement. */
const INSERT_CHUNK = 1000;

export interface ChainHead {
  seq: number;
  hash: string | null;
  checkpointSeq: number;
  checkpointAt: Date | null;
}

export interface AuditSearchFilters {
  action?: string | undefined;
  actorId?: string | undefined;
  actorName?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  ticket?: string | undefined;
  requestId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

type Sealed<T> = T & { seq: number; prev_hash: string; hash: string };

const isSealed = (row: Row<'audit_events'>): row is Sealed<Row<'audit_events'>> =>
  row.seq !== null && row.prev_hash !== null && row.hash !== null;

/** The event as appended, before the sealer gives it its place in the chain. */
export function toAppended(row: Row<'audit_events'>): AppendedEvent {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ticket: row.ticket,
    details: (row.details ?? {}) as Record<string, unknown>,
    requestId: row.request_id,
    sourceIp: row.source_ip,
  };
}

export function toEvent(row: Row<'audit_events'>): AuditEvent {
  if (!isSealed(row)) throw new Error(`audit event ${row.id} is not sealed yet`);
  return { seq: row.seq, ...toAppended(row), prevHash: row.prev_hash, hash: row.hash };
}

function toCheckpoint(row: Row<'audit_checkpoints'>): Checkpoint {
  return {
    seq: row.seq,
    hash: row.hash,
    createdAt: row.created_at,
    keyId: row.key_id,
    signature: row.signature,
  };
}

export const auditStore = {
  /** Waits for the sealer lock, held until the transaction ends. */
  async lockSealer(tx: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${SEALER_LOCK_KEY})`.execute(tx);
  },

  /** Takes the sealer lock if no one holds it; false if another sealer is at work. */
  async tryLockSealer(tx: Executor): Promise<boolean> {
    const { rows } = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(${SEALER_LOCK_KEY}) AS locked`.execute(tx);
    return rows[0]?.locked === true;
  },

  /** Whether committed events wait to be sealed (an index-only look at the unsealed ones). */
  async hasUnsealed(db: Executor): Promise<boolean> {
    const { rows } = await sql<{ waiting: boolean }>`
      SELECT EXISTS (SELECT 1 FROM audit_events WHERE seq IS NULL) AS waiting`.execute(db);
    return rows[0]?.waiting === true;
  },

  /** The oldest unsealed events, in the order they were appended. */
  async unsealed(tx: Executor, limit: number): Promise<AppendedEvent[]> {
    const rows = await tx
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', 'is', null)
      .orderBy('appended', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toAppended);
  },

  /** Gives unsealed events their place in the chain: the one UPDATE the log accepts (migration 0017). */
  async seal(tx: Executor, events: { id: string; seq: number; prevHash: string; hash: string }[]) {
    if (events.length === 0) return;
    const values = sql.join(
      events.map((e) => sql`(${e.id}::uuid, ${e.seq}::bigint, ${e.prevHash}::text, ${e.hash}::text)`),
    );
    const result = await sql`
      UPDATE audit_events AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
        FROM (VALUES ${values}) AS v(id, seq, prev_hash, hash)
       WHERE e.id = v.id AND e.seq IS NULL`.execute(tx);
    if (Number(result.numAffectedRows ?? events.length) !== events.length) {
      throw new Error('the audit events being sealed changed under the sealer lock');
    }
  },

  async head(tx: Executor): Promise<ChainHead> {
    const { rows } = await sql<{
      seq: number | null;
      hash: string | null;
      cp_seq: number | null;
      cp_at: Date | null;
    }>`
      SELECT e.seq, e.hash, c.seq AS cp_seq, c.created_at AS cp_at
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1) e ON true
      LEFT JOIN LATERAL (SELECT seq, created_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1) c ON true`.execute(
      tx,
    );
    const row = rows[0];
    return {
      seq: row?.seq ?? 0,
      hash: row?.hash ?? null,
      checkpointSeq: row?.cp_seq ?? 0,
      checkpointAt: row?.cp_at ?? null,
    };
  },

  async insertEvents(tx: Executor, events: AppendedEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += INSERT_CHUNK) {
      await tx
        .insertInto('audit_events')
        .values(
          events.slice(start, start + INSERT_CHUNK).map((e) => ({
            seq: null,
            id: e.id,
            occurred_at: e.occurredAt,
            actor_type: e.actorType,
            actor_id: e.actorId,
            actor_name: e.actorName,
            action: e.action,
            target_type: e.targetType,
            target_id: e.targetId,
            ticket: e.ticket,
            details: JSON.stringify(e.details),
            request_id: e.requestId,
            source_ip: e.sourceIp,
            prev_hash: null,
            hash: null,
          })),
        )
        .execute();
    }
  },

  async insertCheckpoint(tx: Executor, checkpoint: Checkpoint): Promise<void> {
    await tx
      .insertInto('audit_checkpoints')
      .values({
        seq: checkpoint.seq,
        hash: checkpoint.hash,
        created_at: checkpoint.createdAt,
        key_id: checkpoint.keyId,
        signature: checkpoint.signature,
      })
      .onConflict((oc) => oc.column('seq').doNothing())
      .execute();
  },

  async eventBySeq(db: Executor, seq: number): Promise<AuditEvent | undefined> {
    const row = await db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row ? toEvent(row) : undefined;
  },

  async eventById(db: Executor, id: string): Promise<AuditEvent | undefined> {
    const row = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('id', '=', id)
      .where('seq', 'is not', null)
      .executeTakeFirst();
    return row ? toEvent(row) : undefined;
  },

  /** Events with afterSeq < seq <= toSeq, oldest first. */
  async page(db: Executor, afterSeq: number, toSeq: number, limit: number): Promise<AuditEvent[]> {
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', afterSeq)
      .where('seq', '<=', toSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  },

  async seqBounds(db: Executor, from?: Date, to?: Date): Promise<{ min: number | null; max: number | null }> {
    let query = db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.min('seq').as('min'), eb.fn.max('seq').as('max')]);
    if (from) query = query.where('occurred_at', '>=', from);
    if (to) query = query.where('occurred_at', '<=', to);
    const row = await query.executeTakeFirst();
    return { min: row?.min ?? null, max: row?.max ?? null };
  },

  async checkpoints(db: Executor, fromSeq: number, toSeq: number): Promise<Checkpoint[]> {
    const rows = await db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('seq', '>=', fromSeq)
      .where('seq', '<=', toSeq)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toCheckpoint);
  },

  async lastCheckpointSeq(db: Executor): Promise<number> {
    const row = await db
      .selectFrom('audit_checkpoints')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return row?.seq ?? 0;
  },

  /** Newest first; `beforeSeq` is the cursor. */
  async search(db: Executor, filters: AuditSearchFilters, beforeSeq: number | undefined, limit: number) {
    let query = db.selectFrom('audit_events').selectAll().where('seq', 'is not', null);
    if (filters.action) {
      query = filters.action.endsWith('.*')
        ? query.where('action', 'like', `${escapeLike(filters.action.slice(0, -1))}%`)
        : query.where('action', '=', filters.action);
    }
    if (filters.actorId) query = query.where('actor_id', '=', filters.actorId);
    if (filters.actorName) query = query.where('actor_name', '=', filters.actorName);
    if (filters.targetType) query = query.where('target_type', '=', filters.targetType);
    if (filters.targetId) query = query.where('target_id', '=', filters.targetId);
    if (filters.ticket) query = query.where('ticket', '=', filters.ticket);
    if (filters.requestId) query = query.where('request_id', '=', filters.requestId);
    if (filters.from) query = query.where('occurred_at', '>=', filters.from);
    if (filters.to) query = query.where('occurred_at', '<=', filters.to);
    if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
    const rows = await query.orderBy('seq', 'desc').limit(limit).execute();
    return rows.map(toEvent);
  },
};

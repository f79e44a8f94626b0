import { sql, type ColumnType } from 'kysely';
import type { Executor } from '../../platform/db/store.js';

/**
 * SQL of the audit forwarders (migrations/0014_integrations.sql). The tables are declared here and
 * added with `withTables`, so this module's SQL stays in this module.
 */
type Json<T> = ColumnType<T, string, string>;
type Time = ColumnType<Date, Date, Date>;

export type SinkKind = 'syslog' | 'splunk-hec';

export type ForwardingTables = {
  audit_sinks: {
    id: string;
    name: string;
    kind: SinkKind;
    settings: Json<Record<string, unknown>>;
    secret_sealed: string | null;
    enabled: boolean;
    cursor_seq: number;
    delivered_at: ColumnType<Date | null, Date | null, Date | null>;
    failures: number;
    last_error: string | null;
    created_at: Time;
    updated_at: Time;
  };
};

export interface SinkRecord {
  id: string;
  name: string;
  kind: SinkKind;
  settings: Record<string, unknown>;
  secretSealed: string | null;
  enabled: boolean;
  cursorSeq: number;
  deliveredAt: Date | null;
  failures: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const tables = (db: Executor) => db.withTables<ForwardingTables>();

type SinkRow = {
  id: string;
  name: string;
  kind: SinkKind;
  settings: Record<string, unknown>;
  secret_sealed: string | null;
  enabled: boolean;
  cursor_seq: number;
  delivered_at: Date | null;
  failures: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
};

const toSink = (row: SinkRow): SinkRecord => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  settings: row.settings,
  secretSealed: row.secret_sealed,
  enabled: row.enabled,
  cursorSeq: Number(row.cursor_seq),
  deliveredAt: row.delivered_at,
  failures: row.failures,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const forwardingStore = {
  async insert(tx: Executor, sink: SinkRecord): Promise<void> {
    await tables(tx)
      .insertInto('audit_sinks')
      .values({
        id: sink.id,
        name: sink.name,
        kind: sink.kind,
        settings: JSON.stringify(sink.settings),
        secret_sealed: sink.secretSealed,
        enabled: sink.enabled,
        cursor_seq: sink.cursorSeq,
        delivered_at: null,
        failures: 0,
        last_error: null,
        created_at: sink.createdAt,
        updated_at: sink.updatedAt,
      })
      .execute();
  },

  async byName(db: Executor, name: string, forUpdate = false): Promise<SinkRecord | undefined> {
    let query = tables(db).selectFrom('audit_sinks').selectAll().where('name', '=', name);
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toSink(row) : undefined;
  },

  async byId(db: Executor, id: string, forUpdate = false): Promise<SinkRecord | undefined> {
    let query = tables(db).selectFrom('audit_sinks').selectAll().where('id', '=', id);
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toSink(row) : undefined;
  },

  async list(db: Executor): Promise<SinkRecord[]> {
    const rows = await tables(db).selectFrom('audit_sinks').selectAll().orderBy('name').execute();
    return rows.map((r) => toSink(r));
  },

  async update(tx: Executor, id: string, change: { enabled?: boolean; secretSealed?: string; at: Date }) {
    await tables(tx)
      .updateTable('audit_sinks')
      .set({
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(change.secretSealed !== undefined ? { secret_sealed: change.secretSealed } : {}),
        updated_at: change.at,
      })
      .where('id', '=', id)
      .execute();
  },

  async remove(tx: Executor, id: string): Promise<void> {
    await tables(tx).deleteFrom('audit_sinks').where('id', '=', id).execute();
  },

  /** Moves the cursor forward only (a slow twin run that delivered an older batch never moves it back). */
  async advance(tx: Executor, id: string, toSeq: number, at: Date): Promise<void> {
    await tables(tx)
      .updateTable('audit_sinks')
      .set({
        cursor_seq: sql<number>`GREATEST(cursor_seq, ${toSeq})`,
        delivered_at: at,
        failures: 0,
        last_error: null,
      })
      .where('id', '=', id)
      .execute();
  },

  async recordFailure(tx: Executor, id: string, error: string): Promise<number> {
    const row = await tables(tx)
      .updateTable('audit_sinks')
      .set({ failures: sql<number>`failures + 1`, last_error: error })
      .where('id', '=', id)
      .returning('failures')
      .executeTakeFirst();
    return row?.failures ?? 0;
  },

  /** The seq of the newest audit event (0 on an empty log). */
  async headSeq(db: Executor): Promise<number> {
    const { rows } = await sql<{ seq: number | null }>`SELECT max(seq) AS seq FROM audit_events`.execute(db);
    return Number(rows[0]?.seq ?? 0);
  },

  /** Per sink: events after its cursor, and when the oldest of them happened. */
  async lag(db: Executor): Promise<{ name: string; events: number; oldest: Date | null }[]> {
    const { rows } = await sql<{ name: string; events: number | string; oldest: Date | null }>`
      SELECT s.name,
             GREATEST(0, COALESCE((SELECT max(seq) FROM audit_events), 0) - s.cursor_seq) AS events,
             (SELECT occurred_at FROM audit_events e WHERE e.seq > s.cursor_seq ORDER BY e.seq LIMIT 1) AS oldest
      FROM audit_sinks s
      ORDER BY s.name`.execute(db);
    return rows.map((r) => ({ name: r.name, events: Number(r.events), oldest: r.oldest }));
  },
};

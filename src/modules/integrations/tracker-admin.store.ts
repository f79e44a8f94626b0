import { sql, type ColumnType } from 'kysely';
import type { Executor } from '../../platform/db/store.js';

/** SQL of the stored ticket trackers (migrations/0015_ticket_trackers.sql), added with `withTables`. */
type Json<T> = ColumnType<T, string, string>;
type Time = ColumnType<Date, Date, Date>;

export type TrackerKind = 'jira' | 'servicenow';

export type TrackerTables = {
  ticket_trackers: {
    id: string;
    name: string;
    kind: TrackerKind;
    base_url: string;
    username: string | null;
    secret_sealed: string;
    ref_keys: Json<string[]>;
    options: Json<Record<string, unknown>>;
    created_at: Time;
    updated_at: Time;
  };
};

export interface TrackerRecord {
  id: string;
  name: string;
  kind: TrackerKind;
  baseUrl: string;
  username: string | null;
  secretSealed: string;
  refKeys: string[];
  options: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const tables = (db: Executor) => db.withTables<TrackerTables>();

type TrackerRow = {
  id: string;
  name: string;
  kind: TrackerKind;
  base_url: string;
  username: string | null;
  secret_sealed: string;
  ref_keys: string[];
  options: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
};

const toTracker = (row: TrackerRow): TrackerRecord => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  baseUrl: row.base_url,
  username: row.username,
  secretSealed: row.secret_sealed,
  refKeys: row.ref_keys,
  options: row.options,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const trackerStore = {
  async insert(tx: Executor, t: TrackerRecord): Promise<void> {
    await tables(tx)
      .insertInto('ticket_trackers')
      .values({
        id: t.id,
        name: t.name,
        kind: t.kind,
        base_url: t.baseUrl,
        username: t.username,
        secret_sealed: t.secretSealed,
        ref_keys: JSON.stringify(t.refKeys),
        options: JSON.stringify(t.options),
        created_at: t.createdAt,
        updated_at: t.updatedAt,
      })
      .execute();
  },

  async byName(db: Executor, name: string, forUpdate = false): Promise<TrackerRecord | undefined> {
    let query = tables(db).selectFrom('ticket_trackers').selectAll().where('name', '=', name);
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toTracker(row) : undefined;
  },

  async list(db: Executor): Promise<TrackerRecord[]> {
    const rows = await tables(db).selectFrom('ticket_trackers').selectAll().orderBy('name').execute();
    return rows.map((r) => toTracker(r));
  },

  /** Writes every changeable field of the record (the service merges the change first). */
  async update(tx: Executor, t: TrackerRecord): Promise<void> {
    await tables(tx)
      .updateTable('ticket_trackers')
      .set({
        base_url: t.baseUrl,
        username: t.username,
        secret_sealed: t.secretSealed,
        ref_keys: JSON.stringify(t.refKeys),
        options: JSON.stringify(t.options),
        updated_at: t.updatedAt,
      })
      .where('id', '=', t.id)
      .execute();
  },

  /** Serialises changes of the key lists (two trackers must not both take a key), reads still run. */
  async lockKeys(tx: Executor): Promise<void> {
    await sql`LOCK TABLE ticket_trackers IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
  },

  async remove(tx: Executor, id: string): Promise<void> {
    await tables(tx).deleteFrom('ticket_trackers').where('id', '=', id).execute();
  },
};

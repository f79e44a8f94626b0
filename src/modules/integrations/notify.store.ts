import { sql, type ColumnType } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { Message } from './domain/notices.js';

/** SQL of notifications (migrations/0014_integrations.sql), declared here and added with `withTables`. */
type Json<T> = ColumnType<T, string, string>;
type Time = ColumnType<Date, Date, Date>;
type MaybeTime = ColumnType<Date | null, Date | null, Date | null>;

export type ChannelKind = 'email' | 'slack' | 'teams' | 'webhook';
export type DeliveryState = 'pending' | 'delivered' | 'dead';

export type NotifyTables = {
  notify_channels: {
    id: string;
    name: string;
    kind: ChannelKind;
    settings: Json<Record<string, unknown>>;
    secret_sealed: string | null;
    notices: string[];
    enabled: boolean;
    created_at: Time;
    updated_at: Time;
  };
  notify_deliveries: {
    id: string;
    channel_id: string;
    dedupe_key: string;
    notice: string;
    recipients: string[];
    message: Json<Message>;
    state: DeliveryState;
    attempts: number;
    last_error: string | null;
    created_at: Time;
    updated_at: Time;
    delivered_at: MaybeTime;
  };
  notify_preferences: { operator_id: string; muted: string[]; updated_at: Time };
  audit_followers: { name: string; cursor_seq: number; updated_at: Time };
};

export interface ChannelRecord {
  id: string;
  name: string;
  kind: ChannelKind;
  settings: Record<string, unknown>;
  secretSealed: string | null;
  notices: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryRecord {
  id: string;
  channelId: string;
  channel: string;
  dedupeKey: string;
  notice: string;
  recipients: string[];
  message: Message;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}

const t = (db: Executor) => db.withTables<NotifyTables>();

type ChannelRow = Omit<NotifyTables['notify_channels'], 'settings' | 'created_at' | 'updated_at'> & {
  settings: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
};

const toChannel = (r: ChannelRow): ChannelRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  settings: r.settings,
  secretSealed: r.secret_sealed,
  notices: r.notices,
  enabled: r.enabled,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

function deliveries(db: Executor) {
  return t(db)
    .selectFrom('notify_deliveries as d')
    .innerJoin('notify_channels as c', 'c.id', 'd.channel_id')
    .selectAll('d')
    .select('c.name as channel');
}

type DeliveryRow = {
  id: string;
  channel_id: string;
  channel: string;
  dedupe_key: string;
  notice: string;
  recipients: string[];
  message: Message;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
};

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  channelId: r.channel_id,
  channel: r.channel,
  dedupeKey: r.dedupe_key,
  notice: r.notice,
  recipients: r.recipients,
  message: r.message,
  state: r.state,
  attempts: r.attempts,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deliveredAt: r.delivered_at,
});

export const notifyStore = {
  async insertChannel(tx: Executor, c: ChannelRecord): Promise<void> {
    await t(tx)
      .insertInto('notify_channels')
      .values({
        id: c.id,
        name: c.name,
        kind: c.kind,
        settings: JSON.stringify(c.settings),
        secret_sealed: c.secretSealed,
        notices: c.notices,
        enabled: c.enabled,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      })
      .execute();
  },

  async channels(db: Executor): Promise<ChannelRecord[]> {
    const rows = await t(db).selectFrom('notify_channels').selectAll().orderBy('name').execute();
    return rows.map((r) => toChannel(r as ChannelRow));
  },

  async channelByName(db: Executor, name: string): Promise<ChannelRecord | undefined> {
    const row = await t(db)
      .selectFrom('notify_channels')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toChannel(row) : undefined;
  },

  async channelById(db: Executor, id: string): Promise<ChannelRecord | undefined> {
    const row = await t(db).selectFrom('notify_channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toChannel(row) : undefined;
  },

  async removeChannel(tx: Executor, id: string): Promise<void> {
    await t(tx).deleteFrom('notify_channels').where('id', '=', id).execute();
  },

  /** Adds a delivery unless one with the same channel and dedupe key exists; returns it when added. */
  async insertDelivery(
    tx: Executor,
    d: Pick<DeliveryRecord, 'id' | 'channelId' | 'dedupeKey' | 'notice' | 'recipients' | 'message'> & {
      at: Date;
    },
  ): Promise<boolean> {
    const result = await t(tx)
      .insertInto('notify_deliveries')
      .values({
        id: d.id,
        channel_id: d.channelId,
        dedupe_key: d.dedupeKey,
        notice: d.notice,
        recipients: d.recipients,
        message: JSON.stringify(d.message),
        state: 'pending',
        attempts: 0,
        last_error: null,
        created_at: d.at,
        updated_at: d.at,
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['channel_id', 'dedupe_key']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async delivery(db: Executor, id: string): Promise<DeliveryRecord | undefined> {
    const row = await deliveries(db).where('d.id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  },

  async markAttempt(
    tx: Executor,
    id: string,
    outcome: { state: DeliveryState; error: string | null; at: Date },
  ): Promise<void> {
    await t(tx)
      .updateTable('notify_deliveries')
      .set({
        state: outcome.state,
        attempts: sql<number>`attempts + 1`,
        last_error: outcome.error,
        updated_at: outcome.at,
        ...(outcome.state === 'delivered' ? { delivered_at: outcome.at } : {}),
      })
      .where('id', '=', id)
      .execute();
  },

  async requeue(tx: Executor, id: string, at: Date): Promise<void> {
    await t(tx)
      .updateTable('notify_deliveries')
      .set({ state: 'pending', attempts: 0, updated_at: at })
      .where('id', '=', id)
      .execute();
  },

  /** Newest first; `before` is the id of the last one of the previous page. */
  async list(db: Executor, state: DeliveryState, limit: number, before?: string): Promise<DeliveryRecord[]> {
    let query = deliveries(db).where('d.state', '=', state);
    if (before) query = query.where('d.id', '<', before);
    const rows = await query.orderBy('d.id', 'desc').limit(limit).execute();
    return rows.map((r) => toDelivery(r));
  },

  async cursor(db: Executor, name: string): Promise<number> {
    const row = await t(db)
      .selectFrom('audit_followers')
      .select('cursor_seq')
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(row?.cursor_seq ?? 0);
  },

  async setCursor(tx: Executor, name: string, seq: number, at: Date): Promise<void> {
    await t(tx)
      .insertInto('audit_followers')
      .values({ name, cursor_seq: seq, updated_at: at })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          cursor_seq: sql<number>`GREATEST(audit_followers.cursor_seq, ${seq})`,
          updated_at: at,
        }),
      )
      .execute();
  },

  async mutedByOperator(db: Executor): Promise<Map<string, string[]>> {
    const rows = await t(db).selectFrom('notify_preferences').selectAll().execute();
    return new Map(rows.map((r) => [r.operator_id, r.muted]));
  },

  async setMuted(tx: Executor, operatorId: string, muted: string[], at: Date): Promise<void> {
    await t(tx)
      .insertInto('notify_preferences')
      .values({ operator_id: operatorId, muted, updated_at: at })
      .onConflict((oc) => oc.column('operator_id').doUpdateSet({ muted, updated_at: at }))
      .execute();
  },
};

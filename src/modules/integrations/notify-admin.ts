import { PgCode, pgErrorCode } from '../../platform/db/store.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import { notices } from './domain/notices.js';
import type { ChannelView, CreateChannelInput, DeliveryView } from './notify.schemas.js';
import type { NotifyServiceDeps } from './notify.service.js';
import { notifyJobKinds, secretContext } from './notify.kinds.js';
import { notifyStore, type ChannelRecord, type DeliveryRecord, type DeliveryState } from './notify.store.js';

/** What admins (channels, the dead-letter list) and each operator (preferences) do with notifications. */
export function createNotifyAdmin(
  deps: Pick<NotifyServiceDeps, 'store' | 'clock' | 'ids' | 'audit' | 'jobs' | 'secrets' | 'settings'>,
) {
  const { store, clock, ids, audit, jobs, secrets, settings } = deps;
  const db = store.db;

  const channelView = (c: ChannelRecord): ChannelView => {
    const { ca, ...rest } = c.settings;
    return {
      id: c.id,
      name: c.name,
      kind: c.kind,
      settings: { ...rest, ...(ca ? { ca: 'set' } : {}) },
      hasSecret: c.secretSealed !== null,
      notices: c.notices,
      enabled: c.enabled,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  };

  const deliveryView = (d: DeliveryRecord): DeliveryView => ({
    id: d.id,
    channel: d.channel,
    notice: d.notice,
    recipients: d.recipients,
    subject: d.message.subject,
    state: d.state,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    deliveredAt: d.deliveredAt,
  });

  return {
    listChannels: async () => (await notifyStore.channels(db)).map(channelView),

    async createChannel(ctx: RequestContext, input: CreateChannelInput): Promise<ChannelView> {
      const now = clock.now();
      const id = ids.uuid();
      const secret =
        input.kind === 'email' ? input.password : input.kind === 'webhook' ? input.secret : input.url;
      const record: ChannelRecord = {
        id,
        name: input.name,
        kind: input.kind,
        settings: input.settings,
        secretSealed: secret !== undefined ? secrets.seal(secret, secretContext(id)) : null,
        notices: input.notices,
        enabled: true,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await notifyStore.insertChannel(tx, record);
          await audit.append(tx, {
            ...ctx,
            action: 'notify-channel.created',
            target: { type: 'notify-channel', id },
            details: {
              name: record.name,
              kind: record.kind,
              notices: record.notices,
              settings: channelView(record).settings,
            },
          });
        });
      } catch (error) {
        if (pgErrorCode(error) === PgCode.uniqueViolation) {
          throw new ConflictError(`A notification channel named '${input.name}' already exists`);
        }
        throw error;
      }
      return channelView(record);
    },

    async removeChannel(ctx: RequestContext, name: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const channel = await notifyStore.channelByName(tx, name);
        if (!channel) throw new NotFoundError('Notification channel', name);
        await notifyStore.removeChannel(tx, channel.id);
        await audit.append(tx, {
          ...ctx,
          action: 'notify-channel.deleted',
          target: { type: 'notify-channel', id: channel.id },
          details: { name, kind: channel.kind },
        });
      });
    },

    async listDeliveries(query: { state: DeliveryState; limit: number; cursor?: string | undefined }) {
      const rows = await notifyStore.list(db, query.state, query.limit + 1, query.cursor);
      const items = rows.slice(0, query.limit).map(deliveryView);
      return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.id : null };
    },

    /** Sends a dead-lettered notification again, with a fresh series of attempts (audited). */
    async retry(ctx: RequestContext, id: string): Promise<DeliveryView> {
      await db.transaction().execute(async (tx) => {
        const delivery = await notifyStore.delivery(tx, id);
        if (!delivery) throw new NotFoundError('Notification', id);
        if (delivery.state !== 'dead')
          throw new ConflictError(`Notification ${id} is ${delivery.state}, not dead-lettered`);
        await notifyStore.requeue(tx, id, clock.now());
        await jobs.enqueue(tx, {
          kind: notifyJobKinds.deliver,
          payload: { deliveryId: id },
          maxAttempts: settings.maxAttempts,
        });
        await audit.append(tx, {
          ...ctx,
          action: 'notification.retried',
          target: { type: 'notification', id },
          details: { channel: delivery.channel, notice: delivery.notice },
        });
      });
      return deliveryView((await notifyStore.delivery(db, id))!);
    },

    async preferences(operatorId: string) {
      return {
        muted: (await notifyStore.mutedByOperator(db)).get(operatorId) ?? [],
        available: [...notices],
      };
    },

    async setPreferences(ctx: RequestContext, operatorId: string, muted: string[]) {
      const unique = [...new Set(muted)].sort();
      await db.transaction().execute(async (tx) => {
        await notifyStore.setMuted(tx, operatorId, unique, clock.now());
        await audit.append(tx, {
          ...ctx,
          action: 'notify-preferences.updated',
          target: { type: 'operator', id: operatorId },
          details: { muted: unique },
        });
      });
      return { muted: unique, available: [...notices] };
    },
  };
}

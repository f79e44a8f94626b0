import { z } from 'zod';
import {
  chatSender,
  smtpSender,
  webhookSender,
  type NotificationSender,
} from '../../adapters/sinks/notify-senders.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store, Tx } from '../../platform/db/store.js';
import { TransientError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { errorSummary, type JobHandler } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AccessService } from '../access/access.service.js';
import type { Caller } from '../access/access.types.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { AuditEvent } from '../audit/audit.types.js';
import {
  approversWhoCanAct,
  emailRecipients,
  noticeFor,
  renderNotice,
  securityOffice,
  type Message,
  type Notice,
  type NoticeFacts,
  type OperatorFacts,
} from './domain/notices.js';
import { smtpSettings } from './notify.schemas.js';
import { createNotifyAdmin } from './notify-admin.js';
import { notifyJobKinds, secretContext } from './notify.kinds.js';

export { notifyJobKinds };
import { notifyStore, type ChannelRecord } from './notify.store.js';

const FOLLOWER = 'notifier';
const EXPIRY_CHECK_MS = 60_000;
const deliveryPayload = z.object({ deliveryId: z.string().uuid() });
const commentPayload = z.object({ ref: z.string().min(1).max(64), text: z.string().min(1).max(2000) });
/** Grant events that add a comment to the grant's ticket (in trackers that take comments). */
const commentedActions: Record<string, string> = {
  'grant.activated': 'access granted',
  'grant.revoked': 'access ended',
};

/** The notifier reads requests and grants as a reader of everything, never acting on them. */
const notifierCaller: Caller = {
  operatorId: '00000000-0000-0000-0000-000000000000',
  username: 'notifier',
  groups: [],
  permissions: new Set(['access:read']),
};

export interface NotifySettings {
  pollMs: number;
  batchSize: number;
  maxAttempts: number;
  expiryLeadMinutes: number;
  publicUrl?: string | undefined;
}

export interface NotifyServiceDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  audit: Pick<AuditLog, 'append' | 'after'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  secrets: SecretBox;
  logger: Logger;
  access: Pick<AccessService, 'getRequest' | 'getGrant' | 'listGrants'>;
  /** Comments on tickets when access starts and ends (trackers without comments ignore it). */
  tickets?: { comment(ref: string, text: string): Promise<void> };
  /** Every operator with the permissions of their roles (for recipients). */
  operators: () => Promise<OperatorFacts[]>;
  settings: NotifySettings;
}

/**
 * Notifications: a follower of the audit log (its cursor in `audit_followers`) turns access events into
 * deliveries — one per channel that carries the notice, email to the operators concerned — each sent
 * by its own job with retries; one that still fails after the last attempt is dead-lettered for admins.
 */
export function createNotifyService(deps: NotifyServiceDeps) {
  const { store, clock, ids, audit, jobs, secrets, settings } = deps;
  const db = store.db;
  const logger = deps.logger.child({ component: 'notifier' });

  async function factsOf(
    event: AuditEvent,
  ): Promise<{ facts: NoticeFacts; request?: Awaited<ReturnType<AccessService['getRequest']>> }> {
    const base: NoticeFacts = { at: event.occurredAt, actor: event.actorName };
    if (event.targetType === 'access-request' && event.targetId) {
      const request = await deps.access.getRequest(notifierCaller, event.targetId);
      const denial = request.reviews.filter((r) => r.verdict === 'deny').at(-1);
      return {
        request,
        facts: {
          ...base,
          requestId: request.id,
          asset: request.asset,
          level: request.level,
          requester: request.requester,
          reason: request.reason,
          ticket: request.ticket,
          duration: request.duration,
          ...(event.action === 'access-request.denied' && denial ? { comment: denial.comment } : {}),
        },
      };
    }
    if (event.targetType === 'grant' && event.targetId) {
      const grant = await deps.access.getGrant(notifierCaller, event.targetId);
      return {
        facts: {
          ...base,
          grantId: grant.id,
          requestId: grant.requestId,
          asset: grant.asset,
          level: grant.level,
          requester: grant.holder,
          ticket: grant.ticket,
          notAfter: grant.notAfter,
          error: grant.lastError,
        },
      };
    }
    return { facts: base };
  }

  /** Adds one delivery per enabled channel carrying the notice (email: only when someone is to hear it). */
  async function fanOut(
    tx: Tx,
    channels: readonly ChannelRecord[],
    notice: Notice,
    message: Message,
    emailTo: readonly string[],
    dedupeKey: string,
  ): Promise<number> {
    let added = 0;
    for (const channel of channels) {
      if (!channel.enabled || !channel.notices.includes(notice)) continue;
      const recipients = channel.kind === 'email' ? [...emailTo] : [];
      if (channel.kind === 'email' && recipients.length === 0) continue;
      const id = ids.uuid();
      const at = clock.now();
      if (
        await notifyStore.insertDelivery(tx, {
          id,
          channelId: channel.id,
          dedupeKey,
          notice,
          recipients,
          message,
          at,
        })
      ) {
        await jobs.enqueue(tx, {
          kind: notifyJobKinds.deliver,
          payload: { deliveryId: id },
          maxAttempts: settings.maxAttempts,
        });
        added += 1;
      }
    }
    return added;
  }

  /** Reads the events after the notifier's cursor and turns those that call for it into deliveries. */
  async function followOnce(): Promise<{ events: number; deliveries: number }> {
    const cursor = await notifyStore.cursor(db, FOLLOWER);
    const events = await audit.after(db, cursor, settings.batchSize);
    if (events.length === 0) return { events: 0, deliveries: 0 };
    const channels = await notifyStore.channels(db);
    const relevant = events.filter((e) => noticeFor(e.action));
    const operators = relevant.length > 0 && channels.length > 0 ? await deps.operators() : [];
    const muted = relevant.length > 0 ? await notifyStore.mutedByOperator(db) : new Map<string, string[]>();
    const planned: { dedupeKey: string; notice: Notice; message: Message; emailTo: string[] }[] = [];
    for (const event of channels.length > 0 ? relevant : []) {
      const { notice, audience } = noticeFor(event.action)!;
      let resolved;
      try {
        resolved = await factsOf(event);
      } catch (error) {
        logger.warn(
          { seq: event.seq, action: event.action, error: errorSummary(error) },
          'no notification: facts missing',
        );
        continue;
      }
      const { facts, request } = resolved;
      const audienceOf =
        audience === 'approvers' && request
          ? approversWhoCanAct(
              {
                requesterId: request.requesterId,
                approverGroups: request.approvals.approverGroups,
                requiredGroups: request.approvals.requiredGroups,
              },
              operators,
            )
          : audience === 'requester' && request
            ? operators.filter((o) => o.id === request.requesterId)
            : audience === 'security'
              ? securityOffice(operators)
              : [];
      planned.push({
        dedupeKey: `seq:${event.seq}:${notice}`,
        notice,
        message: renderNotice(notice, facts, settings.publicUrl),
        emailTo: emailRecipients(audienceOf, notice, muted),
      });
    }
    const comments: { seq: number; ref: string; text: string }[] = [];
    for (const event of deps.tickets ? events : []) {
      const what = commentedActions[event.action];
      if (!what || !event.ticket) continue;
      try {
        const { facts } = await factsOf(event);
        const until =
          what === 'access granted' && facts.notAfter ? ` until ${facts.notAfter.toISOString()}` : '';
        comments.push({
          seq: event.seq,
          ref: event.ticket,
          text: `Gatehouse: ${what} — ${facts.level ?? ''} on ${facts.asset ?? '?'} for ${facts.requester ?? '?'}${until} (grant ${facts.grantId ?? '?'})`,
        });
      } catch (error) {
        logger.warn({ seq: event.seq, error: errorSummary(error) }, 'no ticket comment: facts missing');
      }
    }
    let added = 0;
    await db.transaction().execute(async (tx) => {
      for (const p of planned)
        added += await fanOut(tx, channels, p.notice, p.message, p.emailTo, p.dedupeKey);
      for (const c of comments) {
        await jobs.enqueue(tx, {
          kind: notifyJobKinds.ticketComment,
          payload: { ref: c.ref, text: c.text },
          dedupeKey: `${notifyJobKinds.ticketComment}:${c.seq}`,
          maxAttempts: settings.maxAttempts,
        });
      }
      await notifyStore.setCursor(tx, FOLLOWER, events[events.length - 1]!.seq, clock.now());
    });
    return { events: events.length, deliveries: added };
  }

  /** Tells holders of active grants ending within the lead time (once per grant and end time). */
  async function checkExpiring(): Promise<number> {
    const channels = (await notifyStore.channels(db)).filter(
      (c) => c.enabled && c.notices.includes('grant-expiring'),
    );
    if (channels.length === 0) return 0;
    const now = clock.now().getTime();
    const horizon = now + settings.expiryLeadMinutes * 60_000;
    const operators = await deps.operators();
    const muted = await notifyStore.mutedByOperator(db);
    let added = 0;
    let cursor: string | undefined;
    do {
      const page = await deps.access.listGrants(notifierCaller, {
        status: 'active',
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const grant of page.items) {
        const end = grant.notAfter?.getTime();
        if (end === undefined || end <= now || end > horizon) continue;
        const message = renderNotice(
          'grant-expiring',
          {
            at: clock.now(),
            grantId: grant.id,
            requestId: grant.requestId,
            asset: grant.asset,
            level: grant.level,
            requester: grant.holder,
            ticket: grant.ticket,
            notAfter: grant.notAfter,
          },
          settings.publicUrl,
        );
        const emailTo = emailRecipients(
          operators.filter((o) => o.id === grant.holderId),
          'grant-expiring',
          muted,
        );
        await db.transaction().execute(async (tx) => {
          added += await fanOut(
            tx,
            channels,
            'grant-expiring',
            message,
            emailTo,
            `grant-expiring:${grant.id}:${grant.notAfter!.toISOString()}`,
          );
        });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return added;
  }

  function senderFor(channel: ChannelRecord, deliveryId: string): NotificationSender {
    const secret = channel.secretSealed
      ? secrets.open(channel.secretSealed, secretContext(channel.id))
      : undefined;
    switch (channel.kind) {
      case 'email':
        return smtpSender(smtpSettings.parse(channel.settings), secret);
      case 'slack':
      case 'teams':
        return chatSender(channel.kind, secret!);
      case 'webhook':
        return webhookSender(String(channel.settings.url), secret!, () => clock.now(), deliveryId);
    }
  }

  async function deliver(deliveryId: string, attempt: number, maxAttempts: number): Promise<void> {
    const delivery = await notifyStore.delivery(db, deliveryId);
    if (!delivery || delivery.state !== 'pending') return;
    const channel = await notifyStore.channelById(db, delivery.channelId);
    if (!channel) return;
    try {
      await senderFor(channel, delivery.id)(delivery.message, delivery.recipients);
    } catch (error) {
      const message = errorSummary(error);
      if (attempt < maxAttempts) {
        await notifyStore.markAttempt(db, deliveryId, { state: 'pending', error: message, at: clock.now() });
        throw new TransientError('target_unavailable', `${channel.name}: ${message}`);
      }
      await db.transaction().execute(async (tx) => {
        await notifyStore.markAttempt(tx, deliveryId, { state: 'dead', error: message, at: clock.now() });
        await audit.append(tx, {
          actor: { type: 'system', id: null, name: 'notifier' },
          action: 'notification.dead-lettered',
          target: { type: 'notification', id: deliveryId },
          details: { channel: channel.name, notice: delivery.notice, attempts: attempt, error: message },
        });
      });
      logger.warn({ deliveryId, channel: channel.name, attempts: attempt }, 'notification dead-lettered');
      return;
    }
    await notifyStore.markAttempt(db, deliveryId, { state: 'delivered', error: null, at: clock.now() });
  }

  const after = (ms: number) => ({ requeueAt: new Date(clock.now().getTime() + ms) });

  const jobHandlers: Record<string, JobHandler> = {
    [notifyJobKinds.follow]: async () => {
      try {
        const { events } = await followOnce();
        // a full batch: more are waiting
        return after(events >= settings.batchSize ? 1 : settings.pollMs);
      } catch (error) {
        logger.warn({ error: errorSummary(error) }, 'notifier could not read on');
        return after(settings.pollMs * 5);
      }
    },
    [notifyJobKinds.expiryCheck]: async () => {
      try {
        await checkExpiring();
      } catch (error) {
        logger.warn({ error: errorSummary(error) }, 'expiry check failed');
      }
      return after(EXPIRY_CHECK_MS);
    },
    [notifyJobKinds.ticketComment]: async (job) => {
      const { ref, text } = commentPayload.parse(job.payload);
      await deps.tickets?.comment(ref, text);
    },
    [notifyJobKinds.deliver]: async (job, context) =>
      deliver(deliveryPayload.parse(job.payload).deliveryId, context.attempt, job.maxAttempts),
  };

  return {
    jobHandlers,
    followOnce,
    checkExpiring,

    async start(): Promise<void> {
      await db.transaction().execute(async (tx) => {
        for (const kind of [notifyJobKinds.follow, notifyJobKinds.expiryCheck]) {
          await jobs.enqueue(tx, { kind, dedupeKey: kind, maxAttempts: 1000 });
        }
      });
    },

    ...createNotifyAdmin(deps),
  };
}

export type NotifyService = ReturnType<typeof createNotifyService>;

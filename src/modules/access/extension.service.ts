import type { Clock, Ids } from '../../platform/clock.js';
import type { Store, Tx } from '../../platform/db/store.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import { pageOf } from '../../platform/paging.js';
import { systemActor, type AuditAppender, type RequestContext } from '../audit/audit.types.js';
import { formatDuration } from './domain/duration.js';
import {
  openExtension,
  transitionExtension,
  type ExtensionEffect,
  type ExtensionEvent,
} from './domain/extension-machine.js';
import { evaluateExtension } from './domain/lease.js';
import type { AccessRequestInput } from './domain/policy.js';
import type { ExtendInput, ExtensionListQuery, ExtensionView } from './access.schemas.js';
import {
  seesAll,
  type AccessRequestRecord,
  type Caller,
  type ExtensionRecord,
  type GrantRecord,
} from './access.types.js';
import { requestStore } from './access.store.js';
import { extensionStore } from './extension.store.js';
import { grantStore } from './grant.store.js';
import type { PolicyService } from './policy.service.js';
import { extensionRefusal, grantRefusal } from './refusals.js';
import { accessTargetOf, provisionable, type AccessInventory } from './targets.js';
import type { AccessTickets } from './tickets.js';
import { lockGrant, type AlertKind, type Transitions } from './transitions.js';
import { extensionView, type Presenter } from './views.js';

/**
 * Extensions of running grants: the holder asks (how much longer, or until when, and why); today's
 * policies decide as for a new request of the total length from the grant's start; reviewers approve or
 * deny when the policy wants approvals; an approved extension moves the grant's lease (the reaper's due
 * time and the native expiry on the target, through the grant machine's `extend`). One that nobody
 * reviews expires at its deadline, or with the grant if that ends first. Each change is one transaction
 * with its audit events, taken after the grant's locks (request, grant, then extension).
 */

export interface ExtensionServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  inventory: AccessInventory;
  tickets: AccessTickets;
  policies: Pick<PolicyService, 'current'>;
  transitions: Transitions;
  present: Presenter;
  audit: AuditAppender;
  logger: Logger;
  alert(kind: AlertKind, details: Record<string, unknown>): void;
}

export function createExtensionService(deps: ExtensionServiceDeps) {
  const { db } = deps.store;
  const { clock, transitions, logger } = deps;

  const visible = (caller: Caller, holderId: string) => seesAll(caller) || holderId === caller.operatorId;

  async function view(extension: ExtensionRecord, grant?: GrantRecord): Promise<ExtensionView> {
    const record = grant ?? (await grantStore.byId(db, extension.grantId));
    if (!record) throw new Error(`extension ${extension.id} has no grant ${extension.grantId}`);
    return extensionView(extension, await deps.present.grant(record));
  }

  /** The request behind the grant, as it would be asked today: today's groups, asset facts and ticket. */
  async function askedAgain(request: AccessRequestRecord, caller: Caller) {
    const asset = provisionable(await deps.inventory.getAsset(request.assetId));
    const ticket = request.ticket ? await deps.tickets.lookup(request.ticket) : null;
    const original: AccessRequestInput = {
      requester: { id: caller.operatorId, username: caller.username, groups: caller.groups },
      asset: await accessTargetOf(deps.inventory, asset),
      level: request.level,
      durationMs: request.durationMs,
      reason: request.reason,
      ticketId: request.ticket,
      fileTransfer: request.fileTransfer,
      breakGlass: request.breakGlass,
    };
    return { original, ticket };
  }

  /** Runs the machine's effects for a state already written, in its transaction. */
  async function runEffects(
    tx: Tx,
    ctx: RequestContext,
    extension: ExtensionRecord,
    locked: { grant: GrantRecord; request: AccessRequestRecord },
    effects: readonly ExtensionEffect[],
    details: Record<string, unknown> = {},
  ): Promise<GrantRecord> {
    let grant = locked.grant;
    const s = extension.state;
    for (const effect of effects) {
      switch (effect.type) {
        case 'audit':
          await deps.audit.append(tx, {
            ...ctx,
            action: effect.action,
            target: { type: 'access-extension', id: extension.id },
            ticket: locked.request.ticket ?? undefined,
            details: {
              grant: extension.grantId,
              asset: locked.request.assetName,
              account: grant.accountName,
              holder: extension.requesterUsername,
              status: s.status,
              policy: extension.policy,
              fromNotAfter: s.fromNotAfter,
              notAfter: s.notAfter,
              extendBy: formatDuration(s.notAfter.getTime() - s.fromNotAfter.getTime()),
              capped: extension.capped,
              ...details,
            },
          });
          break;
        case 'extend-grant': {
          const result = await transitions.applyGrant(
            tx,
            ctx,
            grant,
            {
              type: 'extend',
              notAfter: effect.notAfter,
              maxDurationMs: effect.maxDurationMs,
              at: clock.now(),
            },
            {
              request: locked.request,
              removal: 'enqueue',
              details: { extension: extension.id, policy: extension.policy, capped: extension.capped },
            },
          );
          if (!result.ok) throw grantRefusal(result.error, { extension: extension.id });
          grant = result.grant;
          break;
        }
        case 'alert':
          deps.alert(effect.alert, { grantId: extension.grantId, extension: extension.id });
          break;
        case 'notify':
          logger.info({ extensionId: extension.id, to: effect.to, notice: effect.notice }, 'access notice');
          break;
      }
    }
    return grant;
  }

  /** Sends the machine an event under the grant's locks; throws its refusal as the caller's error. */
  async function apply(
    tx: Tx,
    ctx: RequestContext,
    extension: ExtensionRecord,
    locked: { grant: GrantRecord; request: AccessRequestRecord },
    event: ExtensionEvent,
    options: { reviewerName?: string; details?: Record<string, unknown> } = {},
  ) {
    const t = transitionExtension(extension.state, event);
    if (!t.ok) throw extensionRefusal(t.error);
    const reviewerNames =
      (event.type === 'approve' || event.type === 'deny') && options.reviewerName
        ? { ...extension.reviewerNames, [event.reviewer.id]: options.reviewerName }
        : extension.reviewerNames;
    const next: ExtensionRecord = { ...extension, state: t.state, reviewerNames, updatedAt: clock.now() };
    await extensionStore.update(tx, next);
    const grant = await runEffects(tx, ctx, next, locked, t.effects, options.details);
    return { extension: next, grant };
  }

  /** The extension and its grant, locked in the one order (request, grant, extension). */
  async function lockExtension(tx: Tx, id: string, caller: Caller | null) {
    const peek = await extensionStore.byId(tx, id);
    const locked = peek && (await lockGrant(tx, peek.grantId));
    const extension = locked && (await extensionStore.byId(tx, id, { forUpdate: true }));
    if (!locked || !extension || (caller && !visible(caller, extension.state.requesterId))) {
      throw new NotFoundError('Extension', id);
    }
    return { extension, ...locked };
  }

  async function review(
    ctx: RequestContext,
    caller: Caller,
    id: string,
    verdict: 'approve' | 'deny',
    comment: string,
  ): Promise<ExtensionView> {
    const done = await db.transaction().execute(async (tx) => {
      const { extension, grant, request } = await lockExtension(tx, id, caller);
      return apply(
        tx,
        ctx,
        extension,
        { grant, request },
        {
          type: verdict,
          reviewer: { id: caller.operatorId, groups: caller.groups },
          comment,
          at: clock.now(),
        },
        { reviewerName: caller.username, details: { reviewer: caller.username, comment } },
      );
    });
    return view(done.extension, done.grant);
  }

  // a grant that starts ending takes its pending extension with it, in the same transaction
  transitions.onGrantEnding(async (tx, ctx, grant) => {
    const pending = await extensionStore.pendingFor(tx, grant.id, { forUpdate: true });
    if (!pending) return;
    const request = await requestStore.byId(tx, grant.requestId);
    if (!request) return;
    const t = transitionExtension(pending.state, { type: 'expire', now: clock.now(), grantEnded: true });
    if (!t.ok) return;
    const next: ExtensionRecord = { ...pending, state: t.state, updatedAt: clock.now() };
    await extensionStore.update(tx, next);
    await runEffects(tx, ctx, next, { grant, request }, t.effects, { cause: 'grant-ended' });
  });

  return {
    /** The holder asks for more time on a running grant: `duration` more, or `until` a new end. */
    async requestExtension(
      ctx: RequestContext,
      caller: Caller,
      grantId: string,
      input: ExtendInput,
    ): Promise<ExtensionView> {
      const peek = await grantStore.byId(db, grantId);
      const peekRequest = peek && (await requestStore.byId(db, peek.requestId));
      if (!peek || !peekRequest || !visible(caller, peek.holderId)) throw new NotFoundError('Grant', grantId);
      const { original, ticket } = await askedAgain(peekRequest, caller);
      const { version, policies } = await deps.policies.current();
      const done = await db.transaction().execute(async (tx) => {
        const locked = await lockGrant(tx, grantId);
        if (!locked || !visible(caller, locked.grant.holderId)) throw new NotFoundError('Grant', grantId);
        const { grant, request } = locked;
        if (grant.holderId !== caller.operatorId) {
          throw new ForbiddenError(`Only the grant's holder, ${request.requesterUsername}, can extend it`);
        }
        const { lease } = grant.state;
        if (grant.state.status !== 'active') {
          throw new ConflictError(`Only an active grant can be extended; this one is ${grant.state.status}`, {
            details: { reason: 'not-active' },
          });
        }
        const waiting = await extensionStore.pendingFor(tx, grant.id);
        if (waiting) {
          throw new ConflictError(
            `Extension ${waiting.id} of this grant is still awaiting review; cancel it before asking again`,
            { details: { reason: 'extension-pending', extension: waiting.id } },
          );
        }
        const now = clock.now();
        let extendByMs = input.duration ?? 0;
        if (input.until !== undefined && lease.notAfter !== null) {
          extendByMs = input.until.getTime() - lease.notAfter.getTime();
          if (extendByMs <= 0) {
            throw new ValidationError(
              `The grant already runs until ${lease.notAfter.toISOString()}; give a later time`,
              { details: { reason: 'not-later' } },
            );
          }
        }
        const decision = evaluateExtension(policies, original, lease, extendByMs, { now, ticket });
        if (decision.outcome === 'refused') {
          throw new ValidationError(
            `Extension refused: ${decision.reasons.map((r) => r.message).join('; ')}`,
            { details: { reasons: decision.reasons } },
          );
        }
        const opened = openExtension(decision, caller.operatorId, lease.notAfter!, now);
        if (!opened.ok) throw extensionRefusal(opened.error);
        const record: ExtensionRecord = {
          id: deps.ids.uuid(),
          grantId: grant.id,
          requesterUsername: caller.username,
          reason: input.reason,
          policy: decision.policy,
          policyVersion: version,
          capped: decision.capped,
          state: opened.state,
          reviewerNames: {},
          createdAt: now,
          updatedAt: now,
        };
        await extensionStore.insert(tx, record);
        const after = await runEffects(tx, ctx, record, locked, opened.effects, {
          reason: input.reason,
          outcome: decision.outcome,
          policyVersion: version,
        });
        const deadline = record.state.reviewDeadline;
        if (record.state.status === 'pending-approval' && deadline) {
          await transitions.enqueueExtensionExpiry(tx, record.id, deadline);
        }
        return { extension: record, grant: after };
      });
      return view(done.extension, done.grant);
    },

    async listExtensions(caller: Caller, query: ExtensionListQuery) {
      const own = query.mine === true || !seesAll(caller);
      const rows = await extensionStore.list(db, {
        requesterId: own ? caller.operatorId : undefined,
        grantId: query.grant,
        status: query.status,
        before: query.cursor,
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (last) => last.id);
      return { items: await Promise.all(page.items.map((e) => view(e))), nextCursor: page.nextCursor };
    },

    async getExtension(caller: Caller, id: string): Promise<ExtensionView> {
      const extension = await extensionStore.byId(db, id);
      if (!extension || !visible(caller, extension.state.requesterId))
        throw new NotFoundError('Extension', id);
      return view(extension);
    },

    approveExtension: (ctx: RequestContext, caller: Caller, id: string, comment: string) =>
      review(ctx, caller, id, 'approve', comment),

    denyExtension: (ctx: RequestContext, caller: Caller, id: string, comment: string) =>
      review(ctx, caller, id, 'deny', comment),

    async cancelExtension(ctx: RequestContext, caller: Caller, id: string): Promise<ExtensionView> {
      const done = await db.transaction().execute(async (tx) => {
        const { extension, grant, request } = await lockExtension(tx, id, caller);
        return apply(
          tx,
          ctx,
          extension,
          { grant, request },
          {
            type: 'cancel',
            by: { id: caller.operatorId, admin: caller.permissions.has('access:admin') },
            at: clock.now(),
          },
        );
      });
      return view(done.extension, done.grant);
    },

    /** The `extension.expire` job: ends an unreviewed extension at its deadline, or once its grant ended. */
    async expireExtension(id: string): Promise<void | { requeueAt: Date }> {
      return db.transaction().execute(async (tx) => {
        const peek = await extensionStore.byId(tx, id);
        if (!peek || peek.state.status !== 'pending-approval') return;
        const { extension, grant, request } = await lockExtension(tx, id, null);
        if (extension.state.status !== 'pending-approval') return;
        const grantEnded = grant.state.status !== 'active';
        const deadline = extension.state.reviewDeadline;
        if (!grantEnded && deadline && clock.now() < deadline) return { requeueAt: deadline };
        await apply(
          tx,
          { actor: systemActor('access') },
          extension,
          { grant, request },
          {
            type: 'expire',
            now: clock.now(),
            grantEnded,
          },
        );
      });
    },

    /** On start: every extension awaiting review has its expiry job (a lost one is scheduled again). */
    async resume(): Promise<void> {
      const pending = await extensionStore.pending(db);
      if (pending.length === 0) return;
      await db.transaction().execute(async (tx) => {
        for (const { id, reviewDeadline } of pending) {
          await transitions.enqueueExtensionExpiry(tx, id, reviewDeadline ?? clock.now());
        }
      });
    },
  };
}

export type ExtensionService = ReturnType<typeof createExtensionService>;

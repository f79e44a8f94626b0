import type { Clock, Ids } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/store.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { accountName } from './domain/account-name.js';
import {
  openGrant,
  transitionGrant,
  type GrantEffect,
  type GrantEvent,
  type GrantLimits,
  type GrantRefusalCode,
} from './domain/grant-machine.js';
import { leaseDueAt } from './domain/lease.js';
import { transitionRequest, type RequestEffect, type RequestEvent } from './domain/request-machine.js';
import type { AccountTarget } from './domain/account-name.js';
import type { Refusal } from './domain/types.js';
import { requestRefusal } from './refusals.js';
import { requestStore } from './access.store.js';
import type { AccessRequestRecord, GrantRecord } from './access.types.js';
import { grantStore } from './grant.store.js';

/**
 * Carries out the state machines' decisions inside the caller's transaction: persists the new state,
 * appends every audit event (with the request's ticket), enqueues jobs, and hands the outside effects
 * (create or remove an account) back to the caller, who runs them only after the commit.
 */

export const jobKinds = {
  provision: 'grant.provision',
  /** The lease reaper and the remover: ends a grant when due, then removes its account. */
  revoke: 'grant.revoke',
  setExpiry: 'grant.set-expiry',
  expireRequest: 'request.expire',
  expireExtension: 'extension.expire',
  sweep: 'access.sweep',
} as const;

export const revokeJobMaxAttempts = 1000;

export type AlertKind = 'break-glass-opened' | 'credentials-without-approval' | 'revocation-failed';

export interface TransitionDeps {
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  jobs: Pick<JobQueue, 'enqueue'>;
  limits: GrantLimits;
  logger: Logger;
  /** Pages someone and counts the alert. */
  alert(kind: AlertKind, details: Record<string, unknown>): void;
}

/** Outside effects a grant transition asks for; run after the transaction commits. */
export type OutsideEffect = Extract<GrantEffect, { type: 'create-account' | 'remove-account' | 'retry' }>;

export const passwordContext = (grantId: string) => `grant:${grantId}:password`;

/**
 * Locks a grant and its request for a change, always the request first: request changes reach their
 * grant and grant changes reach their request, and one order for both keeps them from deadlocking.
 */
export async function lockGrant(
  tx: Tx,
  grantId: string,
): Promise<{ request: AccessRequestRecord; grant: GrantRecord } | undefined> {
  const requestId = await grantStore.requestIdOf(tx, grantId);
  if (!requestId) return undefined;
  const request = await requestStore.byId(tx, requestId, { forUpdate: true });
  const grant = await grantStore.byId(tx, grantId, { forUpdate: true });
  return request && grant ? { request, grant } : undefined;
}

/** Hears a grant start ending (revoking, or revoked without an account), in that transaction. */
export type GrantEndingListener = (tx: Tx, ctx: RequestContext, grant: GrantRecord) => Promise<void>;

const endingStatuses: ReadonlySet<string> = new Set(['revoking', 'revocation_failed', 'revoked', 'failed']);

export function createTransitions(deps: TransitionDeps) {
  const { clock, audit, jobs, logger } = deps;
  const endingListeners: GrantEndingListener[] = [];

  const grantDetails = (grant: GrantRecord, request: AccessRequestRecord) => ({
    asset: request.assetName,
    account: grant.accountName,
    level: grant.level,
    holder: request.requesterUsername,
    status: grant.state.status,
    notAfter: grant.state.lease.notAfter,
    claimDeadline: grant.state.lease.claimDeadline,
    ...(grant.state.endReason ? { endReason: grant.state.endReason } : {}),
  });

  async function enqueueRemoval(tx: Tx, grantId: string, runAt = clock.now()) {
    await jobs.enqueue(tx, {
      kind: jobKinds.revoke,
      payload: { grantId },
      runAt,
      dedupeKey: `grant.revoke:${grantId}`,
      maxAttempts: revokeJobMaxAttempts,
    });
  }

  async function scheduleExpiry(tx: Tx, grantId: string, at: Date) {
    await jobs.enqueue(tx, {
      kind: jobKinds.revoke,
      payload: { grantId },
      runAt: at,
      dedupeKey: `grant.expire:${grantId}:${at.getTime()}`,
      maxAttempts: revokeJobMaxAttempts,
    });
  }

  async function enqueueProvisioning(tx: Tx, grantId: string) {
    await jobs.enqueue(tx, {
      kind: jobKinds.provision,
      payload: { grantId },
      dedupeKey: `grant.provision:${grantId}`,
      maxAttempts: deps.limits.provisionAttempts + 3,
    });
  }

  async function enqueueRequestExpiry(tx: Tx, requestId: string, deadline: Date) {
    await jobs.enqueue(tx, {
      kind: jobKinds.expireRequest,
      payload: { requestId },
      runAt: deadline,
      dedupeKey: `request.expire:${requestId}`,
    });
  }

  async function enqueueExtensionExpiry(tx: Tx, extensionId: string, deadline: Date) {
    await jobs.enqueue(tx, {
      kind: jobKinds.expireExtension,
      payload: { extensionId },
      runAt: deadline,
      dedupeKey: `extension.expire:${extensionId}`,
    });
  }

  interface GrantOptions {
    request: AccessRequestRecord;
    /** 'enqueue' (services): a removal becomes a job; 'caller' (jobs): it is returned to run inline. */
    removal: 'enqueue' | 'caller';
    /** Fields set along with the new state (a sealed password, the revealer, the last error). */
    patch?: Partial<Pick<GrantRecord, 'sealedPassword' | 'revealedBy' | 'lastError'>>;
    details?: Record<string, unknown>;
  }

  type GrantResult =
    | { ok: true; grant: GrantRecord; request: AccessRequestRecord; outside: OutsideEffect[] }
    | { ok: false; error: Refusal<GrantRefusalCode> };

  async function applyGrant(
    tx: Tx,
    ctx: RequestContext,
    grant: GrantRecord,
    event: GrantEvent,
    options: GrantOptions,
  ): Promise<GrantResult> {
    const t = transitionGrant(grant.state, event, deps.limits);
    if (!t.ok) return t;
    const discard = t.effects.some((e) => e.type === 'discard-credential');
    const alert = t.effects.find((e) => e.type === 'alert');
    let next: GrantRecord = {
      ...grant,
      ...options.patch,
      state: t.state,
      updatedAt: clock.now(),
      ...(discard ? { sealedPassword: null } : {}),
      ...(alert ? { revocationFailed: alert.raised } : {}),
    };
    await grantStore.update(tx, next);
    if (endingStatuses.has(t.state.status) && !endingStatuses.has(grant.state.status)) {
      for (const listener of endingListeners) await listener(tx, ctx, next);
    }
    let request = options.request;
    const outside: OutsideEffect[] = [];
    for (const effect of t.effects) {
      switch (effect.type) {
        case 'audit':
          await audit.append(tx, {
            ...ctx,
            action: effect.action,
            target: { type: 'grant', id: grant.id },
            ticket: request.ticket ?? undefined,
            details: { ...grantDetails(next, request), ...options.details },
          });
          break;
        case 'enqueue-provisioning':
          await enqueueProvisioning(tx, grant.id);
          break;
        case 'create-account':
        case 'retry':
          outside.push(effect);
          break;
        case 'remove-account':
          if (options.removal === 'caller') outside.push(effect);
          else await enqueueRemoval(tx, grant.id);
          break;
        case 'set-account-expiry':
          await jobs.enqueue(tx, {
            kind: jobKinds.setExpiry,
            payload: { grantId: grant.id },
            // one per target time: a job already running may have read the time before this change
            dedupeKey: `grant.set-expiry:${grant.id}:${effect.expiresAt.getTime()}`,
          });
          break;
        case 'schedule-expiry':
          await scheduleExpiry(tx, grant.id, effect.at);
          break;
        case 'credentials-issued':
          request = (await applyRequest(tx, ctx, request, { type: 'credentials-issued', at: clock.now() }))
            .request;
          break;
        case 'discard-credential':
          break; // written with the state above
        case 'notify':
          logger.info({ grantId: grant.id, notice: effect.notice }, 'access notice');
          break;
        case 'alert':
          if (effect.raised) deps.alert(effect.alert, { grantId: grant.id, account: grant.accountName });
          break;
      }
    }
    next = (await grantStore.byId(tx, grant.id)) ?? next;
    return { ok: true, grant: next, request, outside };
  }

  /** The grant for an approved request, with its provisioning job, in the request's transaction. */
  async function createGrant(
    tx: Tx,
    ctx: RequestContext,
    request: AccessRequestRecord,
    engine: AccountTarget,
  ): Promise<GrantRecord> {
    const approvedAt = request.state.decidedAt ?? clock.now();
    const opened = openGrant(request.terms, approvedAt);
    const id = deps.ids.uuid();
    const now = clock.now();
    const grant: GrantRecord = {
      id,
      requestId: request.id,
      assetId: request.assetId,
      holderId: request.state.requesterId,
      accountName: accountName(request.requesterUsername, id, engine),
      level: request.level,
      state: opened.state,
      sealedPassword: null,
      revealedBy: null,
      lastError: null,
      revocationFailed: false,
      createdAt: now,
      updatedAt: now,
    };
    await grantStore.insert(tx, grant);
    for (const effect of opened.effects) {
      if (effect.type === 'audit') {
        await audit.append(tx, {
          ...ctx,
          action: effect.action,
          target: { type: 'grant', id },
          ticket: request.ticket ?? undefined,
          details: {
            ...grantDetails(grant, request),
            request: request.id,
            policy: request.policy,
            dueAt: leaseDueAt(grant.state.lease),
          },
        });
      } else if (effect.type === 'enqueue-provisioning') {
        await enqueueProvisioning(tx, id);
      }
    }
    return grant;
  }

  const requestDetails = (request: AccessRequestRecord) => ({
    asset: request.assetName,
    level: request.level,
    durationMs: request.durationMs,
    requester: request.requesterUsername,
    status: request.state.status,
    policy: request.policy,
    ...(request.breakGlass ? { breakGlass: true, postReview: request.state.breakGlass?.postReview } : {}),
  });

  /**
   * Runs the request machine's effects for a state already written (a new request, or one updated by
   * `applyRequest`). Returns the request as it stands afterwards and the grant it created, if any.
   */
  async function runRequestEffects(
    tx: Tx,
    ctx: RequestContext,
    request: AccessRequestRecord,
    effects: readonly RequestEffect[],
    options: { engine?: AccountTarget; details?: Record<string, unknown> } = {},
  ): Promise<{ request: AccessRequestRecord; grant?: GrantRecord }> {
    let grant: GrantRecord | undefined;
    for (const effect of effects) {
      switch (effect.type) {
        case 'audit':
          await audit.append(tx, {
            ...ctx,
            action: effect.action,
            target: { type: 'access-request', id: request.id },
            ticket: request.ticket ?? undefined,
            details: { ...requestDetails(request), ...options.details },
          });
          break;
        case 'provision-grant': {
          if (!options.engine) throw new Error('provisioning a grant needs the target engine');
          grant = await createGrant(tx, ctx, request, options.engine);
          break;
        }
        case 'revoke-grant': {
          const current = await grantStore.byRequest(tx, request.id, { forUpdate: true });
          if (!current) break;
          const result = await applyGrant(
            tx,
            ctx,
            current,
            { type: 'revoke', reason: effect.reason, at: clock.now() },
            { request, removal: 'enqueue' },
          );
          // a grant already ended needs nothing more
          if (result.ok) grant = result.grant;
          break;
        }
        case 'alert':
          deps.alert(effect.alert, { requestId: request.id, asset: request.assetName });
          break;
        case 'notify':
          logger.info({ requestId: request.id, to: effect.to, notice: effect.notice }, 'access notice');
          break;
      }
    }
    return { request, ...(grant ? { grant } : {}) };
  }

  /** Sends the request machine an event; throws the refusal as the error the caller sees. */
  async function applyRequest(
    tx: Tx,
    ctx: RequestContext,
    request: AccessRequestRecord,
    event: RequestEvent,
    options: { engine?: AccountTarget; reviewerName?: string; details?: Record<string, unknown> } = {},
  ): Promise<{ request: AccessRequestRecord; grant?: GrantRecord }> {
    const t = transitionRequest(request.state, event);
    if (!t.ok) throw requestRefusal(t.error);
    if (t.effects.length === 0 && t.state === request.state) return { request };
    const reviewerNames =
      (event.type === 'approve' || event.type === 'deny') && options.reviewerName
        ? { ...request.reviewerNames, [event.reviewer.id]: options.reviewerName }
        : request.reviewerNames;
    const next: AccessRequestRecord = { ...request, state: t.state, reviewerNames, updatedAt: clock.now() };
    await requestStore.update(tx, next);
    return runRequestEffects(tx, ctx, next, t.effects, options);
  }

  return {
    /** Called in the transaction of every grant that starts ending (pending extensions expire with it). */
    onGrantEnding(listener: GrantEndingListener): void {
      endingListeners.push(listener);
    },
    applyGrant,
    applyRequest,
    runRequestEffects,
    enqueueRemoval,
    scheduleExpiry,
    enqueueProvisioning,
    enqueueRequestExpiry,
    enqueueExtensionExpiry,
  };
}

export type Transitions = ReturnType<typeof createTransitions>;

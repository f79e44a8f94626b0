import { pageOf } from '../../platform/paging.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { Store, Tx } from '../../platform/db/store.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { systemActor, type RequestContext } from '../audit/audit.types.js';
import { evaluateRequest, type AccessRequestInput, type PolicyDecision } from './domain/policy.js';
import { previewRequest } from './domain/preview.js';
import { openRequest } from './domain/request-machine.js';
import { requestStore } from './access.store.js';
import type {
  CreateRequestInput,
  PreviewRequestInput,
  PreviewView,
  RequestListQuery,
  RequestView,
} from './access.schemas.js';
import { seesAll, type AccessRequestRecord, type Caller } from './access.types.js';
import type { AccessTickets } from './tickets.js';
import type { PolicyService } from './policy.service.js';
import { accessTargetOf, accountTargetOf, provisionable, type AccessInventory } from './targets.js';
import { requestRefusal } from './refusals.js';
import type { Transitions } from './transitions.js';
import { previewView, type Presenter } from './views.js';

/**
 * Access requests: created through the policy, reviewed by others, cancelled by the requester or an
 * admin, expired when nobody reviews them. Each change is one transaction with its audit events.
 */

export interface RequestServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  inventory: AccessInventory;
  tickets: AccessTickets;
  policies: Pick<PolicyService, 'current'>;
  transitions: Transitions;
  present: Presenter;
}

/** Refusals about who may ask for what (403), as opposed to what the request says (400). */
const forbiddenCodes = new Set(['no-policy', 'level-not-allowed', 'break-glass-not-allowed']);

function policyRefusal(decision: Extract<PolicyDecision, { outcome: 'refused' }>) {
  const by = decision.policy ? ` by policy ${decision.policy}` : '';
  const message = `Access refused${by}: ${decision.reasons.map((r) => r.message).join('; ')}`;
  const options = { details: { policy: decision.policy, reasons: decision.reasons } };
  return decision.reasons.every((r) => forbiddenCodes.has(r.code))
    ? new ForbiddenError(message, options)
    : new ValidationError(message, options);
}

export function createRequestService(deps: RequestServiceDeps) {
  const { db } = deps.store;
  const { clock, transitions } = deps;

  async function find(executor: Tx | typeof db, id: string, caller: Caller | null, forUpdate = false) {
    const request = await requestStore.byId(executor, id, { forUpdate });
    // someone else's request is "not found" to a caller who may not see it
    if (!request || (caller && !seesAll(caller) && request.state.requesterId !== caller.operatorId)) {
      throw new NotFoundError('Access request', id);
    }
    return request;
  }

  async function engineOf(request: AccessRequestRecord) {
    return accountTargetOf(provisionable(await deps.inventory.getAsset(request.assetId)));
  }

  async function review(
    ctx: RequestContext,
    caller: Caller,
    id: string,
    verdict: 'approve' | 'deny',
    comment: string,
  ): Promise<RequestView> {
    const current = await find(db, id, caller);
    const engine = await engineOf(current);
    const { request } = await db.transaction().execute(async (tx) => {
      const locked = await find(tx, id, caller, true);
      return transitions.applyRequest(
        tx,
        ctx,
        locked,
        {
          type: verdict,
          reviewer: { id: caller.operatorId, groups: caller.groups },
          comment,
          at: clock.now(),
        },
        { engine, reviewerName: caller.username, details: { reviewer: caller.username, comment } },
      );
    });
    return deps.present.request(request);
  }

  /** What the policy is given for a request: the asset, its ticket, the policies in force, now. */
  async function facts(caller: Caller, input: CreateRequestInput | PreviewRequestInput) {
    const asset = provisionable(await deps.inventory.getAsset(input.asset));
    const target = await accessTargetOf(deps.inventory, asset);
    const ticket = input.ticket ? await deps.tickets.lookup(input.ticket) : null;
    // the tracker's canonical ref is what is stored and audited
    const ticketRef = ticket?.id ?? input.ticket ?? null;
    const now = clock.now();
    const { version, policies } = await deps.policies.current();
    const asked: AccessRequestInput = {
      requester: { id: caller.operatorId, username: caller.username, groups: caller.groups },
      asset: target,
      level: input.level,
      durationMs: input.duration,
      // a preview leaves the reason to the form: it stands in for one so the rest is judged
      reason: input.reason ?? 'preview',
      ticketId: ticketRef,
      fileTransfer: input.fileTransfer,
      breakGlass: input.breakGlass,
    };
    return { asset, ticket, ticketRef, now, version, policies, asked };
  }

  return {
    /** What the policies would decide for this request, changing nothing (no audit: a read). */
    async previewRequest(caller: Caller, input: PreviewRequestInput): Promise<PreviewView> {
      const { ticket, now, version, policies, asked } = await facts(caller, input);
      return previewView(previewRequest(policies, asked, { now, ticket }), version);
    },

    async createRequest(
      ctx: RequestContext,
      caller: Caller,
      input: CreateRequestInput,
    ): Promise<RequestView> {
      const { asset, ticket, ticketRef, now, version, policies, asked } = await facts(caller, input);
      const decision = evaluateRequest(policies, asked, { now, ticket });
      if (decision.outcome === 'refused') throw policyRefusal(decision);
      const opened = openRequest(decision, caller.operatorId, now);
      if (!opened.ok) throw requestRefusal(opened.error);
      const governing = policies.find((p) => p.name === decision.policy);
      const record: AccessRequestRecord = {
        id: deps.ids.uuid(),
        requesterUsername: caller.username,
        assetId: asset.id,
        assetName: asset.name,
        level: input.level,
        durationMs: input.duration,
        reason: input.reason,
        ticket: ticketRef,
        fileTransfer: input.fileTransfer,
        breakGlass: input.breakGlass,
        policy: decision.policy,
        policyVersion: version,
        terms: decision.terms,
        onTicketClose: governing?.onTicketClose ?? 'revoke',
        state: opened.state,
        reviewerNames: {},
        createdAt: now,
        updatedAt: now,
      };
      const created = await db.transaction().execute(async (tx) => {
        await requestStore.insert(tx, record);
        const done = await transitions.runRequestEffects(tx, ctx, record, opened.effects, {
          engine: accountTargetOf(asset),
          details: {
            reason: input.reason,
            fileTransfer: input.fileTransfer,
            outcome: decision.outcome,
            policyVersion: version,
          },
        });
        const deadline = record.state.reviewDeadline;
        if (record.state.status === 'pending-approval' && deadline) {
          await transitions.enqueueRequestExpiry(tx, record.id, deadline);
        }
        return done.request;
      });
      return deps.present.request(created);
    },

    async listRequests(caller: Caller, query: RequestListQuery) {
      const own = query.mine === true || !seesAll(caller);
      const assetId = query.asset ? (await deps.inventory.getAsset(query.asset)).id : undefined;
      const rows = await requestStore.list(db, {
        requesterId: own ? caller.operatorId : undefined,
        status: query.status,
        assetId,
        before: query.cursor,
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (last) => last.id);
      return {
        items: await Promise.all(page.items.map((r) => deps.present.request(r))),
        nextCursor: page.nextCursor,
      };
    },

    async getRequest(caller: Caller, id: string): Promise<RequestView> {
      return deps.present.request(await find(db, id, caller));
    },

    approve: (ctx: RequestContext, caller: Caller, id: string, comment: string) =>
      review(ctx, caller, id, 'approve', comment),

    deny: (ctx: RequestContext, caller: Caller, id: string, comment: string) =>
      review(ctx, caller, id, 'deny', comment),

    async cancel(ctx: RequestContext, caller: Caller, id: string): Promise<RequestView> {
      const { request } = await db.transaction().execute(async (tx) => {
        const locked = await find(tx, id, caller, true);
        return transitions.applyRequest(tx, ctx, locked, {
          type: 'cancel',
          by: { id: caller.operatorId, admin: caller.permissions.has('access:admin') },
          at: clock.now(),
        });
      });
      return deps.present.request(request);
    },

    /** The `request.expire` job: ends an unreviewed request at its deadline. */
    async expireRequest(id: string): Promise<void | { requeueAt: Date }> {
      return db.transaction().execute(async (tx) => {
        const request = await requestStore.byId(tx, id, { forUpdate: true });
        if (!request || request.state.status !== 'pending-approval') return;
        const deadline = request.state.reviewDeadline;
        if (deadline && clock.now() < deadline) return { requeueAt: deadline };
        await transitions.applyRequest(tx, { actor: systemActor('access') }, request, {
          type: 'expire',
          now: clock.now(),
        });
      });
    },
  };
}

export type RequestService = ReturnType<typeof createRequestService>;

import { pageOf } from '../../platform/paging.js';
import type { Clock } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store, Tx } from '../../platform/db/store.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import type { TicketFacts } from './domain/policy.js';
import type { CredentialView, GrantListQuery, GrantView } from './access.schemas.js';
import { requestStore } from './access.store.js';
import { seesAll, type AccessRequestRecord, type Caller, type GrantRecord } from './access.types.js';
import { grantStore } from './grant.store.js';
import { connectionLine, provisionable, type AccessInventory } from './targets.js';
import { grantRefusal } from './refusals.js';
import { lockGrant, passwordContext, type Transitions } from './transitions.js';
import { endpointView, type Presenter } from './views.js';

/**
 * Grants as their holder and admins act on them: show, reveal the credential once, revoke early; and
 * the revocations a ticket's close calls for (extensions: extension.service.ts).
 */

export interface GrantServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  secrets: Pick<SecretBox, 'open'>;
  inventory: AccessInventory;
  transitions: Transitions;
  present: Presenter;
}

export function createGrantService(deps: GrantServiceDeps) {
  const { db } = deps.store;
  const { clock, transitions } = deps;

  /** Locks a grant the caller may see; someone else's is "not found" unless they see everyone's. */
  async function lockVisible(tx: Tx, id: string, caller: Caller) {
    const locked = await lockGrant(tx, id);
    if (!locked || (!seesAll(caller) && locked.grant.holderId !== caller.operatorId)) {
      throw new NotFoundError('Grant', id);
    }
    return locked;
  }

  function holderOnly(grant: GrantRecord, request: AccessRequestRecord, caller: Caller, what: string) {
    if (grant.holderId !== caller.operatorId) {
      throw new ForbiddenError(`Only the grant's holder, ${request.requesterUsername}, can ${what}`);
    }
  }

  return {
    async listGrants(caller: Caller, query: GrantListQuery) {
      const own = query.mine === true || !seesAll(caller);
      if (!seesAll(caller) && query.holder !== undefined && query.holder !== caller.operatorId) {
        throw new ForbiddenError(
          "Only reviewers and admins see other operators' grants; leave holder out to see your own",
        );
      }
      const assetId = query.asset ? (await deps.inventory.getAsset(query.asset)).id : undefined;
      const rows = await grantStore.list(db, {
        holderId: own ? caller.operatorId : query.holder,
        status: query.status,
        assetId,
        before: query.cursor,
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (last) => last.id);
      return { items: await deps.present.grants(page.items), nextCursor: page.nextCursor };
    },

    async getGrant(caller: Caller, id: string): Promise<GrantView> {
      const grant = await grantStore.byId(db, id);
      if (!grant || (!seesAll(caller) && grant.holderId !== caller.operatorId)) {
        throw new NotFoundError('Grant', id);
      }
      return deps.present.grant(grant);
    },

    /** The password, once, to the holder; afterwards only when and by whom it was revealed. */
    async revealCredential(ctx: RequestContext, caller: Caller, id: string): Promise<CredentialView> {
      // read what lies outside the transaction first: on embedded PGlite there is one connection
      const peek = await grantStore.byId(db, id);
      if (!peek || (!seesAll(caller) && peek.holderId !== caller.operatorId)) {
        throw new NotFoundError('Grant', id);
      }
      const asset = provisionable(await deps.inventory.getAsset(peek.assetId));
      return db.transaction().execute(async (tx) => {
        const { grant, request } = await lockVisible(tx, id, caller);
        holderOnly(grant, request, caller, 'reveal its credential');
        const { revealedAt } = grant.state;
        if (revealedAt) {
          const by = grant.revealedBy?.username ?? 'its holder';
          throw new ConflictError(
            `The credential was revealed at ${revealedAt.toISOString()} by ${by} and is shown only once; if it was lost, revoke the grant and request access again`,
            { details: { reason: 'already-revealed', revealedAt, revealedBy: by } },
          );
        }
        const sealed = grant.sealedPassword;
        const result = await transitions.applyGrant(
          tx,
          ctx,
          grant,
          { type: 'revealed', at: clock.now() },
          {
            request,
            removal: 'enqueue',
            patch: { revealedBy: { id: caller.operatorId, username: caller.username } },
          },
        );
        if (!result.ok) throw grantRefusal(result.error);
        if (!sealed) {
          throw new ConflictError(
            'The credential is no longer held (it is kept only until revealed or the grant ends); revoke the grant and request access again',
          );
        }
        const password = deps.secrets.open(sealed, passwordContext(grant.id));
        return {
          grantId: grant.id,
          account: grant.accountName,
          password,
          ...endpointView(asset, grant.accountName),
          connection: connectionLine(asset, grant.accountName),
          notAfter: result.grant.state.lease.notAfter,
          revealedAt: result.grant.state.revealedAt ?? clock.now(),
        };
      });
    },

    /** Early revocation by the holder or an admin. */
    async revokeGrant(ctx: RequestContext, caller: Caller, id: string, comment?: string): Promise<GrantView> {
      const grant = await db.transaction().execute(async (tx) => {
        const { grant, request } = await lockVisible(tx, id, caller);
        const holder = grant.holderId === caller.operatorId;
        if (!holder && !caller.permissions.has('access:admin')) {
          throw new ForbiddenError(
            `Only the grant's holder, ${request.requesterUsername}, or an admin can revoke it`,
          );
        }
        const result = await transitions.applyGrant(
          tx,
          ctx,
          grant,
          { type: 'revoke', reason: holder ? 'revoked-by-holder' : 'revoked-by-admin', at: clock.now() },
          { request, removal: 'enqueue', details: comment ? { comment } : {} },
        );
        if (!result.ok) throw grantRefusal(result.error);
        return result.grant;
      });
      return deps.present.grant(grant);
    },

    /**
     * A ticket closed (inside the close's transaction): requests naming it that are not yet issued are
     * cancelled and issued grants revoked, where the governing policy says so.
     */
    async onTicketClosed(tx: Tx, ticket: TicketFacts, ctx: RequestContext): Promise<void> {
      for (const requestId of await requestStore.openForTicket(tx, ticket.id)) {
        const request = await requestStore.byId(tx, requestId, { forUpdate: true });
        if (!request || request.onTicketClose !== 'revoke') continue;
        const details = { cause: 'ticket-closed', ticket: ticket.id };
        const { status } = request.state;
        // not yet issued: the request itself is withdrawn (which stops its grant); break-glass is never
        // cancelled, only revoked
        if (status === 'pending-approval' || (status === 'approved' && !request.breakGlass)) {
          await transitions.applyRequest(
            tx,
            ctx,
            request,
            { type: 'cancel', by: { id: ctx.actor.id ?? 'system', admin: true }, at: clock.now() },
            { details },
          );
          continue;
        }
        const grant = await grantStore.byRequest(tx, requestId, { forUpdate: true });
        if (!grant) continue;
        // a grant that has already ended needs nothing more
        await transitions.applyGrant(
          tx,
          ctx,
          grant,
          { type: 'revoke', reason: 'ticket-closed', at: clock.now() },
          { request, removal: 'enqueue', details },
        );
      }
    },
  };
}

export type GrantService = ReturnType<typeof createGrantService>;

import type { Clock } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { isRole } from './domain/roles.js';
import type { UpdateOperatorInput } from './identity.schemas.js';
import { identityStore } from './identity.store.js';
import type { Operator, Principal } from './identity.types.js';
import { sessionStore } from './session.store.js';

/** What deactivation needs from access: the operator's live grants, and the one revoke path. */
export interface GrantRevoker {
  listGrants(
    caller: {
      operatorId: string;
      username: string;
      groups: readonly string[];
      permissions: ReadonlySet<string>;
    },
    query: { limit: number; mine?: boolean; cursor?: string; status?: 'pending' | 'provisioning' | 'active' },
  ): Promise<{ items: { id: string }[]; nextCursor: string | null }>;
  revokeGrant(ctx: RequestContext, caller: Principal, id: string, comment?: string): Promise<unknown>;
}

export interface OperatorAdminDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  audit: AuditAppender;
  customers: { getCustomer(ref: string): Promise<{ id: string; name: string }> };
  grants: GrantRevoker;
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();
const same = (a: readonly string[], b: readonly string[]) => sorted(a).join(',') === sorted(b).join(',');

/**
 * Administration of operators: roles, groups, customer scopes and deactivation. Only admins reach it
 * (the routes need `operators:write`), and nobody changes their own account here.
 */
export function createOperatorAdminService(deps: OperatorAdminDeps) {
  const { db } = deps.store;

  async function find(ref: string): Promise<Operator> {
    const operator = /^[0-9a-f-]{36}$/.test(ref)
      ? await identityStore.operatorById(db, ref)
      : await identityStore.operatorByUsername(db, ref);
    if (!operator) throw new NotFoundError('Operator', ref);
    return operator;
  }

  async function revokeGrantsOf(ctx: RequestContext, caller: Principal, operator: Operator) {
    const holder = {
      operatorId: operator.id,
      username: operator.username,
      groups: operator.groups,
      permissions: new Set<string>(['access:request']),
    };
    const live: string[] = [];
    for (const status of ['pending', 'provisioning', 'active'] as const) {
      let cursor: string | undefined;
      do {
        const page = await deps.grants.listGrants(holder, {
          limit: 200,
          mine: true,
          status,
          ...(cursor ? { cursor } : {}),
        });
        live.push(...page.items.map((g) => g.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    const failed: { grant: string; message: string }[] = [];
    for (const id of live) {
      try {
        await deps.grants.revokeGrant(ctx, caller, id, `operator ${operator.username} deactivated`);
      } catch (error) {
        failed.push({ grant: id, message: (error as Error).message });
      }
    }
    return { revoked: live.length - failed.length, failed };
  }

  return {
    /**
     * Changes an operator's roles, groups, customer scope or active flag, audited. Deactivating ends
     * their sessions and tokens at once, then revokes their live grants through access.
     */
    async updateOperator(ctx: RequestContext, caller: Principal, ref: string, input: UpdateOperatorInput) {
      const operator = await find(ref);
      if (operator.id === caller.operatorId) {
        throw new ForbiddenError(
          'Nobody changes their own roles, groups, scope or status: ask another admin',
        );
      }
      const customers =
        input.customers === undefined
          ? undefined
          : await Promise.all(input.customers.map((c) => deps.customers.getCustomer(c)));
      const roles =
        input.roles === undefined ? undefined : sorted(['requester', ...input.roles]).filter(isRole);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (roles && !same(roles, operator.roles)) changes.roles = { from: operator.roles, to: roles };
      if (input.groups && !same(input.groups, operator.groups))
        changes.groups = { from: operator.groups, to: sorted(input.groups) };
      const customerIds = customers?.map((c) => c.id);
      if (customerIds && !same(customerIds, operator.customerIds))
        changes.customers = { from: operator.customerIds, to: customers!.map((c) => c.name) };
      if (input.active !== undefined && input.active !== operator.active)
        changes.active = { from: operator.active, to: input.active };
      if (Object.keys(changes).length === 0) return { operator, grantsRevoked: 0, grantsNotRevoked: [] };

      const deactivating = input.active === false && operator.active;
      const updated = await db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const next: Operator = {
          ...operator,
          roles: roles ?? operator.roles,
          groups: input.groups ? sorted(input.groups) : operator.groups,
          customerIds: customerIds ? sorted(customerIds) : operator.customerIds,
          active: input.active ?? operator.active,
          updatedAt: now,
        };
        const written = await identityStore.updateOperator(tx, next, operator.updatedAt);
        if (!written) throw new ConflictError(`Operator ${operator.username} changed meanwhile; try again`);
        let tokensRevoked = 0;
        let sessionsEnded = 0;
        if (deactivating) {
          tokensRevoked = await identityStore.revokeTokensOf(tx, operator.id, now);
          sessionsEnded = await sessionStore.revokeAllOf(tx, operator.id, now);
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: deactivating ? 'operator.deactivated' : 'operator.updated',
          target: { type: 'operator', id: operator.id },
          details: {
            username: operator.username,
            changes,
            ...(deactivating ? { tokensRevoked, sessionsEnded } : {}),
          },
        });
        return next;
      });
      if (!deactivating) return { operator: updated, grantsRevoked: 0, grantsNotRevoked: [] };
      const grants = await revokeGrantsOf(ctx, caller, updated);
      return { operator: updated, grantsRevoked: grants.revoked, grantsNotRevoked: grants.failed };
    },
  };
}

export type OperatorAdminService = ReturnType<typeof createOperatorAdminService>;

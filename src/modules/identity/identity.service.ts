import type { Clock, Ids } from '../../platform/clock.js';
import { generateToken, hashToken, TOKEN_PREFIX } from '../../platform/crypto.js';
import { pgErrorCode, PgCode, type Executor, type Store } from '../../platform/db/store.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../../platform/errors.js';
import { systemActor, type AuditAppender, type RequestContext } from '../audit/audit.types.js';
import { effectiveRoles, permissionsOf, type Role } from './domain/roles.js';
import type { CreateOperatorInput, CreateTokenInput } from './identity.schemas.js';
import { identityStore } from './identity.store.js';
import type { ApiToken, Operator, Principal } from './identity.types.js';

const DAY = 24 * 60 * 60 * 1000;
/** last_used_at is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface IdentityServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
}

export function createIdentityService(deps: IdentityServiceDeps) {
  const { db } = deps.store;

  async function issueToken(
    tx: Executor,
    owner: Operator,
    input: { name: string; expiresInDays: number; roles: Role[] },
    secret: string = generateToken(),
  ) {
    const now = deps.clock.now();
    const token: ApiToken = {
      id: deps.ids.uuid(),
      operatorId: owner.id,
      name: input.name,
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      roles: input.roles,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresInDays * DAY),
      revokedAt: null,
      lastUsedAt: null,
    };
    try {
      await identityStore.insertToken(tx, token, hashToken(secret));
    } catch (error) {
      if (pgErrorCode(error) === PgCode.uniqueViolation) {
        throw new ConflictError(
          `You already have a token named '${input.name}'; choose another name or revoke it`,
        );
      }
      throw error;
    }
    return { ...token, token: secret };
  }

  return {
    /**
     * On a store with no operators: creates the first admin and a token for it, and returns the token
     * (to print once). With `presetToken` (GATEHOUSE_BOOTSTRAP_TOKEN), registers that one instead.
     */
    async bootstrap(presetToken?: string): Promise<{ username: string; token: string } | undefined> {
      if (presetToken !== undefined && (!presetToken.startsWith(TOKEN_PREFIX) || presetToken.length < 40)) {
        throw new ValidationError(
          `GATEHOUSE_BOOTSTRAP_TOKEN must start with '${TOKEN_PREFIX}' and be at least 40 characters`,
        );
      }
      return db.transaction().execute(async (tx) => {
        // one bootstrap even when several nodes start at once
        await tx.selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.val(7070_0003)]).as('l')).execute();
        if ((await identityStore.countOperators(tx)) > 0) return undefined;
        const now = deps.clock.now();
        const admin: Operator = {
          id: deps.ids.uuid(),
          username: 'admin',
          displayName: 'First administrator',
          email: null,
          groups: [],
          roles: ['admin'],
          active: true,
          customerIds: [],
          createdAt: now,
          updatedAt: now,
        };
        await identityStore.insertOperator(tx, admin);
        const ctx: RequestContext = { actor: systemActor('bootstrap') };
        await deps.audit.append(tx, {
          ...ctx,
          action: 'operator.created',
          target: { type: 'operator', id: admin.id },
          details: {
            username: admin.username,
            roles: admin.roles,
            reason: 'first administrator of a new store',
          },
        });
        const issued = await issueToken(
          tx,
          admin,
          { name: 'bootstrap', expiresInDays: 30, roles: ['admin'] },
          presetToken,
        );
        await deps.audit.append(tx, {
          ...ctx,
          action: 'token.created',
          target: { type: 'token', id: issued.id },
          details: {
            operator: admin.username,
            name: issued.name,
            prefix: issued.prefix,
            expiresAt: issued.expiresAt,
          },
        });
        return { username: admin.username, token: issued.token };
      });
    },

    /**
     * Resolves a bearer token to the caller, or fails with 401 without saying which check failed.
     * Token use is recorded as last-use time only (to the minute), not audited: every call would be an
     * event, and the calls themselves are audited where they change something. A known token refused
     * (expired, revoked, owner deactivated) is audited every time (`token.refused`); an unknown token
     * is refused without an event (anyone can send one; the request log has it, without the secret).
     */
    async authenticate(
      secret: string,
      where: { requestId?: string; sourceIp?: string } = {},
    ): Promise<Principal> {
      if (!secret.startsWith(TOKEN_PREFIX)) throw new UnauthenticatedError('Invalid API token');
      const found = await identityStore.tokenWithOwnerByHash(db, hashToken(secret));
      const now = deps.clock.now();
      if (!found) throw new UnauthenticatedError('Invalid, expired or revoked API token');
      const { token, owner } = found;
      const actor = { type: 'token' as const, id: token.operatorId, name: owner.username };
      if (!owner.active || token.revokedAt || token.expiresAt <= now) {
        await db.transaction().execute((tx) =>
          deps.audit.append(tx, {
            ...where,
            actor,
            action: 'token.refused',
            target: { type: 'token', id: token.id },
            details: {
              prefix: token.prefix,
              reason: !owner.active ? 'owner-inactive' : token.revokedAt ? 'revoked' : 'expired',
            },
          }),
        );
        throw new UnauthenticatedError('Invalid, expired or revoked API token');
      }
      if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await identityStore.markTokenUsed(db, token.id, now);
      }
      const held = effectiveRoles(owner.roles, token.roles);
      return {
        operatorId: token.operatorId,
        username: owner.username,
        groups: owner.groups,
        roles: held,
        permissions: permissionsOf(held),
        customerIds: owner.customerIds,
        tokenId: token.id,
        sessionId: null,
      };
    },

    async createOperator(ctx: RequestContext, input: CreateOperatorInput): Promise<Operator> {
      return db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const operator: Operator = {
          id: deps.ids.uuid(),
          username: input.username,
          displayName: input.displayName,
          email: input.email ?? null,
          groups: [...new Set(input.groups)],
          roles: [...new Set<Role>(['requester', ...input.roles])],
          active: true,
          customerIds: [],
          createdAt: now,
          updatedAt: now,
        };
        try {
          await identityStore.insertOperator(tx, operator);
        } catch (error) {
          if (pgErrorCode(error) === PgCode.uniqueViolation) {
            throw new ConflictError(`An operator named '${input.username}' already exists`);
          }
          throw error;
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: 'operator.created',
          target: { type: 'operator', id: operator.id },
          details: { username: operator.username, groups: operator.groups, roles: operator.roles },
        });
        return operator;
      });
    },

    listOperators: () => identityStore.listOperators(db),

    async getOperator(ref: string): Promise<Operator> {
      const operator = /^[0-9a-f-]{36}$/.test(ref)
        ? await identityStore.operatorById(db, ref)
        : await identityStore.operatorByUsername(db, ref);
      if (!operator) throw new NotFoundError('Operator', ref);
      return operator;
    },

    async createToken(ctx: RequestContext, principal: Principal, input: CreateTokenInput) {
      const requested = [...new Set(input.roles ?? [])];
      // a token never mints a token that can do more than itself
      const beyond = [...permissionsOf(requested)].filter((p) => !principal.permissions.has(p));
      if (beyond.length > 0) {
        throw new ForbiddenError(
          `A new token cannot do more than the one creating it; not allowed: ${beyond.join(', ')}`,
        );
      }
      return db.transaction().execute(async (tx) => {
        const owner = await identityStore.operatorById(tx, principal.operatorId);
        if (!owner) throw new NotFoundError('Operator', principal.operatorId);
        const held = effectiveRoles(owner.roles, []);
        const notHeld = requested.filter((r) => !held.includes(r));
        if (notHeld.length > 0) {
          throw new ForbiddenError(
            `A token can only carry roles you hold; you do not hold: ${notHeld.join(', ')}`,
          );
        }
        const issued = await issueToken(tx, owner, {
          name: input.name,
          expiresInDays: input.expiresInDays,
          roles: requested.length > 0 ? requested : principal.roles,
        });
        await deps.audit.append(tx, {
          ...ctx,
          action: 'token.created',
          target: { type: 'token', id: issued.id },
          details: {
            operator: owner.username,
            name: issued.name,
            prefix: issued.prefix,
            roles: issued.roles,
            expiresAt: issued.expiresAt,
          },
        });
        return issued;
      });
    },

    listTokens: (principal: Principal) => identityStore.listTokens(db, principal.operatorId),

    async revokeToken(ctx: RequestContext, principal: Principal, tokenId: string): Promise<ApiToken> {
      return db.transaction().execute(async (tx) => {
        const token = await identityStore.tokenById(tx, tokenId);
        // someone else's token is "not found" unless the caller administers operators
        if (
          !token ||
          (token.operatorId !== principal.operatorId && !principal.permissions.has('operators:write'))
        ) {
          throw new NotFoundError('Token', tokenId);
        }
        if (token.revokedAt) return token;
        const now = deps.clock.now();
        await identityStore.revokeToken(tx, token.id, now);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'token.revoked',
          target: { type: 'token', id: token.id },
          details: { name: token.name, prefix: token.prefix, ownerId: token.operatorId },
        });
        return { ...token, revokedAt: now };
      });
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

import type { Executor } from '../../platform/db/store.js';
import type { Row } from '../../platform/db/schema.js';
import { isRole } from './domain/roles.js';
import type { ApiToken, Operator } from './identity.types.js';

export function toOperator(row: Row<'operators'>): Operator {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    groups: row.groups,
    roles: row.roles.filter(isRole),
    active: row.active,
    customerIds: row.customer_ids,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toToken(row: Row<'api_tokens'>): ApiToken {
  return {
    id: row.id,
    operatorId: row.operator_id,
    name: row.name,
    prefix: row.token_prefix,
    roles: row.roles.filter(isRole),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export const identityStore = {
  async countOperators(db: Executor): Promise<number> {
    const row = await db
      .selectFrom('operators')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async insertOperator(db: Executor, operator: Operator): Promise<void> {
    await db
      .insertInto('operators')
      .values({
        id: operator.id,
        username: operator.username,
        display_name: operator.displayName,
        email: operator.email,
        groups: operator.groups,
        roles: operator.roles,
        active: operator.active,
        customer_ids: operator.customerIds,
        created_at: operator.createdAt,
        updated_at: operator.updatedAt,
      })
      .execute();
  },

  async operatorById(db: Executor, id: string): Promise<Operator | undefined> {
    const row = await db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toOperator(row) : undefined;
  },

  async operatorByUsername(db: Executor, username: string): Promise<Operator | undefined> {
    const row = await db
      .selectFrom('operators')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row ? toOperator(row) : undefined;
  },

  async listOperators(db: Executor): Promise<Operator[]> {
    const rows = await db.selectFrom('operators').selectAll().orderBy('username').execute();
    return rows.map(toOperator);
  },

  async insertToken(db: Executor, token: ApiToken, tokenHash: string): Promise<void> {
    await db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        operator_id: token.operatorId,
        name: token.name,
        token_hash: tokenHash,
        token_prefix: token.prefix,
        roles: token.roles,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
  },

  async tokenWithOwnerByHash(db: Executor, tokenHash: string) {
    const row = await db
      .selectFrom('api_tokens as t')
      .innerJoin('operators as o', 'o.id', 't.operator_id')
      .selectAll('t')
      .select(['o.username', 'o.groups', 'o.roles as operator_roles', 'o.active', 'o.customer_ids'])
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      token: toToken(row),
      owner: {
        username: row.username,
        groups: row.groups,
        roles: row.operator_roles,
        active: row.active,
        customerIds: row.customer_ids,
      },
    };
  },

  async tokenById(db: Executor, id: string): Promise<ApiToken | undefined> {
    const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : undefined;
  },

  async listTokens(db: Executor, operatorId: string): Promise<ApiToken[]> {
    const rows = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toToken);
  },

  async markTokenUsed(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  },

  /** Writes roles, groups, scope and active flag if the row is still as read (optimistic); false otherwise. */
  async updateOperator(db: Executor, operator: Operator, expectedUpdatedAt: Date): Promise<boolean> {
    const result = await db
      .updateTable('operators')
      .set({
        roles: operator.roles,
        groups: operator.groups,
        customer_ids: operator.customerIds,
        active: operator.active,
        updated_at: operator.updatedAt,
      })
      .where('id', '=', operator.id)
      .where('updated_at', '=', expectedUpdatedAt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Revokes every live token of an operator; returns how many. */
  async revokeTokensOf(db: Executor, operatorId: string, at: Date): Promise<number> {
    const result = await db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('operator_id', '=', operatorId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  async revokeToken(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
  },
};

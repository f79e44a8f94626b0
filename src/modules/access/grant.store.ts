import type { Selectable } from 'kysely';
import type { AccessGrantsTable } from '../../platform/db/schema.js';
import type { Executor } from '../../platform/db/store.js';
import type { GrantStatus } from './domain/grant-machine.js';
import type { Lease } from './domain/lease.js';
import type { RevokeReason } from './domain/types.js';
import { liveGrantStatuses, type GrantRecord } from './access.types.js';

/** SQL for grants. A grant row is the grant machine's state plus its account, holder and sealed password. */

type GrantRow = Selectable<AccessGrantsTable>;

function leaseOf(row: GrantRow): Lease {
  if (row.lease_started_at !== null && row.not_after !== null) {
    return { startedAt: row.lease_started_at, notAfter: row.not_after, claimDeadline: row.claim_deadline };
  }
  if (row.claim_deadline === null) {
    throw new Error(`grant ${row.id} has neither a running lease nor a claim deadline`);
  }
  return { startedAt: null, notAfter: null, claimDeadline: row.claim_deadline };
}

function toGrant(row: GrantRow): GrantRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    assetId: row.asset_id,
    holderId: row.holder_id,
    accountName: row.account_name,
    level: row.level,
    state: {
      status: row.status as GrantStatus,
      durationMs: Number(row.duration_ms),
      maxDurationMs: Number(row.max_duration_ms),
      lease: leaseOf(row),
      revealedAt: row.revealed_at,
      endReason: row.end_reason as RevokeReason | null,
      attempts: { provision: row.provision_attempts, revoke: row.revoke_attempts },
      endedAt: row.ended_at,
    },
    sealedPassword: row.sealed_password,
    revealedBy:
      row.revealed_by === null ? null : { id: row.revealed_by, username: row.revealed_by_name ?? '' },
    lastError: row.last_error,
    revocationFailed: row.revocation_failed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function columns(g: GrantRecord) {
  const s = g.state;
  return {
    status: s.status,
    duration_ms: s.durationMs,
    max_duration_ms: s.maxDurationMs,
    lease_started_at: s.lease.startedAt,
    not_after: s.lease.notAfter,
    claim_deadline: s.lease.claimDeadline,
    sealed_password: g.sealedPassword,
    revealed_at: s.revealedAt,
    revealed_by: g.revealedBy?.id ?? null,
    revealed_by_name: g.revealedBy?.username ?? null,
    end_reason: s.endReason,
    provision_attempts: s.attempts.provision,
    revoke_attempts: s.attempts.revoke,
    last_error: g.lastError,
    revocation_failed: g.revocationFailed,
    ended_at: s.endedAt,
    updated_at: g.updatedAt,
  };
}

export interface GrantFilters {
  holderId?: string | undefined;
  status?: GrantStatus | undefined;
  assetId?: string | undefined;
  before?: string | undefined;
  limit: number;
}

export const grantStore = {
  async insert(executor: Executor, g: GrantRecord): Promise<void> {
    await executor
      .insertInto('access_grants')
      .values({
        id: g.id,
        request_id: g.requestId,
        asset_id: g.assetId,
        holder_id: g.holderId,
        account_name: g.accountName,
        level: g.level,
        created_at: g.createdAt,
        ...columns(g),
      })
      .execute();
  },

  async update(executor: Executor, g: GrantRecord): Promise<void> {
    await executor.updateTable('access_grants').set(columns(g)).where('id', '=', g.id).execute();
  },

  async byId(
    executor: Executor,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<GrantRecord | undefined> {
    let query = executor.selectFrom('access_grants').selectAll().where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toGrant(row) : undefined;
  },

  async byRequest(
    executor: Executor,
    requestId: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<GrantRecord | undefined> {
    let query = executor.selectFrom('access_grants').selectAll().where('request_id', '=', requestId);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toGrant(row) : undefined;
  },

  /** The request a grant belongs to, read without a lock (to lock the request first, then the grant). */
  async requestIdOf(executor: Executor, grantId: string): Promise<string | undefined> {
    const row = await executor
      .selectFrom('access_grants')
      .select('request_id')
      .where('id', '=', grantId)
      .executeTakeFirst();
    return row?.request_id;
  },

  async list(executor: Executor, filters: GrantFilters): Promise<GrantRecord[]> {
    let query = executor.selectFrom('access_grants').selectAll();
    if (filters.holderId) query = query.where('holder_id', '=', filters.holderId);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.assetId) query = query.where('asset_id', '=', filters.assetId);
    if (filters.before) query = query.where('id', '<', filters.before);
    const rows = await query.orderBy('id', 'desc').limit(filters.limit).execute();
    return rows.map(toGrant);
  },

  /** Grants not yet ended: after a restart, each gets the work its state calls for. */
  async inFlight(executor: Executor): Promise<GrantRecord[]> {
    const rows = await executor
      .selectFrom('access_grants')
      .selectAll()
      .where('status', 'in', [...liveGrantStatuses])
      .orderBy('id')
      .execute();
    return rows.map(toGrant);
  },

  /** Account names on these assets that belong to a grant whose account may exist. */
  async liveAccountNames(executor: Executor, assetIds: readonly string[]): Promise<Set<string>> {
    if (assetIds.length === 0) return new Set();
    const rows = await executor
      .selectFrom('access_grants')
      .select('account_name')
      .where('asset_id', 'in', [...assetIds])
      .where('status', 'in', [...liveGrantStatuses])
      .execute();
    return new Set(rows.map((r) => r.account_name));
  },

  async countRevocationFailed(executor: Executor): Promise<number> {
    const row = await executor
      .selectFrom('access_grants')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('revocation_failed', '=', true)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

import type { Selectable } from 'kysely';
import type { AccessRequestsTable, AccessReviewsTable } from '../../platform/db/schema.js';
import type { Executor } from '../../platform/db/store.js';
import type { ApprovalRequirement } from './domain/approvals.js';
import type { GrantTerms } from './domain/policy.js';
import type { RequestStatus, Review } from './domain/request-machine.js';
import type { AccessRequestRecord } from './access.types.js';

/**
 * SQL for the policy set and access requests with their reviews (grants: grant.store.ts). Every
 * method takes the executor it runs on: the transaction of the change it is part of, or the database.
 */

export interface PolicySetRecord {
  version: number;
  document: unknown;
  checksum: string;
  createdAt: Date;
  createdBy: string;
  comment: string;
}

type RequestRow = Selectable<AccessRequestsTable>;
type ReviewRow = Selectable<AccessReviewsTable>;

function toRequest(row: RequestRow, reviews: ReviewRow[]): AccessRequestRecord {
  return {
    id: row.id,
    requesterUsername: row.requester_username,
    assetId: row.asset_id,
    assetName: row.asset_name,
    level: row.level,
    durationMs: Number(row.duration_ms),
    reason: row.reason,
    ticket: row.ticket,
    fileTransfer: row.file_transfer,
    breakGlass: row.break_glass,
    policy: row.policy,
    policyVersion: row.policy_version,
    terms: row.terms as GrantTerms,
    onTicketClose: row.on_ticket_close,
    state: {
      status: row.status,
      requesterId: row.requester_id,
      approvals: row.approvals as ApprovalRequirement,
      reviewDeadline: row.review_deadline,
      reviews: reviews.map((r): Review => ({
        reviewerId: r.reviewer_id,
        verdict: r.verdict,
        comment: r.comment,
        at: r.reviewed_at,
        countedFor: r.counted_for,
        afterDecision: r.after_decision,
      })),
      autoApproved: row.auto_approved,
      breakGlass: row.post_review === null ? null : { postReview: row.post_review },
      decidedAt: row.decided_at,
      issuedAt: row.issued_at,
    },
    reviewerNames: Object.fromEntries(reviews.map((r) => [r.reviewer_id, r.reviewer_username])),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stateColumns(r: AccessRequestRecord) {
  const s = r.state;
  return {
    status: s.status,
    review_deadline: s.reviewDeadline,
    auto_approved: s.autoApproved,
    post_review: s.breakGlass?.postReview ?? null,
    decided_at: s.decidedAt,
    issued_at: s.issuedAt,
    updated_at: r.updatedAt,
  };
}

async function reviewsOf(db: Executor, ids: readonly string[]): Promise<Map<string, ReviewRow[]>> {
  const byRequest = new Map<string, ReviewRow[]>();
  if (ids.length === 0) return byRequest;
  const rows = await db
    .selectFrom('access_reviews')
    .selectAll()
    .where('request_id', 'in', [...ids])
    .orderBy('reviewed_at')
    .orderBy('reviewer_id')
    .execute();
  for (const row of rows) byRequest.set(row.request_id, [...(byRequest.get(row.request_id) ?? []), row]);
  return byRequest;
}

export interface RequestFilters {
  requesterId?: string | undefined;
  status?: RequestStatus | undefined;
  assetId?: string | undefined;
  /** Ids before this one (newest first). */
  before?: string | undefined;
  limit: number;
}

export const requestStore = {
  async insert(executor: Executor, r: AccessRequestRecord): Promise<void> {
    await executor
      .insertInto('access_requests')
      .values({
        id: r.id,
        requester_id: r.state.requesterId,
        requester_username: r.requesterUsername,
        asset_id: r.assetId,
        asset_name: r.assetName,
        level: r.level,
        duration_ms: r.durationMs,
        reason: r.reason,
        ticket: r.ticket,
        file_transfer: r.fileTransfer,
        break_glass: r.breakGlass,
        policy: r.policy,
        policy_version: r.policyVersion,
        terms: JSON.stringify(r.terms),
        approvals: JSON.stringify(r.state.approvals),
        on_ticket_close: r.onTicketClose,
        created_at: r.createdAt,
        ...stateColumns(r),
      })
      .execute();
  },

  /** Writes the machine's state and any reviews the record has that the store does not. */
  async update(db: Executor, r: AccessRequestRecord): Promise<void> {
    await db.updateTable('access_requests').set(stateColumns(r)).where('id', '=', r.id).execute();
    const stored = (await reviewsOf(db, [r.id])).get(r.id) ?? [];
    const known = new Set(stored.map((s) => s.reviewer_id));
    const added = r.state.reviews.filter((review) => !known.has(review.reviewerId));
    if (added.length === 0) return;
    await db
      .insertInto('access_reviews')
      .values(
        added.map((review) => ({
          request_id: r.id,
          reviewer_id: review.reviewerId,
          reviewer_username: r.reviewerNames[review.reviewerId] ?? review.reviewerId,
          verdict: review.verdict,
          comment: review.comment,
          counted_for: review.countedFor,
          after_decision: review.afterDecision,
          reviewed_at: review.at,
        })),
      )
      .execute();
  },

  async byId(
    db: Executor,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<AccessRequestRecord | undefined> {
    let query = db.selectFrom('access_requests').selectAll().where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    return toRequest(row, (await reviewsOf(db, [id])).get(id) ?? []);
  },

  async list(db: Executor, filters: RequestFilters): Promise<AccessRequestRecord[]> {
    let query = db.selectFrom('access_requests').selectAll();
    if (filters.requesterId) query = query.where('requester_id', '=', filters.requesterId);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.assetId) query = query.where('asset_id', '=', filters.assetId);
    if (filters.before) query = query.where('id', '<', filters.before);
    const rows = await query.orderBy('id', 'desc').limit(filters.limit).execute();
    const reviews = await reviewsOf(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((row) => toRequest(row, reviews.get(row.id) ?? []));
  },

  /** Ids of requests still awaiting review: to schedule their expiry again after a restart. */
  async pendingIds(executor: Executor): Promise<{ id: string; reviewDeadline: Date | null }[]> {
    const rows = await executor
      .selectFrom('access_requests')
      .select(['id', 'review_deadline'])
      .where('status', '=', 'pending-approval')
      .execute();
    return rows.map((r) => ({ id: r.id, reviewDeadline: r.review_deadline }));
  },

  /** Open requests that name a ticket, locked, oldest first. */
  async openForTicket(executor: Executor, ticket: string): Promise<string[]> {
    const rows = await executor
      .selectFrom('access_requests')
      .select('id')
      .where('ticket', '=', ticket)
      .where('status', 'in', ['pending-approval', 'approved', 'issued'])
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  },
};

export const policyStore = {
  async current(executor: Executor): Promise<PolicySetRecord | undefined> {
    const row = await executor
      .selectFrom('access_policy_sets')
      .selectAll()
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row
      ? {
          version: row.version,
          document: row.document,
          checksum: row.checksum,
          createdAt: row.created_at,
          createdBy: row.created_by,
          comment: row.comment,
        }
      : undefined;
  },

  async insert(executor: Executor, record: PolicySetRecord): Promise<void> {
    await executor
      .insertInto('access_policy_sets')
      .values({
        version: record.version,
        document: JSON.stringify(record.document),
        checksum: record.checksum,
        created_at: record.createdAt,
        created_by: record.createdBy,
        comment: record.comment,
      })
      .execute();
  },

  /** Serialises policy changes: the next version number is read under this lock. */
  async lock(executor: Executor): Promise<void> {
    await executor
      .selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.val(7070_0006)]).as('l'))
      .execute();
  },
};

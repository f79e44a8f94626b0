import type { Selectable } from 'kysely';
import type { AccessExtensionReviewsTable, AccessExtensionsTable } from '../../platform/db/schema.js';
import type { Executor } from '../../platform/db/store.js';
import type { ApprovalRequirement } from './domain/approvals.js';
import type { ExtensionStatus } from './domain/extension-machine.js';
import type { ExtensionRecord } from './access.types.js';

/** SQL for grant extensions and their reviews. Every method takes the executor it runs on. */

type ExtensionRow = Selectable<AccessExtensionsTable>;
type ReviewRow = Selectable<AccessExtensionReviewsTable>;

function toExtension(row: ExtensionRow, reviews: ReviewRow[]): ExtensionRecord {
  return {
    id: row.id,
    grantId: row.grant_id,
    requesterUsername: row.requester_username,
    reason: row.reason,
    policy: row.policy,
    policyVersion: row.policy_version,
    capped: row.capped,
    state: {
      status: row.status,
      requesterId: row.requester_id,
      fromNotAfter: row.from_not_after,
      notAfter: row.not_after,
      maxDurationMs: Number(row.max_duration_ms),
      approvals: row.approvals as ApprovalRequirement,
      reviewDeadline: row.review_deadline,
      reviews: reviews.map((r) => ({
        reviewerId: r.reviewer_id,
        verdict: r.verdict,
        comment: r.comment,
        at: r.reviewed_at,
        countedFor: r.counted_for,
        afterDecision: false,
      })),
      autoApproved: row.auto_approved,
      breakGlass: row.break_glass,
      decidedAt: row.decided_at,
    },
    reviewerNames: Object.fromEntries(reviews.map((r) => [r.reviewer_id, r.reviewer_username])),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const stateColumns = (e: ExtensionRecord) => ({
  status: e.state.status,
  review_deadline: e.state.reviewDeadline,
  decided_at: e.state.decidedAt,
  updated_at: e.updatedAt,
});

async function reviewsOf(db: Executor, ids: readonly string[]): Promise<Map<string, ReviewRow[]>> {
  const byExtension = new Map<string, ReviewRow[]>();
  if (ids.length === 0) return byExtension;
  const rows = await db
    .selectFrom('access_extension_reviews')
    .selectAll()
    .where('extension_id', 'in', [...ids])
    .orderBy('reviewed_at')
    .orderBy('reviewer_id')
    .execute();
  for (const row of rows) {
    byExtension.set(row.extension_id, [...(byExtension.get(row.extension_id) ?? []), row]);
  }
  return byExtension;
}

export interface ExtensionFilters {
  requesterId?: string | undefined;
  grantId?: string | undefined;
  status?: ExtensionStatus | undefined;
  /** Ids before this one (newest first). */
  before?: string | undefined;
  limit: number;
}

export const extensionStore = {
  async insert(db: Executor, e: ExtensionRecord): Promise<void> {
    await db
      .insertInto('access_extensions')
      .values({
        id: e.id,
        grant_id: e.grantId,
        requester_id: e.state.requesterId,
        requester_username: e.requesterUsername,
        reason: e.reason,
        policy: e.policy,
        policy_version: e.policyVersion,
        from_not_after: e.state.fromNotAfter,
        not_after: e.state.notAfter,
        max_duration_ms: e.state.maxDurationMs,
        capped: e.capped,
        approvals: JSON.stringify(e.state.approvals),
        auto_approved: e.state.autoApproved,
        break_glass: e.state.breakGlass,
        created_at: e.createdAt,
        ...stateColumns(e),
      })
      .execute();
  },

  /** Writes the machine's state and any reviews the record has that the store does not. */
  async update(db: Executor, e: ExtensionRecord): Promise<void> {
    await db.updateTable('access_extensions').set(stateColumns(e)).where('id', '=', e.id).execute();
    const stored = (await reviewsOf(db, [e.id])).get(e.id) ?? [];
    const known = new Set(stored.map((s) => s.reviewer_id));
    const added = e.state.reviews.filter((r) => !known.has(r.reviewerId));
    if (added.length === 0) return;
    await db
      .insertInto('access_extension_reviews')
      .values(
        added.map((r) => ({
          extension_id: e.id,
          reviewer_id: r.reviewerId,
          reviewer_username: e.reviewerNames[r.reviewerId] ?? r.reviewerId,
          verdict: r.verdict,
          comment: r.comment,
          counted_for: r.countedFor,
          reviewed_at: r.at,
        })),
      )
      .execute();
  },

  async byId(
    db: Executor,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<ExtensionRecord | undefined> {
    let query = db.selectFrom('access_extensions').selectAll().where('id', '=', id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    return toExtension(row, (await reviewsOf(db, [id])).get(id) ?? []);
  },

  /** The grant's extension awaiting review, if any (at most one: a unique index says so). */
  async pendingFor(
    db: Executor,
    grantId: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<ExtensionRecord | undefined> {
    let query = db
      .selectFrom('access_extensions')
      .selectAll()
      .where('grant_id', '=', grantId)
      .where('status', '=', 'pending-approval');
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    return toExtension(row, (await reviewsOf(db, [row.id])).get(row.id) ?? []);
  },

  async list(db: Executor, filters: ExtensionFilters): Promise<ExtensionRecord[]> {
    let query = db.selectFrom('access_extensions').selectAll();
    if (filters.requesterId) query = query.where('requester_id', '=', filters.requesterId);
    if (filters.grantId) query = query.where('grant_id', '=', filters.grantId);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.before) query = query.where('id', '<', filters.before);
    const rows = await query.orderBy('id', 'desc').limit(filters.limit).execute();
    const reviews = await reviewsOf(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((row) => toExtension(row, reviews.get(row.id) ?? []));
  },

  /** Extensions awaiting review: to schedule their expiry again after a restart. */
  async pending(db: Executor): Promise<{ id: string; reviewDeadline: Date | null }[]> {
    const rows = await db
      .selectFrom('access_extensions')
      .select(['id', 'review_deadline'])
      .where('status', '=', 'pending-approval')
      .execute();
    return rows.map((r) => ({ id: r.id, reviewDeadline: r.review_deadline }));
  },
};

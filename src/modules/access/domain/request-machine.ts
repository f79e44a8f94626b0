import { eligibleGroups, tallyApprovals } from './approvals.js';
import type { ApprovalRequirement, ApprovalTally } from './approvals.js';
import type { PolicyDecision } from './policy.js';
import { listOf, refuse } from './types.js';
import type { RevokeReason, Transition } from './types.js';

/**
 * The access request state machine, pure.
 *
 *   pending-approval ──approve (quorum met)──► approved ──credentials-issued──► issued
 *          │ deny / cancel / expire                │ deny / cancel
 *          ▼                                       ▼
 *   denied | cancelled | expired  ◄────────────────┘ (with revoke-grant: nothing was issued yet)
 *
 * The decision is frozen once credentials are issued: a deny then leaves the request `issued` and
 * yields `revoke-grant` instead — a request is never marked denied after its credentials went out.
 * Only the move into `approved` emits `provision-grant`, so a request that is denied, cancelled or
 * expired never led to provisioning on its own; one denied or cancelled after approval but before issue
 * carries `revoke-grant`, which the grant machine honours before the credential can ever be revealed.
 *
 * Break-glass requests start `approved` (self-approved, with an alert) and are reviewed afterwards with
 * the same approve and deny events: enough approvals accept it, one deny rejects it and revokes.
 */

export const requestStatuses = [
  'pending-approval',
  'approved',
  'issued',
  'denied',
  'cancelled',
  'expired',
] as const;
export type RequestStatus = (typeof requestStatuses)[number];

export const requestEventTypes = ['approve', 'deny', 'cancel', 'expire', 'credentials-issued'] as const;
export type RequestEventType = (typeof requestEventTypes)[number];

/** A reviewer with the operator groups they are in now; they count for those groups only. */
export interface Reviewer {
  id: string;
  groups: readonly string[];
}

export interface Review {
  reviewerId: string;
  verdict: 'approve' | 'deny';
  comment: string;
  at: Date;
  /** The reviewer's groups that gave them a say, as they were at the time. */
  countedFor: string[];
  /** Given after the request was decided: a break-glass review, or a late deny. */
  afterDecision: boolean;
}

export type PostReview = 'pending' | 'accepted' | 'rejected';

export interface AccessRequestState {
  status: RequestStatus;
  requesterId: string;
  approvals: ApprovalRequirement;
  /** When an unreviewed request expires; null when it was never pending. */
  reviewDeadline: Date | null;
  reviews: readonly Review[];
  autoApproved: boolean;
  /** Null for ordinary requests; for break-glass, where its review afterwards stands. */
  breakGlass: { postReview: PostReview } | null;
  decidedAt: Date | null;
  issuedAt: Date | null;
}

export type RequestEvent =
  | { type: 'approve'; reviewer: Reviewer; comment: string; at: Date }
  | { type: 'deny'; reviewer: Reviewer; comment: string; at: Date }
  | { type: 'cancel'; by: { id: string; admin: boolean }; at: Date }
  | { type: 'expire'; now: Date }
  | { type: 'credentials-issued'; at: Date };

export type RequestAuditAction =
  | 'access-request.created'
  | 'access-request.auto-approved'
  | 'access-request.reviewed'
  | 'access-request.approved'
  | 'access-request.denied'
  | 'access-request.denied-after-issue'
  | 'access-request.cancelled'
  | 'access-request.expired'
  | 'access-request.credentials-issued'
  | 'access-request.credentials-without-approval'
  | 'break-glass.opened'
  | 'break-glass.reviewed'
  | 'break-glass.accepted'
  | 'break-glass.rejected';

export type RequestNotice =
  | 'review-requested'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'expired'
  | 'access-revoked'
  | 'break-glass-opened';

export type RequestEffect =
  /** Create the grant (state `pending`) and enqueue its provisioning job, in this transaction. */
  | { type: 'provision-grant' }
  /** Send the request's grant the `revoke` event; a grant already ending or ended needs nothing more. */
  | { type: 'revoke-grant'; reason: RevokeReason }
  | { type: 'notify'; to: 'requester' | 'approvers' | 'security'; notice: RequestNotice }
  /** Page someone and count it in the alert metric. */
  | { type: 'alert'; alert: 'break-glass-opened' | 'credentials-without-approval' }
  | { type: 'audit'; action: RequestAuditAction };

export type RequestRefusalCode =
  | 'refused'
  | 'self-review'
  | 'not-an-approver'
  | 'already-reviewed'
  | 'comment-required'
  | 'review-window-closed'
  | 'already-decided'
  | 'not-your-request'
  | 'break-glass-not-cancellable'
  | 'already-issued'
  | 'not-pending'
  | 'not-yet-due'
  | 'request-closed';

export type RequestTransition = Transition<AccessRequestState, RequestEffect, RequestRefusalCode>;

const ok = (state: AccessRequestState, ...effects: RequestEffect[]): RequestTransition => ({
  ok: true,
  state,
  effects,
});
const audit = (action: RequestAuditAction): RequestEffect => ({ type: 'audit', action });
const notify = (to: 'requester' | 'approvers' | 'security', notice: RequestNotice): RequestEffect => ({
  type: 'notify',
  to,
  notice,
});

/** A new request from the policy's decision. A refused decision opens nothing. */
export function openRequest(decision: PolicyDecision, requesterId: string, at: Date): RequestTransition {
  if (decision.outcome === 'refused') {
    return refuse('refused', decision.reasons.map((r) => r.message).join('; '));
  }
  const base: AccessRequestState = {
    status: 'approved',
    requesterId,
    approvals: decision.approvals,
    reviewDeadline: null,
    reviews: [],
    autoApproved: false,
    breakGlass: null,
    decidedAt: at,
    issuedAt: null,
  };
  switch (decision.outcome) {
    case 'needs-approval':
      return ok(
        { ...base, status: 'pending-approval', reviewDeadline: decision.reviewDeadline, decidedAt: null },
        audit('access-request.created'),
        notify('approvers', 'review-requested'),
      );
    case 'auto-approved':
      return ok(
        { ...base, autoApproved: true },
        audit('access-request.created'),
        audit('access-request.auto-approved'),
        notify('requester', 'approved'),
        { type: 'provision-grant' },
      );
    case 'break-glass':
      return ok(
        { ...base, breakGlass: { postReview: 'pending' } },
        audit('access-request.created'),
        audit('break-glass.opened'),
        { type: 'alert', alert: 'break-glass-opened' },
        notify('security', 'break-glass-opened'),
        notify('approvers', 'review-requested'),
        { type: 'provision-grant' },
      );
  }
}

export function transitionRequest(request: AccessRequestState, event: RequestEvent): RequestTransition {
  switch (event.type) {
    case 'approve':
      return approve(request, event);
    case 'deny':
      return deny(request, event);
    case 'cancel':
      return cancel(request, event);
    case 'expire':
      return expire(request, event.now);
    case 'credentials-issued':
      return credentialsIssued(request, event.at);
  }
}

/** Where the approvals stand: for a review screen, or to say who is still needed. */
export function tallyOf(request: AccessRequestState): ApprovalTally {
  const approvals = request.reviews
    .filter((r) => r.verdict === 'approve')
    .map((r) => ({ reviewerId: r.reviewerId, groups: r.countedFor }));
  return tallyApprovals(request.approvals, approvals, request.requesterId);
}

const isClosed = (status: RequestStatus) =>
  status === 'denied' || status === 'cancelled' || status === 'expired';

function closed(request: AccessRequestState): RequestTransition {
  return refuse(
    'request-closed',
    `the request is ${request.status}; submit a new request if access is still needed`,
  );
}

/** Checks every review must pass; returns the review to record, or the refusal. */
function review(
  request: AccessRequestState,
  event: Extract<RequestEvent, { type: 'approve' | 'deny' }>,
  afterDecision: boolean,
): Review | RequestTransition {
  const { reviewer } = event;
  if (reviewer.id === request.requesterId) {
    const instead = event.type === 'deny' ? '; cancel it instead' : '';
    return refuse('self-review', `you cannot review your own request${instead}`);
  }
  const countedFor = eligibleGroups(request.approvals, reviewer.groups);
  if (countedFor.length === 0) {
    const groups = [...new Set([...request.approvals.approverGroups, ...request.approvals.requiredGroups])];
    return refuse('not-an-approver', `only members of ${listOf(groups, 'or')} may review this request`);
  }
  if (request.reviews.some((r) => r.reviewerId === reviewer.id)) {
    return refuse('already-reviewed', 'you have already reviewed this request; a reviewer counts once');
  }
  if (!afterDecision && request.reviewDeadline !== null && event.at >= request.reviewDeadline) {
    return refuse(
      'review-window-closed',
      `the review window closed at ${request.reviewDeadline.toISOString()}; the request expires and must be submitted again`,
    );
  }
  return {
    reviewerId: reviewer.id,
    verdict: event.type,
    comment: event.comment,
    at: event.at,
    countedFor,
    afterDecision,
  };
}

const isRefusal = (value: Review | RequestTransition): value is RequestTransition => 'ok' in value;

function approve(
  request: AccessRequestState,
  event: Extract<RequestEvent, { type: 'approve' }>,
): RequestTransition {
  if (isClosed(request.status)) return closed(request);
  const pending = request.status === 'pending-approval';
  if (!pending && request.breakGlass?.postReview !== 'pending') {
    return refuse(
      'already-decided',
      `the request is already ${request.status}; there is nothing left to approve`,
    );
  }
  const recorded = review(request, event, !pending);
  if (isRefusal(recorded)) return recorded;
  const next: AccessRequestState = { ...request, reviews: [...request.reviews, recorded] };
  const satisfied = tallyOf(next).satisfied;
  if (!pending) {
    if (!satisfied) return ok(next, audit('break-glass.reviewed'));
    return ok({ ...next, breakGlass: { postReview: 'accepted' } }, audit('break-glass.accepted'));
  }
  if (!satisfied) return ok(next, audit('access-request.reviewed'));
  return ok(
    { ...next, status: 'approved', decidedAt: event.at },
    audit('access-request.approved'),
    notify('requester', 'approved'),
    { type: 'provision-grant' },
  );
}

function deny(
  request: AccessRequestState,
  event: Extract<RequestEvent, { type: 'deny' }>,
): RequestTransition {
  if (isClosed(request.status)) return closed(request);
  if (event.comment.trim() === '') {
    return refuse('comment-required', 'say why you deny it: the requester sees your comment');
  }
  const pending = request.status === 'pending-approval';
  const recorded = review(request, event, !pending);
  if (isRefusal(recorded)) return recorded;
  const reviews = [...request.reviews, recorded];
  const breakGlass = request.breakGlass && { postReview: 'rejected' as const };
  const rejected = breakGlass ? [audit('break-glass.rejected'), notify('security', 'access-revoked')] : [];
  switch (request.status) {
    case 'pending-approval':
      return ok(
        { ...request, reviews, status: 'denied', decidedAt: event.at },
        audit('access-request.denied'),
        notify('requester', 'denied'),
      );
    case 'approved':
      // Nothing issued yet: the deny still decides, and the grant is stopped before it can be revealed.
      return ok(
        { ...request, reviews, breakGlass, status: 'denied', decidedAt: event.at },
        audit('access-request.denied'),
        ...rejected,
        notify('requester', 'denied'),
        { type: 'revoke-grant', reason: 'request-denied' },
      );
    case 'issued':
      // Frozen: credentials went out, so the deny revokes the grant and the request stays issued.
      return ok(
        { ...request, reviews, breakGlass },
        audit('access-request.denied-after-issue'),
        ...rejected,
        notify('requester', 'access-revoked'),
        { type: 'revoke-grant', reason: 'late-denial' },
      );
  }
}

function cancel(
  request: AccessRequestState,
  event: Extract<RequestEvent, { type: 'cancel' }>,
): RequestTransition {
  if (isClosed(request.status)) return closed(request);
  if (event.by.id !== request.requesterId && !event.by.admin) {
    return refuse('not-your-request', 'only the requester or an admin may cancel a request');
  }
  const cancelled: AccessRequestState = {
    ...request,
    status: 'cancelled',
    decidedAt: request.decidedAt ?? event.at,
  };
  switch (request.status) {
    case 'pending-approval':
      return ok(cancelled, audit('access-request.cancelled'), notify('approvers', 'cancelled'));
    case 'approved':
      if (request.breakGlass) {
        return refuse(
          'break-glass-not-cancellable',
          'break-glass access is not cancelled but revoked, and it is still reviewed afterwards; revoke the grant',
        );
      }
      return ok(cancelled, audit('access-request.cancelled'), {
        type: 'revoke-grant',
        reason: 'request-cancelled',
      });
    case 'issued':
      return refuse('already-issued', 'credentials have been issued; revoke the grant to end the access');
  }
}

function expire(request: AccessRequestState, now: Date): RequestTransition {
  switch (request.status) {
    case 'pending-approval':
      if (request.reviewDeadline === null || now < request.reviewDeadline) {
        return refuse(
          'not-yet-due',
          `the request can be reviewed until ${request.reviewDeadline?.toISOString()}`,
        );
      }
      return ok(
        { ...request, status: 'expired', decidedAt: now },
        audit('access-request.expired'),
        notify('requester', 'expired'),
      );
    case 'approved':
    case 'issued':
      return refuse('not-pending', "only requests awaiting review expire; the grant's lease ends the access");
    case 'denied':
    case 'cancelled':
    case 'expired':
      return closed(request);
  }
}

function credentialsIssued(request: AccessRequestState, at: Date): RequestTransition {
  switch (request.status) {
    case 'approved':
      return ok({ ...request, status: 'issued', issuedAt: at }, audit('access-request.credentials-issued'));
    case 'issued':
      return ok(request); // a replayed job outcome: already recorded
    case 'pending-approval':
    case 'denied':
    case 'cancelled':
    case 'expired':
      // Cannot happen while the grant machine holds; if it does, take the access away and raise it loudly.
      return ok(
        request,
        audit('access-request.credentials-without-approval'),
        { type: 'alert', alert: 'credentials-without-approval' },
        { type: 'revoke-grant', reason: 'credentials-without-approval' },
      );
  }
}

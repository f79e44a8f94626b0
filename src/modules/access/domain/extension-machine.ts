import { eligibleGroups, tallyApprovals } from './approvals.js';
import type { ApprovalRequirement, ApprovalTally } from './approvals.js';
import type { ExtensionDecision } from './lease.js';
import type { Review, Reviewer } from './request-machine.js';
import { listOf, refuse } from './types.js';
import type { Transition } from './types.js';

/**
 * An extension of a running grant, pure. The policy decides it as it would a new request for the total
 * time from the grant's start (see `evaluateExtension`); what it decides opens the extension:
 *
 *   (auto-approved, break-glass) ──────────────────────────────► approved  (extend-grant)
 *   (needs approval) ► pending-approval ──approve (quorum met)──► approved  (extend-grant)
 *                             │ deny / cancel / expire (deadline passed, or the grant ended first)
 *                             ▼
 *                      denied | cancelled | expired
 *
 * Only the move into `approved` emits `extend-grant`, once. The review deadline is the policy's review
 * window, but never later than the lease's current end: an extension nobody reviewed before the grant
 * ends expires with it. Reviews follow the request's rules: not the requester, an eligible group, a
 * reviewer counts once, a deny says why.
 */

export const extensionStatuses = ['pending-approval', 'approved', 'denied', 'cancelled', 'expired'] as const;
export type ExtensionStatus = (typeof extensionStatuses)[number];

export const extensionEventTypes = ['approve', 'deny', 'cancel', 'expire'] as const;
export type ExtensionEventType = (typeof extensionEventTypes)[number];

export interface ExtensionState {
  status: ExtensionStatus;
  requesterId: string;
  /** Where the lease ended when the extension was asked for. */
  fromNotAfter: Date;
  /** Where the lease ends once the extension is approved (already capped at the policy maximum). */
  notAfter: Date;
  /** The governing policy's maximum from the grant's start; the grant machine checks against it. */
  maxDurationMs: number;
  approvals: ApprovalRequirement;
  /** When a pending extension expires unreviewed; null when it was never pending. */
  reviewDeadline: Date | null;
  reviews: readonly Review[];
  autoApproved: boolean;
  breakGlass: boolean;
  decidedAt: Date | null;
}

export type ExtensionEvent =
  | { type: 'approve'; reviewer: Reviewer; comment: string; at: Date }
  | { type: 'deny'; reviewer: Reviewer; comment: string; at: Date }
  | { type: 'cancel'; by: { id: string; admin: boolean }; at: Date }
  /** The deadline job, or the grant ending (revoked, expired) while the extension waits. */
  | { type: 'expire'; now: Date; grantEnded: boolean };

export type ExtensionAuditAction =
  | 'access-extension.requested'
  | 'access-extension.auto-approved'
  | 'access-extension.break-glass'
  | 'access-extension.reviewed'
  | 'access-extension.approved'
  | 'access-extension.denied'
  | 'access-extension.cancelled'
  | 'access-extension.expired';

export type ExtensionEffect =
  /** Send the grant machine `extend` to `notAfter`: the reaper's due time and the native expiry move. */
  | { type: 'extend-grant'; notAfter: Date; maxDurationMs: number }
  | {
      type: 'notify';
      to: 'requester' | 'approvers';
      notice: 'review-requested' | 'approved' | 'denied' | 'cancelled' | 'expired';
    }
  | { type: 'alert'; alert: 'break-glass-opened' }
  | { type: 'audit'; action: ExtensionAuditAction };

export type ExtensionRefusalCode =
  | 'refused'
  | 'self-review'
  | 'not-an-approver'
  | 'already-reviewed'
  | 'comment-required'
  | 'review-window-closed'
  | 'already-decided'
  | 'not-your-extension'
  | 'not-pending'
  | 'not-yet-due'
  | 'extension-closed';

export type ExtensionTransition = Transition<ExtensionState, ExtensionEffect, ExtensionRefusalCode>;

const ok = (state: ExtensionState, ...effects: ExtensionEffect[]): ExtensionTransition => ({
  ok: true,
  state,
  effects,
});
const audit = (action: ExtensionAuditAction): ExtensionEffect => ({ type: 'audit', action });
const extendGrant = (s: ExtensionState): ExtensionEffect => ({
  type: 'extend-grant',
  notAfter: s.notAfter,
  maxDurationMs: s.maxDurationMs,
});

/** A new extension from the policy's decision on a lease ending at `fromNotAfter`. Refused opens nothing. */
export function openExtension(
  decision: ExtensionDecision,
  requesterId: string,
  fromNotAfter: Date,
  at: Date,
): ExtensionTransition {
  if (decision.outcome === 'refused') {
    return refuse('refused', decision.reasons.map((r) => r.message).join('; '));
  }
  const base: ExtensionState = {
    status: 'approved',
    requesterId,
    fromNotAfter,
    notAfter: decision.notAfter,
    maxDurationMs: decision.maxDurationMs,
    approvals: { quorum: 0, approverGroups: [], requiredGroups: [] },
    reviewDeadline: null,
    reviews: [],
    autoApproved: false,
    breakGlass: false,
    decidedAt: at,
  };
  switch (decision.outcome) {
    case 'auto-approved': {
      const state = { ...base, autoApproved: true };
      return ok(
        state,
        audit('access-extension.requested'),
        audit('access-extension.auto-approved'),
        extendGrant(state),
      );
    }
    case 'break-glass': {
      const state = { ...base, breakGlass: true };
      return ok(
        state,
        audit('access-extension.requested'),
        audit('access-extension.break-glass'),
        { type: 'alert', alert: 'break-glass-opened' },
        extendGrant(state),
      );
    }
    case 'needs-approval': {
      const deadline = Math.min(decision.reviewDeadline.getTime(), fromNotAfter.getTime());
      return ok(
        {
          ...base,
          status: 'pending-approval',
          approvals: decision.approvals,
          reviewDeadline: new Date(deadline),
          decidedAt: null,
        },
        audit('access-extension.requested'),
        { type: 'notify', to: 'approvers', notice: 'review-requested' },
      );
    }
  }
}

export function transitionExtension(state: ExtensionState, event: ExtensionEvent): ExtensionTransition {
  switch (event.type) {
    case 'approve':
    case 'deny':
      return reviewed(state, event);
    case 'cancel':
      return cancel(state, event);
    case 'expire':
      return expire(state, event);
  }
}

/** Where the approvals stand, for a review screen. */
export function extensionTally(state: ExtensionState): ApprovalTally {
  const approvals = state.reviews
    .filter((r) => r.verdict === 'approve')
    .map((r) => ({ reviewerId: r.reviewerId, groups: r.countedFor }));
  return tallyApprovals(state.approvals, approvals, state.requesterId);
}

function notPending(state: ExtensionState): ExtensionTransition | null {
  switch (state.status) {
    case 'pending-approval':
      return null;
    case 'approved':
      return refuse('already-decided', 'the extension is already approved; the grant runs until its new end');
    case 'denied':
    case 'cancelled':
    case 'expired':
      return refuse(
        'extension-closed',
        `the extension is ${state.status}; ask for a new one if the grant is still running`,
      );
  }
}

function reviewed(
  state: ExtensionState,
  event: Extract<ExtensionEvent, { type: 'approve' | 'deny' }>,
): ExtensionTransition {
  const closed = notPending(state);
  if (closed) return closed;
  const { reviewer } = event;
  if (reviewer.id === state.requesterId) {
    const instead = event.type === 'deny' ? '; cancel it instead' : '';
    return refuse('self-review', `you cannot review your own extension${instead}`);
  }
  const countedFor = eligibleGroups(state.approvals, reviewer.groups);
  if (countedFor.length === 0) {
    const groups = [...new Set([...state.approvals.approverGroups, ...state.approvals.requiredGroups])];
    return refuse('not-an-approver', `only members of ${listOf(groups, 'or')} may review this extension`);
  }
  if (state.reviews.some((r) => r.reviewerId === reviewer.id)) {
    return refuse('already-reviewed', 'you have already reviewed this extension; a reviewer counts once');
  }
  if (event.type === 'deny' && event.comment.trim() === '') {
    return refuse('comment-required', 'say why you deny it: the holder sees your comment');
  }
  if (state.reviewDeadline !== null && event.at >= state.reviewDeadline) {
    return refuse(
      'review-window-closed',
      `the review window closed at ${state.reviewDeadline.toISOString()}; the extension expires unreviewed`,
    );
  }
  const review: Review = {
    reviewerId: reviewer.id,
    verdict: event.type,
    comment: event.comment,
    at: event.at,
    countedFor,
    afterDecision: false,
  };
  const next: ExtensionState = { ...state, reviews: [...state.reviews, review] };
  if (event.type === 'deny') {
    return ok({ ...next, status: 'denied', decidedAt: event.at }, audit('access-extension.denied'), {
      type: 'notify',
      to: 'requester',
      notice: 'denied',
    });
  }
  if (!extensionTally(next).satisfied) return ok(next, audit('access-extension.reviewed'));
  const approved: ExtensionState = { ...next, status: 'approved', decidedAt: event.at };
  return ok(
    approved,
    audit('access-extension.approved'),
    { type: 'notify', to: 'requester', notice: 'approved' },
    extendGrant(approved),
  );
}

function cancel(
  state: ExtensionState,
  event: Extract<ExtensionEvent, { type: 'cancel' }>,
): ExtensionTransition {
  const closed = notPending(state);
  if (closed) return closed;
  if (event.by.id !== state.requesterId && !event.by.admin) {
    return refuse('not-your-extension', 'only the grant’s holder or an admin may cancel an extension');
  }
  return ok({ ...state, status: 'cancelled', decidedAt: event.at }, audit('access-extension.cancelled'), {
    type: 'notify',
    to: 'approvers',
    notice: 'cancelled',
  });
}

function expire(
  state: ExtensionState,
  event: Extract<ExtensionEvent, { type: 'expire' }>,
): ExtensionTransition {
  if (state.status === 'approved') {
    return refuse('not-pending', 'only extensions awaiting review expire; this one is approved');
  }
  const closed = notPending(state);
  if (closed) return closed;
  const due = state.reviewDeadline === null || event.now >= state.reviewDeadline;
  if (!event.grantEnded && !due) {
    return refuse(
      'not-yet-due',
      `the extension can be reviewed until ${state.reviewDeadline?.toISOString()}`,
    );
  }
  return ok({ ...state, status: 'expired', decidedAt: event.now }, audit('access-extension.expired'), {
    type: 'notify',
    to: 'requester',
    notice: 'expired',
  });
}

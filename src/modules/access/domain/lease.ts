import { formatDuration } from './duration.js';
import { evaluateRequest, maxDurationFor } from './policy.js';
import type { AccessRequestInput, EvaluationContext, Policy, PolicyDecision, RefusalCode } from './policy.js';
import type { ApprovalRequirement } from './approvals.js';
import type { ClockStart } from './policy-schema.js';
import type { Refusal } from './types.js';

/**
 * A grant's lease: when its clock starts and when it ends. Pure arithmetic over instants passed in.
 *
 * - `at-approval`: the clock starts when the request is approved; notAfter = approval + duration.
 *   Time spent provisioning counts.
 * - `at-first-reveal`: the clock starts when the holder first reveals the credential; notAfter =
 *   reveal + duration. Until then the grant waits at most the claim window from approval and is
 *   revoked unclaimed when it passes.
 */

export type Lease =
  | { startedAt: Date; notAfter: Date; claimDeadline: Date | null }
  | { startedAt: null; notAfter: null; claimDeadline: Date };

const plus = (at: Date, ms: number) => new Date(at.getTime() + ms);

export function openLease(clockStart: ClockStart, durationMs: number, approvedAt: Date): Lease {
  switch (clockStart.mode) {
    case 'at-approval':
      return { startedAt: approvedAt, notAfter: plus(approvedAt, durationMs), claimDeadline: null };
    case 'at-first-reveal':
      return { startedAt: null, notAfter: null, claimDeadline: plus(approvedAt, clockStart.claimWindow) };
  }
}

/** The lease once the credential is first revealed; a lease already running is unchanged. */
export function startAtReveal(lease: Lease, durationMs: number, revealedAt: Date): Lease {
  if (lease.startedAt !== null) return lease;
  return {
    startedAt: revealedAt,
    notAfter: plus(revealedAt, durationMs),
    claimDeadline: lease.claimDeadline,
  };
}

/**
 * When the lease reaper must end the grant: notAfter, or the claim deadline while unclaimed. Also the
 * native expiry to set on the target (`VALID UNTIL`, `useradd -e`): never later than the lease.
 */
export function leaseDueAt(lease: Lease): Date {
  return lease.notAfter ?? lease.claimDeadline;
}

export type ExtensionRefusalCode = RefusalCode | 'not-started' | 'lease-ended' | 'at-maximum';

type Extended = {
  policy: string;
  /** The new end of the lease. */
  notAfter: Date;
  /** True when the requested extension was shortened to the policy maximum. */
  capped: boolean;
  /** The governing policy's maximum from the original start; the grant machine re-checks against it. */
  maxDurationMs: number;
};

export type ExtensionDecision =
  | { outcome: 'refused'; reasons: Refusal<ExtensionRefusalCode>[] }
  | (Extended & { outcome: 'auto-approved' | 'break-glass' })
  | (Extended & { outcome: 'needs-approval'; approvals: ApprovalRequirement; reviewDeadline: Date });

/**
 * Whether a running grant may be extended by `extendByMs`, and to when. The original request is
 * evaluated again against today's policies, ticket and groups with the total duration from the lease's
 * original start, so the extension meets the same conditions a new request of that length would
 * (auto-approval included: two auto-approved hours in a row are not a loophole for a 1 h rule). A
 * request beyond the maximum is capped at it rather than refused; one already at it is refused.
 */
export function evaluateExtension(
  policies: readonly Policy[],
  original: AccessRequestInput,
  lease: Lease,
  extendByMs: number,
  context: EvaluationContext,
): ExtensionDecision {
  const refused = (code: ExtensionRefusalCode, message: string): ExtensionDecision => ({
    outcome: 'refused',
    reasons: [{ code, message }],
  });
  if (lease.startedAt === null) {
    return refused('not-started', 'the clock starts at the first reveal: there is nothing to extend yet');
  }
  if (context.now >= lease.notAfter) {
    return refused('lease-ended', 'the grant has ended; request new access');
  }
  if (!Number.isSafeInteger(extendByMs) || extendByMs <= 0) {
    return refused('duration-invalid', 'ask for a positive extension, like 30m');
  }
  const start = lease.startedAt.getTime();
  const wanted = lease.notAfter.getTime() + extendByMs - start;
  let decision = evaluateRequest(policies, { ...original, durationMs: wanted }, context);
  let total = wanted;
  if (decision.outcome === 'refused') {
    const others = decision.reasons.filter((r) => r.code !== 'duration-exceeds-maximum');
    const governing = policies.find((p) => p.name === decision.policy);
    if (others.length > 0 || !governing) return { outcome: 'refused', reasons: decision.reasons };
    total = maxDurationFor(governing, original.breakGlass);
    if (start + total <= lease.notAfter.getTime()) {
      return refused(
        'at-maximum',
        `the grant already runs the maximum of ${formatDuration(total)} from its start at ${lease.startedAt.toISOString()}; request new access when it ends`,
      );
    }
    decision = evaluateRequest(policies, { ...original, durationMs: total }, context);
  }
  return extended(decision, new Date(start + total), total < wanted);
}

function extended(decision: PolicyDecision, notAfter: Date, capped: boolean): ExtensionDecision {
  switch (decision.outcome) {
    case 'refused':
      return { outcome: 'refused', reasons: decision.reasons };
    case 'auto-approved':
    case 'break-glass':
      return { outcome: decision.outcome, ...extendedBy(decision), notAfter, capped };
    case 'needs-approval':
      return {
        outcome: 'needs-approval',
        ...extendedBy(decision),
        notAfter,
        capped,
        approvals: decision.approvals,
        reviewDeadline: decision.reviewDeadline,
      };
  }
}

const extendedBy = (decision: Exclude<PolicyDecision, { outcome: 'refused' }>) => ({
  policy: decision.policy,
  maxDurationMs: decision.terms.maxDurationMs,
});

import type { ApprovalRequirement } from './approvals.js';
import {
  evaluateRequest,
  maxDurationFor,
  type AccessRequestInput,
  type EvaluationContext,
  type PolicyDecision,
  type RefusalCode,
} from './policy.js';
import type { ClockStart, Policy } from './policy-schema.js';
import type { PermissionLevel, Refusal } from './types.js';

/**
 * What the policies say about a request before it is made: the same evaluation request creation runs
 * (evaluateRequest), plus what the governing policy offers around it (its maximum, its approvals, its
 * auto-approval rules, whether break-glass would be allowed instead). Pure; nothing is recorded.
 */

export interface AutoApprovalHint {
  levels: PermissionLevel[];
  tiers: string[] | null;
  maxDurationMs: number;
  requireTicket: boolean;
  fileTransfer: boolean;
}

export interface PolicyPreview {
  outcome: PolicyDecision['outcome'];
  /** True when a request with exactly these fields would be accepted (auto-approved, for review, or break-glass). */
  allowed: boolean;
  /** The governing policy; null when no policy applies at all. */
  policy: string | null;
  applicable: string[];
  /** Why not, every reason at once; empty when allowed. */
  reasons: Refusal<RefusalCode>[];
  /** The longest duration the governing policy allows for this request (break-glass: its own maximum). */
  maxDurationMs: number | null;
  /** Who must approve; null when no policy governs. After the fact for break-glass. */
  approvals: (ApprovalRequirement & { reviewWindowMs: number }) | null;
  autoApproved: boolean;
  /** The governing policy's auto-approval rules, so a form can say what would be approved at once. */
  autoApprovalRules: AutoApprovalHint[];
  ticket: 'required' | 'optional' | null;
  fileTransferAllowed: boolean | null;
  clockStart: ClockStart | null;
  /** Whether the same request as break-glass would be allowed, and if not, why. */
  breakGlass: {
    available: boolean;
    maxDurationMs: number | null;
    requireTicket: boolean | null;
    reasons: Refusal<RefusalCode>[];
  };
}

export function previewRequest(
  policies: readonly Policy[],
  request: AccessRequestInput,
  context: EvaluationContext,
): PolicyPreview {
  const decision = evaluateRequest(policies, request, context);
  const governing = decision.policy ? policies.find((p) => p.name === decision.policy) : undefined;
  const asBreakGlass = request.breakGlass
    ? decision
    : evaluateRequest(policies, { ...request, breakGlass: true }, context);
  const breakGlassPolicy = asBreakGlass.policy
    ? policies.find((p) => p.name === asBreakGlass.policy)
    : undefined;
  const breakGlassRule = breakGlassPolicy?.breakGlass.allowed ? breakGlassPolicy.breakGlass : undefined;
  return {
    outcome: decision.outcome,
    allowed: decision.outcome !== 'refused',
    policy: decision.policy,
    applicable: decision.applicable,
    reasons: decision.outcome === 'refused' ? decision.reasons : [],
    maxDurationMs: governing ? maxDurationFor(governing, request.breakGlass) : null,
    approvals: governing
      ? {
          quorum: governing.approvals.quorum,
          approverGroups: [...governing.approvals.approverGroups],
          requiredGroups: [...governing.approvals.requiredGroups],
          reviewWindowMs: governing.approvals.reviewWindow,
        }
      : null,
    autoApproved: decision.outcome === 'auto-approved',
    autoApprovalRules: (governing?.autoApprove ?? []).map((rule) => ({
      levels: [...rule.levels],
      tiers: rule.tiers ? [...rule.tiers] : null,
      maxDurationMs: rule.maxDuration,
      requireTicket: rule.requireTicket,
      fileTransfer: rule.fileTransfer,
    })),
    ticket: governing?.ticket ?? null,
    fileTransferAllowed: governing?.fileTransfer ?? null,
    clockStart: governing?.clockStart ?? null,
    breakGlass: {
      available: asBreakGlass.outcome !== 'refused',
      maxDurationMs: breakGlassRule?.maxDuration ?? null,
      requireTicket: breakGlassRule?.requireTicket ?? null,
      reasons: asBreakGlass.outcome === 'refused' ? asBreakGlass.reasons : [],
    },
  };
}

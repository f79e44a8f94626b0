import type { ApprovalRequirement } from './approvals.js';
import { formatDuration } from './duration.js';
import {
  allowsLevel,
  compareSpecificity,
  coversRequester,
  describeAsset,
  mostSpecific,
  selects,
  whereIs,
} from './policy-match.js';
import type { ClockStart, Policy } from './policy-schema.js';
import { listOf, permissionLevels } from './types.js';
import type { AccessTarget, Operator, PermissionLevel, Refusal } from './types.js';

export { policySchema, policySetSchema } from './policy-schema.js';
export type { AssetSelector, AutoApprovalRule, ClockStart, Policy, PolicyInput } from './policy-schema.js';

/**
 * Policy evaluation: which policy governs a request and what it decides. Pure; the service looks up
 * the requester, the asset and the ticket and passes them in.
 *
 * Precedence: among the policies that apply (see policy-match.ts), the most specific wins. When several
 * tie, each is evaluated and the most restrictive decision wins: refused, then needs-approval (more
 * approvers first), then break-glass, then auto-approved; then the smaller maximum duration; then the
 * name, so the result never depends on the order policies are listed in. No policy applies: refused.
 */

/** What an operator asks for. The route has already checked the fields' grammar. */
export interface AccessRequestInput {
  requester: Operator;
  asset: AccessTarget;
  level: PermissionLevel;
  durationMs: number;
  reason: string;
  ticketId: string | null;
  fileTransfer: boolean;
  breakGlass: boolean;
}

/** The linked ticket as the ticket registry or tracker reports it. */
export interface TicketFacts {
  id: string;
  state: 'open' | 'closed';
  /** Username or operator id of the assignee, as the tracker knows them; null when unassigned. */
  assignee: string | null;
}

export interface EvaluationContext {
  now: Date;
  /** The ticket named by the request, or null when it names none or the ticket was not found. */
  ticket: TicketFacts | null;
}

/** What a grant made from this decision will be. Frozen into the request and the grant. */
export interface GrantTerms {
  policy: string;
  level: PermissionLevel;
  durationMs: number;
  /** The longest the grant may run from its start (break-glass: its own maximum); extensions stop here. */
  maxDurationMs: number;
  clockStart: ClockStart;
  fileTransfer: boolean;
  breakGlass: boolean;
}

export type RefusalCode =
  | 'no-policy'
  | 'level-not-allowed'
  | 'break-glass-not-allowed'
  | 'reason-required'
  | 'duration-invalid'
  | 'duration-exceeds-maximum'
  | 'ticket-required'
  | 'ticket-not-found'
  | 'ticket-closed'
  | 'ticket-not-assigned'
  | 'file-transfer-not-allowed';

interface Granted {
  /** The governing policy's name. */
  policy: string;
  /** Names of every policy that applied, the governing one first, then by specificity. */
  applicable: string[];
  terms: GrantTerms;
  /**
   * Who reviews the request: before the grant when it needs approval; afterwards for break-glass; and
   * for any decision, who may still deny it later (which revokes the grant once issued).
   */
  approvals: ApprovalRequirement;
}

export type PolicyDecision =
  | { outcome: 'refused'; policy: string | null; applicable: string[]; reasons: Refusal<RefusalCode>[] }
  | (Granted & { outcome: 'auto-approved'; rule: number })
  | (Granted & { outcome: 'needs-approval'; reviewDeadline: Date })
  | (Granted & { outcome: 'break-glass' });

export function evaluateRequest(
  policies: readonly Policy[],
  request: AccessRequestInput,
  context: EvaluationContext,
): PolicyDecision {
  const applicable = policies.filter(
    (p) =>
      coversRequester(p, request.requester) &&
      selects(p.assets, request.asset) &&
      allowsLevel(p, request.level, request.breakGlass),
  );
  const tied = mostSpecific(applicable);
  if (tied.length === 0) {
    return { outcome: 'refused', policy: null, applicable: [], reasons: [noPolicyReason(policies, request)] };
  }
  const [decision] = tied
    .map((p) => decide(p, request, context))
    .sort((a, b) => compareStrictness(b, a) || byName(a.policy, b.policy));
  const { policy: governing, result } = decision!;
  const others = [...applicable]
    .sort((a, b) => compareSpecificity(a.assets, b.assets) || byName(a, b))
    .map((p) => p.name)
    .filter((n) => n !== governing.name);
  return { ...result, applicable: [governing.name, ...others] };
}

const byName = (a: Policy, b: Policy) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

type Verdict = DistributiveOmit<PolicyDecision, 'applicable'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function decide(policy: Policy, request: AccessRequestInput, context: EvaluationContext) {
  const reasons = conditionProblems(policy, request, context);
  let result: Verdict;
  if (reasons.length > 0) {
    result = { outcome: 'refused', policy: policy.name, reasons };
  } else {
    const granted = {
      policy: policy.name,
      terms: termsOf(policy, request),
      approvals: requirementOf(policy),
    };
    const rule = policy.autoApprove.findIndex((r) => qualifies(r, request, context));
    if (request.breakGlass) result = { outcome: 'break-glass', ...granted };
    else if (rule >= 0) result = { outcome: 'auto-approved', ...granted, rule };
    else {
      const reviewDeadline = new Date(context.now.getTime() + policy.approvals.reviewWindow);
      result = { outcome: 'needs-approval', ...granted, reviewDeadline };
    }
  }
  return { policy, result };
}

/** Larger is stricter: refused > needs-approval (by approvers) > break-glass > auto-approved; then shorter maximum. */
function compareStrictness(a: ReturnType<typeof decide>, b: ReturnType<typeof decide>): number {
  const key = ({ policy, result }: ReturnType<typeof decide>): number[] => {
    switch (result.outcome) {
      case 'refused':
        return [3, 0, 0, -policy.maxDuration];
      case 'needs-approval':
        return [2, result.approvals.quorum, result.approvals.requiredGroups.length, -policy.maxDuration];
      case 'break-glass':
        return [1, 0, 0, -policy.maxDuration];
      case 'auto-approved':
        return [0, 0, 0, -policy.maxDuration];
    }
  };
  const [x, y] = [key(a), key(b)];
  const i = x.findIndex((v, j) => v !== y[j]);
  return i < 0 ? 0 : x[i]! - y[i]!;
}

function termsOf(policy: Policy, request: AccessRequestInput): GrantTerms {
  return {
    policy: policy.name,
    level: request.level,
    durationMs: request.durationMs,
    maxDurationMs: maxDurationFor(policy, request.breakGlass),
    clockStart: policy.clockStart,
    fileTransfer: request.fileTransfer,
    breakGlass: request.breakGlass,
  };
}

/** The maximum a request under this policy may ask for: the break-glass maximum for break-glass. */
export function maxDurationFor(policy: Policy, breakGlass: boolean): number {
  return breakGlass && policy.breakGlass.allowed ? policy.breakGlass.maxDuration : policy.maxDuration;
}

function requirementOf(policy: Policy): ApprovalRequirement {
  const { quorum, approverGroups, requiredGroups } = policy.approvals;
  return { quorum, approverGroups: [...approverGroups], requiredGroups: [...requiredGroups] };
}

/** Every condition of the governing policy the request misses, so the user can fix them all at once. */
function conditionProblems(
  policy: Policy,
  request: AccessRequestInput,
  context: EvaluationContext,
): Refusal<RefusalCode>[] {
  const problems: Refusal<RefusalCode>[] = [];
  const where = whereIs(request.asset);
  if (request.reason.trim() === '') {
    problems.push({ code: 'reason-required', message: 'give a reason: what you will do and why' });
  }
  const max = maxDurationFor(policy, request.breakGlass);
  const kind = request.breakGlass ? 'break-glass duration' : 'duration';
  if (!Number.isSafeInteger(request.durationMs) || request.durationMs <= 0) {
    problems.push({
      code: 'duration-invalid',
      message: `ask for a positive duration, at most ${formatDuration(max)}`,
    });
  } else if (request.durationMs > max) {
    problems.push({
      code: 'duration-exceeds-maximum',
      message: `${kind} ${formatDuration(request.durationMs)} exceeds the maximum of ${formatDuration(max)} for ${request.level} on ${where}; ask for ${formatDuration(max)} or less`,
    });
  }
  const ticketRequired = request.breakGlass
    ? policy.breakGlass.allowed && policy.breakGlass.requireTicket
    : policy.ticket === 'required';
  problems.push(...ticketProblems(policy, request, context.ticket, ticketRequired));
  if (request.fileTransfer && !policy.fileTransfer) {
    problems.push({
      code: 'file-transfer-not-allowed',
      message: `file transfer is not allowed on ${where} (policy ${policy.name}); ask without file transfer`,
    });
  }
  return problems;
}

function ticketProblems(
  policy: Policy,
  request: AccessRequestInput,
  ticket: TicketFacts | null,
  required: boolean,
): Refusal<RefusalCode>[] {
  const id = request.ticketId;
  if (id === null) {
    return required
      ? [
          {
            code: 'ticket-required',
            message: `policy ${policy.name} requires a ticket: link an open ticket assigned to you`,
          },
        ]
      : [];
  }
  if (ticket === null || ticket.id !== id) {
    return [{ code: 'ticket-not-found', message: `ticket ${id} was not found; check its id` }];
  }
  if (ticket.state === 'closed') {
    return [{ code: 'ticket-closed', message: `ticket ${id} is closed; link an open ticket` }];
  }
  if (required && !assignedTo(ticket, request.requester)) {
    const who = ticket.assignee === null ? 'is unassigned' : `is assigned to ${ticket.assignee}, not to you`;
    return [
      {
        code: 'ticket-not-assigned',
        message: `ticket ${id} ${who}; have it assigned to you or link one that is`,
      },
    ];
  }
  return [];
}

function assignedTo(ticket: TicketFacts, requester: Operator): boolean {
  return (
    ticket.assignee !== null && (ticket.assignee === requester.username || ticket.assignee === requester.id)
  );
}

function qualifies(
  rule: Policy['autoApprove'][number],
  request: AccessRequestInput,
  context: EvaluationContext,
) {
  const ticket = context.ticket;
  const ticketOk =
    request.ticketId !== null &&
    ticket !== null &&
    ticket.id === request.ticketId &&
    ticket.state === 'open' &&
    assignedTo(ticket, request.requester);
  return (
    rule.levels.includes(request.level) &&
    (rule.tiers === undefined || (request.asset.tier !== null && rule.tiers.includes(request.asset.tier))) &&
    request.durationMs <= rule.maxDuration &&
    (!rule.requireTicket || ticketOk) &&
    (!request.fileTransfer || rule.fileTransfer)
  );
}

/** Default deny, explained: what the policies would have let this requester do on this asset instead. */
function noPolicyReason(policies: readonly Policy[], request: AccessRequestInput): Refusal<RefusalCode> {
  const { requester, asset, level } = request;
  const covering = policies.filter((p) => coversRequester(p, requester) && selects(p.assets, asset));
  if (covering.length === 0) {
    const message =
      requester.groups.length === 0
        ? 'you are in no operator group, and policies are written for groups; ask an admin to add you to one'
        : `no policy lets ${groupsWord(requester.groups)} request access to ${describeAsset(asset)}; ask an admin for a policy that covers it`;
    return { code: 'no-policy', message };
  }
  const groups = requester.groups.filter((g) => covering.some((p) => p.requesterGroups.includes(g)));
  const levels = (pick: (p: Policy) => readonly PermissionLevel[]) =>
    permissionLevels.filter((l) => covering.some((p) => pick(p).includes(l)));
  const allowed = levels((p) => p.levels);
  if (!request.breakGlass || !allowed.includes(level)) {
    return {
      code: 'level-not-allowed',
      message: `${level} is not allowed on ${whereIs(asset)} for ${groupsWord(groups)}; allowed: ${allowed.join(', ')}`,
    };
  }
  const breakGlass = levels((p) => (p.breakGlass.allowed ? (p.breakGlass.levels ?? p.levels) : []));
  return {
    code: 'break-glass-not-allowed',
    message:
      `break-glass is not allowed for ${level} on ${whereIs(asset)} for ${groupsWord(groups)}; ` +
      (breakGlass.length > 0
        ? `break-glass allows: ${breakGlass.join(', ')}`
        : 'request access with approval instead'),
  };
}

function groupsWord(groups: readonly string[]): string {
  return `${groups.length === 1 ? 'group' : 'groups'} ${listOf(groups)}`;
}

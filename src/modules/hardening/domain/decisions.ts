import type { CheckResult } from './evaluate.js';

/**
 * The decisions register: per rule and scope, what the organisation decided. Statuses follow the
 * ComplianceAsCode control vocabulary where it fits (`not applicable`); `enforced` means the rule is
 * applied and scanned, `exception` means it is knowingly not met, with a justification, an approver who
 * is not the author, an expiry and, ideally, a compensating control. An expired exception no longer
 * counts: the rule's failure is a finding again.
 */

export const decisionStatuses = ['enforced', 'not-applicable', 'exception'] as const;
export type DecisionStatus = (typeof decisionStatuses)[number];

/** From the broadest to the most specific; the most specific decision for an asset wins. */
export const scopeTypes = ['fleet', 'machine-type', 'customer', 'asset'] as const;
export type ScopeType = (typeof scopeTypes)[number];

export interface DecisionFacts {
  ruleId: string;
  scopeType: ScopeType;
  /** null for the fleet; the machine type's, customer's or asset's id otherwise. */
  scopeId: string | null;
  status: DecisionStatus;
  expiresAt: Date | null;
}

/** Where an asset sits: the scopes a decision may name for it. */
export interface AssetScope {
  assetId: string;
  machineTypeId: string | null;
  customerId: string | null;
}

const rank: Record<ScopeType, number> = { asset: 0, customer: 1, 'machine-type': 2, fleet: 3 };

function covers(decision: DecisionFacts, scope: AssetScope): boolean {
  switch (decision.scopeType) {
    case 'fleet':
      return true;
    case 'machine-type':
      return decision.scopeId !== null && decision.scopeId === scope.machineTypeId;
    case 'customer':
      return decision.scopeId !== null && decision.scopeId === scope.customerId;
    case 'asset':
      return decision.scopeId === scope.assetId;
  }
}

/**
 * The decision that governs a rule on an asset: the most specific one covering it (asset, then
 * customer, then machine type, then fleet), or undefined (the baseline's default: enforced).
 */
export function governingDecision<D extends DecisionFacts>(
  decisions: readonly D[],
  ruleId: string,
  scope: AssetScope,
): D | undefined {
  return decisions
    .filter((d) => d.ruleId === ruleId && covers(d, scope))
    .sort((a, b) => rank[a.scopeType] - rank[b.scopeType])[0];
}

export interface DecisionDraft {
  status: DecisionStatus;
  justification?: string | undefined;
  approver?: string | undefined;
  expiresAt?: Date | undefined;
  compensatingControl?: string | undefined;
}

/** What is wrong with a decision before it is recorded, field by field (empty when nothing). */
export function decisionProblems(
  draft: DecisionDraft,
  author: string,
  now: Date,
): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const blank = (v: string | undefined) => v === undefined || v.trim() === '';
  if (draft.status !== 'enforced' && blank(draft.justification)) {
    problems.push({
      field: 'justification',
      message: `a ${draft.status} decision needs a justification: say why`,
    });
  }
  if (draft.status === 'exception') {
    if (blank(draft.approver))
      problems.push({ field: 'approver', message: 'an exception needs an approver' });
    else if (draft.approver === author) {
      problems.push({ field: 'approver', message: 'the approver of an exception must not be its author' });
    }
    if (!draft.expiresAt) problems.push({ field: 'expiresAt', message: 'an exception needs an expiry date' });
    else if (draft.expiresAt.getTime() <= now.getTime()) {
      problems.push({ field: 'expiresAt', message: 'the expiry must be in the future' });
    }
  }
  return problems;
}

/** A scan's result for a rule once its decision is taken into account. */
export const finalResults = ['pass', 'fail', 'error', 'notapplicable', 'notchecked', 'exception'] as const;
export type FinalResult = (typeof finalResults)[number];

/** How the decision was read for this result. */
export type DecisionOutcome = DecisionStatus | 'exception-expired';

/**
 * A check's result under its governing decision: not-applicable rules are not scanned; a live
 * exception turns a failure into `exception`; an expired one leaves the failure standing.
 */
export function decide(
  checked: CheckResult,
  decision: Pick<DecisionFacts, 'status' | 'expiresAt'> | undefined,
  now: Date,
): { result: FinalResult; decision: DecisionOutcome } {
  if (!decision || decision.status === 'enforced') return { result: checked, decision: 'enforced' };
  if (decision.status === 'not-applicable') return { result: 'notapplicable', decision: 'not-applicable' };
  const live = decision.expiresAt !== null && decision.expiresAt.getTime() > now.getTime();
  if (!live) return { result: checked, decision: 'exception-expired' };
  return { result: checked === 'fail' || checked === 'error' ? 'exception' : checked, decision: 'exception' };
}

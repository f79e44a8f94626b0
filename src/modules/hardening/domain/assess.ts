import type { Baseline } from './baseline-schema.js';
import {
  decide,
  governingDecision,
  type AssetScope,
  type DecisionFacts,
  type DecisionOutcome,
  type FinalResult,
} from './decisions.js';
import { evaluateCheck, type CheckResult } from './evaluate.js';
import { planProbes, type ProbeOutput, type ScanPlan } from './scan-script.js';

/** One rule's outcome on one host: what the check found and what it counts as under its decision. */
export interface RuleResult {
  ruleId: string;
  checked: CheckResult;
  result: FinalResult;
  decision: DecisionOutcome;
  decisionId: string | null;
  observed: string;
  expected: string;
}

/** The probes of a whole baseline, planned once and reused for every host. */
export function planBaseline(baseline: Baseline): ScanPlan {
  return planProbes(baseline.rules.map((r) => r.check));
}

/**
 * Every rule of a baseline assessed on one host's probe outputs under the decisions register. Rules
 * decided not-applicable are reported as such without looking at their check.
 */
export function assess<D extends DecisionFacts & { id: string }>(
  baseline: Baseline,
  plan: ScanPlan,
  outputs: ReadonlyMap<string, ProbeOutput>,
  decisions: readonly D[],
  scope: AssetScope,
  now: Date,
): RuleResult[] {
  return baseline.rules.map((rule) => {
    const decision = governingDecision(decisions, rule.id, scope);
    const evaluation = evaluateCheck(
      rule.check,
      plan.probeIdsOf(rule.check).map((id) => outputs.get(id)),
    );
    const decided = decide(evaluation.result, decision, now);
    return {
      ruleId: rule.id,
      checked: evaluation.result,
      result: decided.result,
      decision: decided.decision,
      decisionId: decision?.id ?? null,
      observed: evaluation.observed,
      expected: evaluation.expected,
    };
  });
}

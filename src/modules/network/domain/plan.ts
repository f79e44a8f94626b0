import { describeSgRule, sgRuleKey, type SgRule } from './cloud-layer.js';
import { hostRuleKey, type HostRule, type HostTable } from './host-layer.js';
import { type ObservedHostTable } from './host-observe.js';
import { formatPorts } from './rule.js';

/**
 * Diff and plan: what a layer must gain and lose to match the compiled desired state, and the brake
 * that stops a plan removing or opening too much at once. Pure.
 */
export type Layer = 'cloud' | 'host';

export interface PlanItem {
  action: 'add' | 'remove' | 'keep';
  what: string;
  /** the rule ids behind the item (empty for unknown rules) */
  rules: string[];
}

export interface LayerPlan {
  layer: Layer;
  adds: PlanItem[];
  removals: PlanItem[];
  /** what the layer holds and keeps (an import classifies these) */
  kept: PlanItem[];
  /** what the layer holds that Gatehouse cannot express; removed by the apply */
  unknown: string[];
  /** entries the layer holds now (rules and set members), the base of the brake's shares */
  observedCount: number;
  /** quota or other problems that make the plan impossible; an apply refuses it */
  blockers: string[];
}

export function inSync(plan: LayerPlan): boolean {
  return plan.adds.length === 0 && plan.removals.length === 0 && plan.unknown.length === 0;
}

export function diffByKey<T>(
  desired: readonly T[],
  observed: readonly T[],
  key: (item: T) => string,
): { adds: T[]; removals: T[]; kept: T[] } {
  const want = new Map(desired.map((d) => [key(d), d]));
  const have = new Map(observed.map((o) => [key(o), o]));
  const adds = [...want.entries()].filter(([k]) => !have.has(k)).map(([, v]) => v);
  const removals = [...have.entries()].filter(([k]) => !want.has(k)).map(([, v]) => v);
  const kept = [...have.entries()].filter(([k]) => want.has(k)).map(([, v]) => v);
  return { adds, removals, kept };
}

function describeHostRule(rule: HostRule): string {
  const source =
    rule.source.type === 'cidr'
      ? rule.source.cidr
      : rule.source.type === 'set'
        ? `@${rule.source.set}`
        : `any IPv${rule.family}`;
  return `${rule.protocol}${rule.ports ? ` ${formatPorts(rule.ports)}` : ''} from ${source}`;
}

export function planHostLayer(desired: HostTable, observed: ObservedHostTable): LayerPlan {
  const have = observed.table ?? { sets: [], rules: [] };
  const rules = diffByKey(desired.rules, have.rules, hostRuleKey);
  const adds: PlanItem[] = rules.adds.map((r) => ({
    action: 'add',
    what: `rule ${describeHostRule(r)}`,
    rules: r.rules,
  }));
  const removals: PlanItem[] = rules.removals.map((r) => ({
    action: 'remove',
    what: `rule ${describeHostRule(r)}`,
    rules: r.rules,
  }));
  const kept: PlanItem[] = rules.kept.map((r) => ({
    action: 'keep',
    what: `rule ${describeHostRule(r)}`,
    rules: r.rules,
  }));
  const haveSets = new Map(have.sets.map((s) => [s.name, s]));
  for (const set of desired.sets) {
    const current = haveSets.get(set.name);
    const diff = diffByKey(set.elements, current?.elements ?? [], (e) => e);
    if (!current) adds.push({ action: 'add', what: `set ${set.name}`, rules: [] });
    for (const e of diff.adds) adds.push({ action: 'add', what: `${e} in set ${set.name}`, rules: [] });
    for (const e of diff.removals)
      removals.push({ action: 'remove', what: `${e} from set ${set.name}`, rules: [] });
    haveSets.delete(set.name);
  }
  for (const set of haveSets.values()) {
    removals.push({ action: 'remove', what: `set ${set.name} (${set.elements.length} members)`, rules: [] });
  }
  const unknown = [...observed.unknown];
  if (observed.table && !observed.enforcing && !unknown.some((u) => u.startsWith('chain input'))) {
    unknown.push('no input chain dropping by default');
  }
  if (!observed.table)
    adds.push({ action: 'add', what: 'table inet gatehouse (input policy drop)', rules: [] });
  const observedCount = have.rules.length + have.sets.reduce((n, s) => n + s.elements.length, 0);
  return { layer: 'host', adds, removals, kept, unknown, observedCount, blockers: [] };
}

export interface CloudQuota {
  /** inbound rules per security group (AWS default 60) */
  rulesPerGroup: number;
}

export function planCloudLayer(
  desired: readonly SgRule[],
  observed: { rules: readonly SgRule[]; unknown: readonly string[] },
  quota: CloudQuota,
): LayerPlan & { authorize: SgRule[]; revoke: SgRule[] } {
  const diff = diffByKey(desired, observed.rules, sgRuleKey);
  const blockers =
    desired.length > quota.rulesPerGroup
      ? [
          `${desired.length} rules exceed the quota of ${quota.rulesPerGroup} per security group: reference a group's security group or merge CIDRs`,
        ]
      : [];
  return {
    layer: 'cloud',
    adds: diff.adds.map((r) => ({ action: 'add', what: describeSgRule(r), rules: r.rules })),
    removals: diff.removals.map((r) => ({ action: 'remove', what: describeSgRule(r), rules: r.rules })),
    kept: diff.kept.map((r) => ({ action: 'keep', what: describeSgRule(r), rules: r.rules })),
    unknown: [...observed.unknown],
    observedCount: observed.rules.length + observed.unknown.length,
    blockers,
    authorize: diff.adds,
    revoke: diff.removals,
  };
}

export interface BrakePolicy {
  /** the largest share of what the layers hold now that one plan may remove */
  maxRemoveShare: number;
  /** the largest number of new openings, as a share of what the layers hold now */
  maxOpenShare: number;
  /** plans with at most this many removals and openings never stop */
  minChanges: number;
}

export const defaultBrakePolicy: BrakePolicy = { maxRemoveShare: 0.25, maxOpenShare: 0.5, minChanges: 3 };

export interface BrakeVerdict {
  stopped: boolean;
  removals: number;
  opens: number;
  observed: number;
  reasons: string[];
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Stops when the whole plan, or the plan of any one layer, removes or opens more than its share of
 * what is there now. Small plans (at most `minChanges` entries) never stop.
 */
export function brake(plans: readonly (LayerPlan & { label?: string })[], policy: BrakePolicy): BrakeVerdict {
  const countOf = (p: LayerPlan) => ({
    removals: p.removals.length + p.unknown.length,
    opens: p.adds.length,
    observed: p.observedCount,
  });
  const reasonsFor = (c: { removals: number; opens: number; observed: number }, who: string): string[] => {
    if (c.removals + c.opens <= policy.minChanges) return [];
    const base = Math.max(c.observed, 1);
    const out: string[] = [];
    if (c.removals / base > policy.maxRemoveShare) {
      out.push(
        `${who}removes ${c.removals} of ${c.observed} entries (${percent(c.removals / base)}, brake at ${percent(policy.maxRemoveShare)})`,
      );
    }
    if (c.opens / base > policy.maxOpenShare) {
      out.push(
        `${who}opens ${c.opens} entries on ${c.observed} existing (${percent(c.opens / base)}, brake at ${percent(policy.maxOpenShare)})`,
      );
    }
    return out;
  };
  const total = plans.map(countOf).reduce(
    (a, c) => ({
      removals: a.removals + c.removals,
      opens: a.opens + c.opens,
      observed: a.observed + c.observed,
    }),
    { removals: 0, opens: 0, observed: 0 },
  );
  const reasons = reasonsFor(total, '');
  const perLayer = plans.flatMap((p) => reasonsFor(countOf(p), `${p.label ?? p.layer}: `));
  // name a few layers, not thousands
  reasons.push(...perLayer.slice(0, 5));
  if (perLayer.length > 5) reasons.push(`${perLayer.length - 5} more layers do too`);
  return { stopped: reasons.length > 0, ...total, reasons };
}

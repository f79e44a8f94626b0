import { parseNetwork, type Family } from './addresses.js';
import { formatPorts, type PortRange, type Rule } from './rule.js';

/**
 * Compilation: the rules that apply to one asset, resolved against the members of the dynamic groups
 * they name, become one object per layer (see cloud-layer.ts and host-layer.ts). Pure.
 */
export interface AssetTarget {
  id: string;
  name: string;
  machineType: string | null;
  groups: readonly string[];
  customer: string | null;
  environment: string | null;
}

/** Member CIDRs of each dynamic group, canonical text (`192.0.2.10/32`). */
export type GroupMembers = ReadonlyMap<string, readonly string[]>;

export function ruleApplies(rule: Rule, asset: AssetTarget): boolean {
  const inScope =
    rule.scope.type === 'machine-type'
      ? rule.scope.name === asset.machineType
      : rule.scope.type === 'asset-group'
        ? asset.groups.includes(rule.scope.name)
        : rule.scope.name === asset.name;
  if (!inScope) return false;
  if (rule.kind === 'system') return true;
  return rule.customer === asset.customer && rule.environment === asset.environment;
}

export function rulesFor(rules: readonly Rule[], asset: AssetTarget): Rule[] {
  return rules.filter((rule) => ruleApplies(rule, asset));
}

export function familyOf(cidr: string): Family {
  return parseNetwork(cidr)?.family ?? 4;
}

const membersByFamily = new WeakMap<GroupMembers, Map<string, string[]>>();

/** A group's member CIDRs of one family, sorted; computed once per members map (shared: do not mutate). */
export function groupMembersOf(members: GroupMembers, group: string, family: Family): string[] {
  let cache = membersByFamily.get(members);
  if (!cache) {
    cache = new Map();
    membersByFamily.set(members, cache);
  }
  const key = `${family} ${group}`;
  let list = cache.get(key);
  if (!list) {
    list = [...(members.get(group) ?? [])].filter((cidr) => familyOf(cidr) === family).sort();
    cache.set(key, list);
  }
  return list;
}

/** Merges overlapping and adjacent port ranges. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: PortRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

export function protocolPortsKey(protocol: string, ports: PortRange | null): string {
  return `${protocol}/${formatPorts(ports)}`;
}

/**
 * The rules that can apply to an asset: all system rules and its own environment's customer rules.
 * Built once per plan, so a fleet of thousands does not scan every environment's rules per asset.
 */
export function indexRules(rules: readonly Rule[]): (asset: AssetTarget) => Rule[] {
  const system = rules.filter((r) => r.kind === 'system');
  const byEnvironment = new Map<string, Rule[]>();
  for (const rule of rules) {
    if (rule.kind !== 'customer') continue;
    const key = `${rule.customer ?? ''}/${rule.environment ?? ''}`;
    const list = byEnvironment.get(key) ?? [];
    list.push(rule);
    byEnvironment.set(key, list);
  }
  return (asset) => [
    ...system,
    ...(byEnvironment.get(`${asset.customer ?? ''}/${asset.environment ?? ''}`) ?? []),
  ];
}

import type { AssetSelector, Policy } from './policy-schema.js';
import type { AccessTarget, Operator, PermissionLevel } from './types.js';

/**
 * Which policies apply to a request, and which of them is the most specific.
 *
 * A policy *applies* when the requester is in one of its groups, its selector covers the asset and it
 * lists the requested level (for break-glass: it allows break-glass at that level). Duration, ticket,
 * file transfer and approvals are *conditions* of the winning policy, never used to choose it: a lax
 * broad policy cannot be shopped for to escape a strict specific one.
 */

export function coversRequester(policy: Policy, requester: Operator): boolean {
  return policy.requesterGroups.some((g) => requester.groups.includes(g));
}

export function selects(selector: AssetSelector, asset: AccessTarget): boolean {
  const within = <T>(values: readonly T[] | undefined, value: T | null) =>
    values === undefined || (value !== null && values.includes(value));
  return (
    within(selector.names, asset.name) &&
    (selector.assetGroups === undefined || selector.assetGroups.some((g) => asset.groups.includes(g))) &&
    within(selector.customers, asset.customer) &&
    within(selector.tiers, asset.tier) &&
    within(selector.engines, asset.engine) &&
    within(selector.kinds, asset.kind)
  );
}

export function allowsLevel(policy: Policy, level: PermissionLevel, breakGlass: boolean): boolean {
  if (!policy.levels.includes(level)) return false;
  if (!breakGlass) return true;
  return policy.breakGlass.allowed && (policy.breakGlass.levels ?? policy.levels).includes(level);
}

/**
 * Selector dimensions from most to least specific. A policy that names the asset beats one that picks
 * it by asset group, which beats one by customer, then environment tier, then engine, then kind; a
 * policy with an empty selector (every asset) comes last.
 */
export const specificityOrder = ['names', 'assetGroups', 'customers', 'tiers', 'engines', 'kinds'] as const;

/**
 * Negative when `a` is more specific than `b`, 0 when they tie. Dimensions are compared in
 * `specificityOrder`; at the first one where the two differ, a constrained dimension beats an absent
 * one and fewer listed values beat more (`[production]` beats `[production, staging]`).
 */
export function compareSpecificity(a: AssetSelector, b: AssetSelector): number {
  for (const dimension of specificityOrder) {
    const x = a[dimension]?.length ?? Infinity;
    const y = b[dimension]?.length ?? Infinity;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The policies tied for most specific among `applicable` (empty when none applies). */
export function mostSpecific(applicable: readonly Policy[]): Policy[] {
  const [first, ...rest] = [...applicable].sort((a, b) => compareSpecificity(a.assets, b.assets));
  if (!first) return [];
  return [first, ...rest.filter((p) => compareSpecificity(p.assets, first.assets) === 0)];
}

/** Human words for where an asset sits, for messages: its tier, or its name when it has none. */
export function whereIs(asset: AccessTarget): string {
  return asset.tier ?? asset.name;
}

export function describeAsset(asset: AccessTarget): string {
  const placement = [asset.customer && `customer ${asset.customer}`, asset.tier].filter(Boolean).join(', ');
  return `${asset.kind} ${asset.name}${placement ? ` (${placement})` : ''}`;
}

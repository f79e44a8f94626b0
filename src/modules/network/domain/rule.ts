import { z } from 'zod';
import { cidr } from '../../../platform/validation.js';
import { canonicalCidr, hostPrefix, parseAddress, parseNetwork, type Network } from './addresses.js';

/**
 * The rule model. A rule opens one protocol and port range on the assets of its scope to one
 * source: a CIDR, or a dynamic group whose member addresses come from the inventory. System rules
 * come from versioned files in `rules/system/`; customer rules from the API, per customer environment.
 */
export const protocols = ['tcp', 'udp', 'icmp'] as const;
export type Protocol = (typeof protocols)[number];

export const ruleKinds = ['system', 'customer'] as const;
export type RuleKind = (typeof ruleKinds)[number];

export const scopeTypes = ['machine-type', 'asset-group', 'asset'] as const;
export type ScopeType = (typeof scopeTypes)[number];

export interface Scope {
  type: ScopeType;
  /** the name of the machine type, asset group or asset */
  name: string;
}

export interface PortRange {
  from: number;
  to: number;
}

export type Source = { type: 'cidr'; cidr: string } | { type: 'group'; group: string };

export interface Rule {
  id: string;
  kind: RuleKind;
  scope: Scope;
  protocol: Protocol;
  /** absent for icmp, which has no ports */
  ports: PortRange | null;
  source: Source;
  description: string;
  owner: string;
  ticket: string | null;
  /** customer rules only: whose environment they belong to */
  customer: string | null;
  environment: string | null;
}

/**
 * Dynamic group names: `jumpboxes`, `app-tier`, `customer:acme:frontends`. Lower-case words joined by
 * dashes, segments joined by colons; nothing else reaches a firewall set name.
 */
export const GROUP_NAME = /^[a-z][a-z0-9-]{0,40}(?::[a-z0-9][a-z0-9-]{0,40}){0,3}$/;

export const groupName = z
  .string()
  .max(120, 'at most 120 characters')
  .regex(
    GROUP_NAME,
    'a group is lower-case words and dashes, segments split by ":", like customer:acme:frontends',
  );

/** Reads a source as written by people: a CIDR (a bare address means that one host) or a group name. */
export function parseSource(text: string): Source | { error: string } {
  const value = text.trim();
  if (GROUP_NAME.test(value)) return { type: 'group', group: value };
  const bare = parseAddress(value);
  const withPrefix = bare && !value.includes('/') ? `${value}/${hostPrefix(bare.family)}` : value;
  const checked = cidr.safeParse(withPrefix);
  const canonical = canonicalCidr(withPrefix);
  if (!checked.success || !canonical) {
    const why = checked.success ? 'is not a CIDR' : (checked.error.issues[0]?.message ?? 'is not a CIDR');
    return { error: `source '${text}': ${why} (a CIDR like 192.0.2.0/24, or a group like jumpboxes)` };
  }
  return { type: 'cidr', cidr: canonical };
}

export function formatSource(source: Source): string {
  return source.type === 'cidr' ? source.cidr : source.group;
}

export function sourceNetwork(source: Source): Network | undefined {
  return source.type === 'cidr' ? parseNetwork(source.cidr) : undefined;
}

/** Reads `443`, `8000-8100`; undefined when the text is not a port or range of 1-65535. */
export function parsePorts(text: string | number): PortRange | undefined {
  const value = String(text).trim();
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (!match) return undefined;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || to > 65535 || from > to) return undefined;
  return { from, to };
}

export function formatPorts(ports: PortRange | null): string {
  if (!ports) return '-';
  return ports.from === ports.to ? String(ports.from) : `${ports.from}-${ports.to}`;
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}`;
}

/** One line a person reads: `tcp 5432 from jumpboxes on machine-type:db-host`. */
export function describeRule(rule: Pick<Rule, 'protocol' | 'ports' | 'source' | 'scope'>): string {
  const ports = rule.ports ? ` ${formatPorts(rule.ports)}` : '';
  return `${rule.protocol}${ports} from ${formatSource(rule.source)} on ${formatScope(rule.scope)}`;
}

export function rangesOverlap(a: PortRange | null, b: PortRange | null): boolean {
  if (!a || !b) return a === b;
  return a.from <= b.to && b.from <= a.to;
}

export function rangeContains(outer: PortRange | null, inner: PortRange | null): boolean {
  if (!outer || !inner) return outer === inner;
  return outer.from <= inner.from && inner.to <= outer.to;
}

import { canonicalCidr } from './addresses.js';
import {
  familyOf,
  groupMembersOf,
  mergeRanges,
  rulesFor,
  type AssetTarget,
  type GroupMembers,
} from './compile.js';
import { type PortRange, type Rule } from './rule.js';
import { compareText } from './addresses.js';

/**
 * The cloud layer: security-group ingress for one asset. The model is one entry per (protocol,
 * ports, source), which is how AWS counts rules against its quota; `toIpPermissions` groups entries
 * with the same protocol and ports into the IpPermission objects the EC2 API takes. Pure.
 */
export type SgProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6';

export type SgSource = { type: 'cidr'; cidr: string } | { type: 'sg'; groupId: string };

export interface SgRule {
  protocol: SgProtocol;
  /** -1..-1 for icmp (all types) */
  from: number;
  to: number;
  source: SgSource;
  /** rule ids, written as the rule's description so an import can classify it */
  rules: string[];
}

/** The shape of `@aws-sdk/client-ec2`'s IpPermission, restated so the domain needs no SDK. */
export interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId?: string; Description?: string }[];
}

/** Dynamic groups that have a security group of their own, referenced instead of their addresses. */
export type GroupSecurityGroups = ReadonlyMap<string, string>;

export const OWNER_MARK = 'gatehouse';

export function sgRuleKey(rule: Pick<SgRule, 'protocol' | 'from' | 'to' | 'source'>): string {
  const source = rule.source.type === 'cidr' ? rule.source.cidr : rule.source.groupId;
  return `${rule.protocol} ${rule.from}-${rule.to} ${source}`;
}

export function compileSecurityGroup(
  rules: readonly Rule[],
  asset: AssetTarget,
  members: GroupMembers,
  groupSgs: GroupSecurityGroups,
): SgRule[] {
  // per protocol and source: the port ranges and the rules behind them
  const bySource = new Map<
    string,
    { protocol: SgProtocol; source: SgSource; ranges: PortRange[]; rules: Set<string> }
  >();
  const add = (protocol: SgProtocol, source: SgSource, ports: PortRange, rule: string) => {
    const key = `${protocol} ${source.type === 'cidr' ? source.cidr : source.groupId}`;
    const entry = bySource.get(key) ?? { protocol, source, ranges: [], rules: new Set<string>() };
    entry.ranges.push(ports);
    entry.rules.add(rule);
    bySource.set(key, entry);
  };
  for (const rule of rulesFor(rules, asset)) {
    const ports = rule.ports ?? { from: -1, to: -1 };
    const protocolFor = (cidr: string): SgProtocol =>
      rule.protocol === 'icmp' ? (familyOf(cidr) === 6 ? 'icmpv6' : 'icmp') : rule.protocol;
    if (rule.source.type === 'cidr') {
      add(protocolFor(rule.source.cidr), rule.source, ports, rule.id);
      continue;
    }
    const sg = groupSgs.get(rule.source.group);
    if (sg) {
      add(rule.protocol, { type: 'sg', groupId: sg }, ports, rule.id);
      if (rule.protocol === 'icmp') add('icmpv6', { type: 'sg', groupId: sg }, ports, rule.id);
      continue;
    }
    for (const family of [4, 6] as const) {
      for (const cidr of groupMembersOf(members, rule.source.group, family)) {
        add(protocolFor(cidr), { type: 'cidr', cidr }, ports, rule.id);
      }
    }
  }
  const out: SgRule[] = [];
  for (const entry of bySource.values()) {
    const rulesText = [...entry.rules].sort();
    const ranges = entry.ranges[0]?.from === -1 ? [{ from: -1, to: -1 }] : mergeRanges(entry.ranges);
    for (const range of ranges)
      out.push({ protocol: entry.protocol, ...range, source: entry.source, rules: rulesText });
  }
  return sortByKey(out);
}

/** Sorted by their keys, each key built once. */
function sortByKey(rules: SgRule[]): SgRule[] {
  return rules
    .map((rule) => [sgRuleKey(rule), rule] as const)
    .sort(([a], [b]) => compareText(a, b))
    .map(([, rule]) => rule);
}

export function describeSgRule(rule: SgRule): string {
  const ports = rule.from === -1 ? '' : rule.from === rule.to ? ` ${rule.from}` : ` ${rule.from}-${rule.to}`;
  const source = rule.source.type === 'cidr' ? rule.source.cidr : rule.source.groupId;
  return `${rule.protocol}${ports} from ${source}`;
}

/** The description written on a rule Gatehouse owns: `gatehouse: <rule ids>`, cut to AWS's 255. */
export function ownerDescription(rules: readonly string[]): string {
  return `${OWNER_MARK}: ${rules.join(' ')}`.slice(0, 255);
}

export function ruleIdsOf(description: string | undefined): string[] | undefined {
  if (!description?.startsWith(`${OWNER_MARK}:`)) return undefined;
  return description
    .slice(OWNER_MARK.length + 1)
    .split(' ')
    .filter(Boolean);
}

/** Groups entries with the same protocol and ports into IpPermissions (the "ports grouped" form). */
export function toIpPermissions(rules: readonly SgRule[]): IpPermission[] {
  const byPorts = new Map<string, IpPermission>();
  for (const rule of rules) {
    const key = `${rule.protocol} ${rule.from} ${rule.to}`;
    const permission = byPorts.get(key) ?? {
      IpProtocol: rule.protocol,
      FromPort: rule.from,
      ToPort: rule.to,
    };
    const Description = ownerDescription(rule.rules);
    if (rule.source.type === 'sg') {
      (permission.UserIdGroupPairs ??= []).push({ GroupId: rule.source.groupId, Description });
    } else if (familyOf(rule.source.cidr) === 6) {
      (permission.Ipv6Ranges ??= []).push({ CidrIpv6: rule.source.cidr, Description });
    } else {
      (permission.IpRanges ??= []).push({ CidrIp: rule.source.cidr, Description });
    }
    byPorts.set(key, permission);
  }
  return [...byPorts.values()];
}

const SG_PROTOCOLS: Record<string, SgProtocol> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
};

export interface ObservedSecurityGroup {
  rules: SgRule[];
  /** permissions Gatehouse cannot express (all protocols, other protocols, prefix lists) */
  unknown: string[];
}

/** Flattens what DescribeSecurityGroups returns into the model; descriptions carry rule ids. */
export function fromIpPermissions(permissions: readonly IpPermission[]): ObservedSecurityGroup {
  const rules: SgRule[] = [];
  const unknown: string[] = [];
  for (const p of permissions) {
    const protocol = SG_PROTOCOLS[p.IpProtocol ?? ''];
    if (!protocol) {
      unknown.push(
        `protocol ${p.IpProtocol ?? '?'} ${p.FromPort ?? ''}-${p.ToPort ?? ''} (${JSON.stringify(p)})`,
      );
      continue;
    }
    const isIcmp = protocol === 'icmp' || protocol === 'icmpv6';
    const from = isIcmp ? -1 : (p.FromPort ?? -1);
    const to = isIcmp ? -1 : (p.ToPort ?? -1);
    if (isIcmp && (p.FromPort ?? -1) !== -1) {
      unknown.push(
        `${protocol} type ${p.FromPort ?? ''} code ${p.ToPort ?? ''} (only all icmp types are modelled)`,
      );
      continue;
    }
    const push = (source: SgSource, description: string | undefined) =>
      rules.push({ protocol, from, to, source, rules: ruleIdsOf(description) ?? [] });
    const cidrs = [
      ...(p.IpRanges ?? []).map((r) => ({ cidr: r.CidrIp, description: r.Description })),
      ...(p.Ipv6Ranges ?? []).map((r) => ({ cidr: r.CidrIpv6, description: r.Description })),
    ];
    for (const { cidr, description } of cidrs) {
      const canonical = cidr === undefined ? undefined : canonicalCidr(cidr);
      if (canonical) push({ type: 'cidr', cidr: canonical }, description);
      else unknown.push(`source ${cidr ?? '?'} is not a CIDR`);
    }
    for (const r of p.UserIdGroupPairs ?? [])
      if (r.GroupId) push({ type: 'sg', groupId: r.GroupId }, r.Description);
  }
  return { rules: sortByKey(rules), unknown };
}

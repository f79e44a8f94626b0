import { isWorld, networkContains } from './addresses.js';
import {
  describeRule,
  formatPorts,
  formatScope,
  rangeContains,
  rangesOverlap,
  sourceNetwork,
  type PortRange,
  type Rule,
} from './rule.js';

/**
 * Security checks: pure functions over a rule and its neighbours. Every finding names its check id
 * and says how to fix the rule. Customer rules with a finding are refused; system rules are reported.
 */
export const checkIds = [
  'admin-port-source',
  'world-open-port',
  'cidr-too-broad',
  'port-protocol-sanity',
  'duplicate-rule',
  'shadowed-rule',
] as const;
export type CheckId = (typeof checkIds)[number];

export interface CheckPolicy {
  /** admin and database ports: open only to `adminSources` */
  adminPorts: PortRange[];
  /** dynamic groups allowed to reach admin ports */
  adminSources: string[];
  /** ports that may be open to 0.0.0.0/0 or ::/0 everywhere (machine types declare more) */
  publicPorts: number[];
  /** the broadest prefix a CIDR source may have, per family (the world is judged by world-open-port) */
  minPrefix: { 4: number; 6: number };
  /** the widest port range one rule may open */
  maxPortSpan: number;
}

export const defaultCheckPolicy: CheckPolicy = {
  adminPorts: [22, 1433, 1521, 3306, 3389, 5432, 6379, 9200, 27017]
    .map((p) => ({ from: p, to: p }))
    .concat([{ from: 5985, to: 5986 }]),
  adminSources: ['jumpboxes'],
  publicPorts: [],
  minPrefix: { 4: 16, 6: 32 },
  maxPortSpan: 1024,
};

/** The part of a rule a person edits to fix a finding: where a form shows the check's message. */
export const ruleFields = ['scope', 'protocol', 'ports', 'source', 'rule'] as const;
export type RuleField = (typeof ruleFields)[number];

/** `rule`: the finding is about the rule as a whole (a duplicate or a shadow of another rule). */
export const checkField: Record<CheckId, RuleField> = {
  'admin-port-source': 'source',
  'world-open-port': 'source',
  'cidr-too-broad': 'source',
  'port-protocol-sanity': 'ports',
  'duplicate-rule': 'rule',
  'shadowed-rule': 'rule',
};

export interface Finding {
  check: CheckId;
  rule: string;
  /** the field the message is about */
  field: RuleField;
  message: string;
}

export interface CheckContext {
  policy: CheckPolicy;
  /** ports declared public for the assets the rule applies to */
  publicPorts: readonly number[];
  /** rules already in force that this one is compared with (duplicates, shadows) */
  others: readonly Rule[];
}

type Check = (rule: Rule, context: CheckContext) => string | undefined;

const adminPortSource: Check = (rule, { policy }) => {
  if (rule.protocol === 'icmp') return undefined;
  const hit = policy.adminPorts.find((admin) => rangesOverlap(admin, rule.ports));
  if (!hit) return undefined;
  if (rule.source.type === 'group' && policy.adminSources.includes(rule.source.group)) return undefined;
  return (
    `port ${formatPorts(hit)} is an admin or database port: open it only from ` +
    `${policy.adminSources.join(' or ')} (source: ${policy.adminSources[0] ?? 'jumpboxes'}), and reach it through a jumpbox`
  );
};

const worldOpenPort: Check = (rule, { policy, publicPorts }) => {
  const network = sourceNetwork(rule.source);
  if (!network || !isWorld(network)) return undefined;
  const allowed = new Set([...policy.publicPorts, ...publicPorts]);
  if (rule.protocol !== 'icmp' && rule.ports) {
    const closed: number[] = [];
    for (let p = rule.ports.from; p <= rule.ports.to && closed.length < 3; p++) {
      if (!allowed.has(p)) closed.push(p);
    }
    if (closed.length === 0) return undefined;
    return (
      `${rule.source.type === 'cidr' ? rule.source.cidr : ''} opens port ${closed.join(', ')} to the whole internet, ` +
      `which is not a declared public port (${[...allowed].sort((a, b) => a - b).join(', ') || 'none here'}): ` +
      'use a narrower CIDR or a group source'
    );
  }
  return 'icmp to the whole internet is not allowed: use a narrower CIDR or a group source';
};

const cidrTooBroad: Check = (rule, { policy }) => {
  const network = sourceNetwork(rule.source);
  if (!network || isWorld(network)) return undefined;
  const min = policy.minPrefix[network.family];
  if (network.prefix >= min) return undefined;
  return `source /${network.prefix} is broader than the /${min} policy allows for IPv${network.family}: split it into narrower CIDRs or use a group`;
};

const portProtocolSanity: Check = (rule, { policy }) => {
  if (rule.protocol === 'icmp') {
    return rule.ports ? 'icmp has no ports: remove the port range' : undefined;
  }
  if (!rule.ports) return `${rule.protocol} needs a port or range, like 443 or 8000-8100`;
  const { from, to } = rule.ports;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > 65535 || from > to) {
    return `ports ${from}-${to} are not a range within 1-65535: give the low port first`;
  }
  const span = to - from + 1;
  if (span > policy.maxPortSpan) {
    return `the range opens ${span} ports, more than the ${policy.maxPortSpan} allowed in one rule: open only the ports the service listens on`;
  }
  return undefined;
};

const sameTarget = (a: Rule, b: Rule) =>
  formatScope(a.scope) === formatScope(b.scope) &&
  a.customer === b.customer &&
  (a.environment === b.environment || a.kind === 'system' || b.kind === 'system') &&
  a.protocol === b.protocol;

const duplicateRule: Check = (rule, { others }) => {
  const twin = others.find(
    (o) =>
      o.id !== rule.id &&
      sameTarget(o, rule) &&
      formatPorts(o.ports) === formatPorts(rule.ports) &&
      JSON.stringify(o.source) === JSON.stringify(rule.source),
  );
  return twin
    ? `the same opening exists as rule ${twin.id} (${describeRule(twin)}): drop this one`
    : undefined;
};

function sourceWithin(outer: Rule['source'], inner: Rule['source']): boolean {
  if (outer.type === 'group' || inner.type === 'group') {
    return outer.type === 'group' && inner.type === 'group' && outer.group === inner.group;
  }
  const o = sourceNetwork(outer);
  const i = sourceNetwork(inner);
  return !!o && !!i && networkContains(o, i);
}

const shadowedRule: Check = (rule, { others }) => {
  const wider = others.find(
    (o) =>
      o.id !== rule.id &&
      sameTarget(o, rule) &&
      rangeContains(o.ports, rule.ports) &&
      sourceWithin(o.source, rule.source) &&
      !(
        formatPorts(o.ports) === formatPorts(rule.ports) &&
        JSON.stringify(o.source) === JSON.stringify(rule.source)
      ),
  );
  return wider
    ? `rule ${wider.id} (${describeRule(wider)}) already allows everything this rule does: drop this one or narrow the other`
    : undefined;
};

const checks: Record<CheckId, Check> = {
  'admin-port-source': adminPortSource,
  'world-open-port': worldOpenPort,
  'cidr-too-broad': cidrTooBroad,
  'port-protocol-sanity': portProtocolSanity,
  'duplicate-rule': duplicateRule,
  'shadowed-rule': shadowedRule,
};

/** Every finding for one rule, in check order. */
export function checkRule(rule: Rule, context: CheckContext): Finding[] {
  return checkIds.flatMap((id) => {
    const message = checks[id](rule, context);
    return message === undefined ? [] : [{ check: id, rule: rule.id, field: checkField[id], message }];
  });
}

/**
 * Findings over a whole rule set: each rule against the rules listed before it, so a duplicate pair
 * is reported once, on the later rule.
 */
export function checkRuleSet(
  rules: readonly Rule[],
  policy: CheckPolicy,
  publicPortsFor: (rule: Rule) => readonly number[],
): Finding[] {
  return rules.flatMap((rule, index) =>
    checkRule(rule, { policy, publicPorts: publicPortsFor(rule), others: rules.slice(0, index) }),
  );
}

import { type Family } from './addresses.js';
import { familyOf, groupMembersOf, rulesFor, type AssetTarget, type GroupMembers } from './compile.js';
import { formatPorts, type PortRange, type Protocol, type Rule } from './rule.js';
import { compareText } from './addresses.js';

/**
 * The host layer: one nftables table `inet gatehouse` per host, as a small model (named sets for
 * dynamic groups, one accept rule per opening) and as libnftables JSON. Its input chain drops what
 * is not allowed; established/related traffic, loopback and IPv6 neighbour discovery pass.
 */
export const TABLE = { family: 'inet', name: 'gatehouse' } as const;
export const CHAIN = 'input';

export type HostSource = { type: 'cidr'; cidr: string } | { type: 'set'; set: string } | { type: 'any' };

export interface HostRule {
  family: Family;
  protocol: Protocol;
  ports: PortRange | null;
  source: HostSource;
  /** the rule ids this opening comes from (a comment on the nftables rule) */
  rules: string[];
}

export interface HostSet {
  name: string;
  family: Family;
  elements: string[];
}

export interface HostTable {
  sets: HostSet[];
  rules: HostRule[];
}

/** `jumpboxes` → `g4_jumpboxes`; `customer:acme:frontends` → `g6_customer.acme.frontends`. Injective. */
export function setNameFor(group: string, family: Family): string {
  return `g${family}_${group.replaceAll('-', '_').replaceAll(':', '.')}`;
}

export function groupOfSet(name: string): { group: string; family: Family } | undefined {
  const match = /^g([46])_([a-z0-9_.]+)$/.exec(name);
  if (!match) return undefined;
  return {
    family: match[1] === '4' ? 4 : 6,
    group: (match[2] ?? '').replaceAll('_', '-').replaceAll('.', ':'),
  };
}

export function hostRuleKey(rule: Pick<HostRule, 'family' | 'protocol' | 'ports' | 'source'>): string {
  const source =
    rule.source.type === 'cidr'
      ? rule.source.cidr
      : rule.source.type === 'set'
        ? `@${rule.source.set}`
        : 'any';
  return `${rule.family} ${rule.protocol} ${formatPorts(rule.ports)} ${source}`;
}

const isWorldCidr = (cidr: string) => cidr === '0.0.0.0/0' || cidr === '::/0';

export function compileHostTable(
  rules: readonly Rule[],
  asset: AssetTarget,
  members: GroupMembers,
): HostTable {
  const byKey = new Map<string, HostRule>();
  const sets = new Map<string, HostSet>();
  const add = (rule: HostRule) => {
    const key = hostRuleKey(rule);
    const existing = byKey.get(key);
    if (existing) existing.rules = [...new Set([...existing.rules, ...rule.rules])].sort();
    else byKey.set(key, rule);
  };
  for (const rule of rulesFor(rules, asset)) {
    const base = { protocol: rule.protocol, ports: rule.ports, rules: [rule.id] };
    if (rule.source.type === 'cidr') {
      const family = familyOf(rule.source.cidr);
      const source: HostSource = isWorldCidr(rule.source.cidr) ? { type: 'any' } : rule.source;
      add({ ...base, family, source });
      continue;
    }
    for (const family of [4, 6] as const) {
      const name = setNameFor(rule.source.group, family);
      sets.set(name, { name, family, elements: groupMembersOf(members, rule.source.group, family) });
      add({ ...base, family, source: { type: 'set', set: name } });
    }
  }
  return {
    sets: [...sets.values()].sort((a, b) => compareText(a.name, b.name)),
    rules: [...byKey.entries()].sort(([a], [b]) => compareText(a, b)).map(([, rule]) => rule),
  };
}

type Expr = Record<string, unknown>;

const match = (left: unknown, right: unknown, op = '=='): Expr => ({ match: { op, left, right } });

function prefixValue(cidr: string): unknown {
  const [addr = '', len = ''] = cidr.split('/');
  return { prefix: { addr, len: Number(len) } };
}

function ruleExprs(rule: HostRule): Expr[] {
  const ip = rule.family === 4 ? 'ip' : 'ip6';
  const exprs: Expr[] = [];
  if (rule.source.type === 'any')
    exprs.push(match({ meta: { key: 'nfproto' } }, rule.family === 4 ? 'ipv4' : 'ipv6'));
  else {
    const right = rule.source.type === 'set' ? `@${rule.source.set}` : prefixValue(rule.source.cidr);
    exprs.push(match({ payload: { protocol: ip, field: 'saddr' } }, right));
  }
  if (rule.protocol === 'icmp') {
    exprs.push(match({ meta: { key: 'l4proto' } }, rule.family === 4 ? 'icmp' : 'ipv6-icmp'));
  } else if (rule.ports) {
    const right =
      rule.ports.from === rule.ports.to ? rule.ports.from : { range: [rule.ports.from, rule.ports.to] };
    exprs.push(match({ payload: { protocol: rule.protocol, field: 'dport' } }, right));
  }
  exprs.push({ accept: null });
  return exprs;
}

/** The rules every managed table starts with, in order. */
export function baseRuleExprs(): Expr[][] {
  return [
    [match({ ct: { key: 'state' } }, ['established', 'related'], 'in'), { accept: null }],
    [match({ meta: { key: 'iif' } }, 'lo'), { accept: null }],
    [
      match({ meta: { key: 'l4proto' } }, 'ipv6-icmp'),
      match(
        { payload: { protocol: 'icmpv6', field: 'type' } },
        { set: ['nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-advert'] },
      ),
      { accept: null },
    ],
  ];
}

/**
 * libnftables JSON that replaces the whole table in one transaction: add (so delete cannot fail on a
 * first run), delete, then build it again. Nothing outside `inet gatehouse` is touched.
 */
export function renderHostTable(table: HostTable): { nftables: Expr[] } {
  const t = { family: TABLE.family, table: TABLE.name };
  const commands: Expr[] = [
    { add: { table: { family: TABLE.family, name: TABLE.name } } },
    { delete: { table: { family: TABLE.family, name: TABLE.name } } },
    { add: { table: { family: TABLE.family, name: TABLE.name } } },
  ];
  for (const set of table.sets) {
    const elem = set.elements.map(prefixValue);
    commands.push({
      add: {
        set: {
          ...t,
          name: set.name,
          type: set.family === 4 ? 'ipv4_addr' : 'ipv6_addr',
          flags: ['interval'],
          ...(elem.length > 0 ? { elem } : {}),
        },
      },
    });
  }
  commands.push({
    add: { chain: { ...t, name: CHAIN, type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
  });
  for (const expr of baseRuleExprs()) commands.push({ add: { rule: { ...t, chain: CHAIN, expr } } });
  for (const rule of table.rules) {
    const comment = rule.rules.join(' ').slice(0, 120);
    commands.push({
      add: { rule: { ...t, chain: CHAIN, expr: ruleExprs(rule), ...(comment ? { comment } : {}) } },
    });
  }
  return { nftables: commands };
}

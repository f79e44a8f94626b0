import { canonicalCidr, type Family } from './addresses.js';
import { CHAIN, TABLE, type HostRule, type HostSet, type HostSource, type HostTable } from './host-layer.js';
import { protocols, type PortRange, type Protocol } from './rule.js';
import { compareText } from './addresses.js';

/**
 * Reads `nft -j list table inet gatehouse` back into the host-layer model. Whatever does not fit the
 * model (other chains, rules Gatehouse would never write, a chain that does not drop) is returned as
 * `unknown`, so the plan can name it before the apply removes it.
 */
export interface ObservedHostTable {
  /** null when the host has no `inet gatehouse` table yet */
  table: HostTable | null;
  unknown: string[];
  /** true when the input chain exists, hooks input and drops by default */
  enforcing: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const canonical = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => v);

function elementCidr(value: unknown): string | undefined {
  if (typeof value === 'string') return canonicalCidr(value);
  if (isObject(value) && isObject(value.prefix)) {
    const { addr, len } = value.prefix as { addr?: unknown; len?: unknown };
    if (typeof addr === 'string' && typeof len === 'number') return canonicalCidr(`${addr}/${len}`);
  }
  if (isObject(value) && Array.isArray(value.range)) return undefined;
  return undefined;
}

interface Match {
  op: string;
  left: unknown;
  right: unknown;
}

function asMatch(expr: unknown): Match | undefined {
  if (!isObject(expr) || !isObject(expr.match)) return undefined;
  const m = expr.match as Partial<Match>;
  return typeof m.op === 'string' ? { op: m.op, left: m.left, right: m.right } : undefined;
}

function portsOf(right: unknown): PortRange | undefined {
  if (typeof right === 'number') return { from: right, to: right };
  if (isObject(right) && Array.isArray(right.range)) {
    const [from, to] = right.range as unknown[];
    if (typeof from === 'number' && typeof to === 'number' && from <= to) return { from, to };
  }
  return undefined;
}

/** One accept rule as Gatehouse writes it, or undefined. */
export function parseHostRule(exprs: unknown[], comment: string | undefined): HostRule | undefined {
  const last = exprs[exprs.length - 1];
  if (!isObject(last) || !('accept' in last) || exprs.length !== 3) return undefined;
  const [first, second] = exprs.map(asMatch);
  if (!first || !second || first.op !== '==' || second.op !== '==') return undefined;
  let family: Family;
  let source: HostSource;
  const left = first.left as Json;
  if (isObject(left.meta) && left.meta.key === 'nfproto') {
    if (first.right !== 'ipv4' && first.right !== 'ipv6') return undefined;
    family = first.right === 'ipv4' ? 4 : 6;
    source = { type: 'any' };
  } else if (isObject(left.payload) && left.payload.field === 'saddr') {
    const proto = left.payload.protocol;
    if (proto !== 'ip' && proto !== 'ip6') return undefined;
    family = proto === 'ip' ? 4 : 6;
    if (typeof first.right === 'string' && first.right.startsWith('@')) {
      source = { type: 'set', set: first.right.slice(1) };
    } else {
      const cidr = elementCidr(first.right);
      if (!cidr) return undefined;
      source = { type: 'cidr', cidr };
    }
  } else return undefined;
  const second_left = second.left as Json;
  let protocol: Protocol;
  let ports: PortRange | null = null;
  if (isObject(second_left.meta) && second_left.meta.key === 'l4proto') {
    if (second.right !== (family === 4 ? 'icmp' : 'ipv6-icmp')) return undefined;
    protocol = 'icmp';
  } else if (isObject(second_left.payload) && second_left.payload.field === 'dport') {
    const proto = second_left.payload.protocol;
    if (proto !== 'tcp' && proto !== 'udp') return undefined;
    protocol = proto;
    const range = portsOf(second.right);
    if (!range) return undefined;
    ports = range;
  } else return undefined;
  if (!(protocols as readonly string[]).includes(protocol)) return undefined;
  return { family, protocol, ports, source, rules: comment ? comment.split(' ').filter(Boolean).sort() : [] };
}

const ND_TYPES = ['nd-neighbor-advert', 'nd-neighbor-solicit', 'nd-router-advert'];

/** The three rules every managed table starts with (see `baseRuleExprs`), as nft lists them. */
function isBaseRule(exprs: unknown[]): boolean {
  const last = exprs[exprs.length - 1];
  if (!isObject(last) || !('accept' in last)) return false;
  const matches = exprs.slice(0, -1).map(asMatch);
  if (matches.some((m) => m === undefined)) return false;
  const [first, second] = matches as Match[];
  if (!first) return false;
  const left = canonical(first.left);
  if (matches.length === 1 && left === canonical({ ct: { key: 'state' } })) {
    return canonical(first.right) === canonical(['established', 'related']);
  }
  if (matches.length === 1 && left === canonical({ meta: { key: 'iif' } })) return first.right === 'lo';
  // nft lists the icmpv6 rule without the l4proto match the type match implies
  const typeMatch = matches.length === 2 && first.right === 'ipv6-icmp' ? second : first;
  if (
    matches.length === 2 &&
    !(left === canonical({ meta: { key: 'l4proto' } }) && first.right === 'ipv6-icmp')
  ) {
    return false;
  }
  if (
    !typeMatch ||
    canonical(typeMatch.left) !== canonical({ payload: { protocol: 'icmpv6', field: 'type' } })
  ) {
    return false;
  }
  const set = isObject(typeMatch.right) ? typeMatch.right.set : undefined;
  return Array.isArray(set) && canonical([...(set as string[])].sort()) === canonical(ND_TYPES);
}

export function describeNftRule(exprs: unknown[], comment: string | undefined): string {
  return `rule ${JSON.stringify(exprs)}${comment ? ` comment "${comment}"` : ''}`;
}

/** Parses the JSON `nft -j list table inet gatehouse` prints (or an empty listing). */
export function parseObservedTable(listing: unknown): ObservedHostTable {
  const items = isObject(listing) && Array.isArray(listing.nftables) ? (listing.nftables as unknown[]) : [];
  const tablePresent = items.some(
    (i) => isObject(i) && isObject(i.table) && i.table.name === TABLE.name && i.table.family === TABLE.family,
  );
  if (!tablePresent) return { table: null, unknown: [], enforcing: false };
  const sets: HostSet[] = [];
  const rules: HostRule[] = [];
  const unknown: string[] = [];
  let enforcing = false;
  for (const item of items) {
    if (!isObject(item)) continue;
    if (isObject(item.set)) {
      const set = item.set;
      const name = String(set.name);
      const family: Family | undefined =
        set.type === 'ipv4_addr' ? 4 : set.type === 'ipv6_addr' ? 6 : undefined;
      if (!family) {
        unknown.push(`set ${name} of type ${String(set.type)}`);
        continue;
      }
      const elements = (Array.isArray(set.elem) ? set.elem : []).map(elementCidr);
      if (elements.some((e) => e === undefined))
        unknown.push(`elements of set ${name} that are not addresses or prefixes`);
      sets.push({ name, family, elements: elements.filter((e): e is string => !!e).sort() });
    } else if (isObject(item.chain)) {
      const chain = item.chain;
      if (chain.name === CHAIN && chain.hook === 'input' && chain.type === 'filter') {
        enforcing = chain.policy === 'drop';
        if (!enforcing)
          unknown.push(
            `chain ${CHAIN} with policy ${typeof chain.policy === 'string' ? chain.policy : 'accept'} (must be drop)`,
          );
      } else unknown.push(`chain ${String(chain.name)}`);
    } else if (isObject(item.rule)) {
      const rule = item.rule;
      const exprs = Array.isArray(rule.expr) ? (rule.expr as unknown[]) : [];
      const comment = typeof rule.comment === 'string' ? rule.comment : undefined;
      if (rule.chain !== CHAIN) continue; // reported with its chain
      // the common case first: an opening Gatehouse writes (a base rule never parses as one)
      const parsed = parseHostRule(exprs, comment);
      if (parsed) rules.push(parsed);
      else if (!isBaseRule(exprs)) unknown.push(describeNftRule(exprs, comment));
    } else if (!isObject(item.metainfo) && !isObject(item.table)) {
      unknown.push(`object ${Object.keys(item).join(',')}`);
    }
  }
  return { table: { sets: sets.sort((a, b) => compareText(a.name, b.name)), rules }, unknown, enforcing };
}

/**
 * The openings other owners' tables give on the input hook (`nft -j list ruleset`), for an import:
 * accept rules Gatehouse can express become rules, anything else in an input chain is `unknown`.
 * Gatehouse never changes these tables; the import only classifies what they allow.
 */
export function parseForeignRules(listing: unknown): { rules: HostRule[]; unknown: string[] } {
  const items = isObject(listing) && Array.isArray(listing.nftables) ? (listing.nftables as unknown[]) : [];
  const inputChains = new Set<string>();
  for (const item of items) {
    if (!isObject(item) || !isObject(item.chain)) continue;
    const chain = item.chain;
    if (chain.hook === 'input' && chain.table !== TABLE.name) {
      inputChains.add(`${String(chain.family)} ${String(chain.table)} ${String(chain.name)}`);
    }
  }
  const rules: HostRule[] = [];
  const unknown: string[] = [];
  for (const item of items) {
    if (!isObject(item) || !isObject(item.rule)) continue;
    const rule = item.rule;
    const where = `${String(rule.family)} ${String(rule.table)} ${String(rule.chain)}`;
    if (!inputChains.has(where)) continue;
    const exprs = Array.isArray(rule.expr) ? (rule.expr as unknown[]) : [];
    const comment = typeof rule.comment === 'string' ? rule.comment : undefined;
    if (isBaseRule(exprs)) continue;
    const parsed = parseHostRule(exprs, undefined);
    if (parsed) rules.push(parsed);
    else unknown.push(`table ${where}: ${describeNftRule(exprs, comment)}`);
  }
  return { rules, unknown };
}

import { isIP } from 'node:net';

/**
 * Address arithmetic for rule sources: a CIDR as a family, a network number and a prefix, so checks
 * can ask "is this inside that" and the compiler can write canonical text. Pure, no I/O.
 */
export type Family = 4 | 6;

export interface Network {
  family: Family;
  /** the network number with host bits cleared */
  bits: bigint;
  prefix: number;
}

const widthOf = (family: Family) => (family === 4 ? 32 : 128);

function parseV4(address: string): bigint | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(address: string): bigint | undefined {
  if (isIP(address) !== 6 || address.includes('%')) return undefined;
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const groupsOf = (part: string) => (part ? part.split(':') : []);
  const headGroups = groupsOf(head);
  const tailGroups = rest === undefined ? [] : groupsOf(rest);
  const fill = rest === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The address as a number and its family, or undefined when it is not a plain IPv4/IPv6 address. */
export function parseAddress(address: string): { family: Family; bits: bigint } | undefined {
  const v4 = parseV4(address);
  if (v4 !== undefined) return { family: 4, bits: v4 };
  const v6 = parseV6(address);
  return v6 === undefined ? undefined : { family: 6, bits: v6 };
}

const mask = (family: Family, prefix: number) => {
  const width = BigInt(widthOf(family));
  const all = (1n << width) - 1n;
  return prefix === 0 ? 0n : (all >> (width - BigInt(prefix))) << (width - BigInt(prefix));
};

/**
 * A CIDR (or a bare address, read as a host network) with host bits cleared, or undefined when the
 * text is not one. Callers that must refuse host bits validate with `platform/validation.cidr` first.
 */
export function parseNetwork(text: string): Network | undefined {
  // a fleet names the same few thousand networks over and over: parse each once
  if (networks.has(text)) return networks.get(text);
  const parsed = parseNetworkUncached(text);
  if (networks.size >= MEMO_LIMIT) networks.clear();
  networks.set(text, parsed);
  return parsed;
}

const MEMO_LIMIT = 100_000;
const networks = new Map<string, Network | undefined>();
const canonical = new Map<string, string | undefined>();

/** Plain code-unit order: stable, locale-free and fast (sorting keys, not text for people). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseNetworkUncached(text: string): Network | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const width = widthOf(parsed.family);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) return undefined;
  return { family: parsed.family, bits: parsed.bits & mask(parsed.family, prefix), prefix };
}

export function formatAddress(family: Family, bits: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bits >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/** Canonical text: lower-case, compressed IPv6, always with a prefix. */
export function formatNetwork(network: Network): string {
  return `${formatAddress(network.family, network.bits)}/${network.prefix}`;
}

export function canonicalCidr(text: string): string | undefined {
  if (canonical.has(text)) return canonical.get(text);
  const network = parseNetwork(text);
  const formatted = network ? formatNetwork(network) : undefined;
  if (canonical.size >= MEMO_LIMIT) canonical.clear();
  canonical.set(text, formatted);
  return formatted;
}

/** True when every address of `inner` is in `outer`. */
export function networkContains(outer: Network, inner: Network): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  return (inner.bits & mask(outer.family, outer.prefix)) === outer.bits;
}

export function isWorld(network: Network): boolean {
  return network.prefix === 0;
}

export function hostPrefix(family: Family): number {
  return widthOf(family);
}

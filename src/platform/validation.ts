import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Shared grammars for values that reach SQL, shells or firewalls. Each one is strict and its message
 * says what a valid value looks like.
 */

/** Lower-case slug used for names of customers, regions, assets …: `acme-prod-db-1`. */
export const slug = z
  .string()
  .min(2, 'at least 2 characters')
  .max(63, 'at most 63 characters')
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    'use 2-63 lower-case letters, digits and dashes, like "acme-prod"',
  );

/** Free text for people: titles, descriptions. Bounded, no control characters. */
export const text = (max = 200) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, 'must not contain control characters');

export const displayName = text(120).min(1, 'at least 1 character');

export const uuid = z.string().uuid('must be a UUID');

export const port = z.number().int().min(1, 'ports are 1-65535').max(65535, 'ports are 1-65535');

/** A refinement from a function that says what is wrong with a value, or returns undefined. */
const reportProblem =
  (problem: (value: string) => string | undefined) => (value: string, ctx: z.RefinementCtx<string>) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  };

/**
 * 4 or 6 for an address PostgreSQL's `inet` stores as it is, else 0. Node's `isIP` also accepts IPv6
 * zone ids (`fe80::1%eth0`): they name an interface of one machine, and `inet` refuses them.
 */
function ipVersion(value: string): 0 | 4 | 6 {
  if (value.includes('%')) return 0;
  const version = isIP(value);
  return version === 4 || version === 6 ? version : 0;
}

const ZONE_ID = 'has a zone id (%…); send the address without it, like fe80::1';

function ipAddressProblem(value: string): string | undefined {
  if (ipVersion(value) !== 0) return undefined;
  return isIP(value) !== 0 ? ZONE_ID : 'must be an IPv4 or IPv6 address, like 192.0.2.10';
}

/** An IPv4 or IPv6 address: no prefix, no zone id. */
export const ipAddress = z.string().superRefine(reportProblem(ipAddressProblem));

function cidrProblem(value: string): string | undefined {
  const [address, prefixText, extra] = value.split('/');
  if (!address || prefixText === undefined || extra !== undefined)
    return 'must be address/prefix, like 192.0.2.0/24';
  const version = ipVersion(address);
  if (version === 0)
    return isIP(address) !== 0 ? `'${address}' ${ZONE_ID}` : `'${address}' is not an IPv4 or IPv6 address`;
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `prefix must be 0-${max}`;
  const prefix = Number(prefixText);
  const bits = addressBits(address, version);
  if (bits.slice(prefix).includes('1')) {
    return `host bits are set: did you mean ${networkOf(bits, prefix, version)}/${prefix}?`;
  }
  return undefined;
}

function addressBits(address: string, version: number): string {
  if (version === 4)
    return address
      .split('.')
      .map((o) => Number(o).toString(2).padStart(8, '0'))
      .join('');
  const [head = '', tail = ''] = address.split('::');
  const parse = (part: string) => (part ? part.split(':') : []);
  let groups = [...parse(head), ...parse(tail)];
  // an embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups
  const last = groups[groups.length - 1];
  if (last?.includes('.')) {
    const v4 = addressBits(last, 4);
    groups = [
      ...groups.slice(0, -1),
      parseInt(v4.slice(0, 16), 2).toString(16),
      parseInt(v4.slice(16), 2).toString(16),
    ];
  }
  const headGroups = parse(head).length;
  const fill = address.includes('::') ? 8 - groups.length : 0;
  const full = [
    ...groups.slice(0, headGroups),
    ...Array<string>(fill).fill('0'),
    ...groups.slice(headGroups),
  ];
  return full.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

function networkOf(bits: string, prefix: number, version: number): string {
  const masked = bits.slice(0, prefix).padEnd(bits.length, '0');
  if (version === 4) return [0, 8, 16, 24].map((i) => parseInt(masked.slice(i, i + 8), 2)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) =>
    parseInt(masked.slice(i * 16, i * 16 + 16), 2).toString(16),
  );
  // RFC 5952: compress the longest run of two or more zero groups
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

/** A network in CIDR notation with no host bits set: 192.0.2.0/24, 2001:db8::/32. */
export const cidr = z.string().superRefine(reportProblem(cidrProblem));

const HOST_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/**
 * A last label that resolvers read as a number: decimal, or hex `0x…` (the WHATWG URL host rule).
 * `getaddrinfo` turns such a name into an IPv4 address by the old `inet_aton` rules (`1.2.3` is
 * 1.2.0.3, `0x7f000001` is 127.0.0.1), so it is not a host name and must be a valid IPv4 address.
 */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

function hostProblem(value: string): string | undefined {
  if (ipVersion(value) !== 0) return undefined;
  if (isIP(value) !== 0) return ZONE_ID;
  if (!HOST_NAME.test(value)) {
    return 'must be a host name (letters, digits, dashes and dots, like db1.example.net) or an IP address';
  }
  if (NUMERIC_LABEL.test(value.slice(value.lastIndexOf('.') + 1))) {
    return 'reads as an IPv4 address but is not one: use four numbers 0-255, like 192.0.2.10, or a host name';
  }
  return undefined;
}

/** An RFC 1123 host name, or an IP address (no zone id); never something that only looks like one. */
export const host = z.string().max(253, 'at most 253 characters').superRefine(reportProblem(hostProblem));

/** Labels: small string map for filtering. */
export const labels = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,62}$/, 'label keys are lower-case, up to 63 characters'),
    text(200),
  )
  .refine((v) => Object.keys(v).length <= 32, 'at most 32 labels');

/** Cursor pagination query: `limit` and an opaque `cursor` from the previous page. */
export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

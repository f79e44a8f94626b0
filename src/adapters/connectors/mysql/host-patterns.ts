import { isIP } from 'node:net';
import { ValidationError } from '../../../platform/errors.js';

/**
 * Jumpbox source CIDRs → the host part of MySQL/MariaDB account names (`'user'@'<host>'`).
 *
 * - IPv4 /32 → the address itself (`192.0.2.10`).
 * - IPv4 /n → `address/netmask` (`192.0.2.0/255.255.255.0`), which MariaDB and MySQL both match.
 *   Never CIDR: MariaDB 10.11 accepts `'u'@'192.0.2.0/24'` silently and then matches no client with it.
 * - IPv6 /128 → the address in the compressed lower-case form the server prints client addresses in
 *   (it compares the text); other IPv6 prefixes cannot be expressed without wildcards and are refused.
 * - /0 is refused: an account reachable from anywhere is what these accounts must never be.
 *
 * Matching is on the client's IP address as the server sees it (see
 * docs/decisions/0004-mariadb-accounts-bound-to-jumpbox-addresses.md): with or without skip-name-resolve an
 * IP or netmask host matches the address; we never emit host names or `%` wildcards, so reverse DNS
 * cannot widen an account.
 */
export function hostPatternFor(cidr: string): string {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const version = isIP(address);
  if (version === 0 || !/^\d{1,3}$/.test(prefixText)) {
    throw new ValidationError('source CIDRs look like 192.0.2.0/24');
  }
  if (prefix === 0) {
    throw new ValidationError(
      `source CIDR ${cidr} would let the account connect from anywhere; list the jumpboxes`,
    );
  }
  if (version === 4) return prefix === 32 ? address : `${address}/${netmask(prefix)}`;
  if (prefix !== 128) {
    throw new ValidationError(
      `source CIDR ${cidr}: MySQL/MariaDB accounts can be bound to single IPv6 addresses (/128) only`,
    );
  }
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  if (canonical.startsWith('::ffff:')) {
    throw new ValidationError(`source CIDR ${cidr} is an IPv4-mapped address; write it as IPv4`);
  }
  return canonical;
}

function netmask(prefix: number): string {
  const bits = '1'.repeat(prefix).padEnd(32, '0');
  return [0, 8, 16, 24].map((i) => parseInt(bits.slice(i, i + 8), 2)).join('.');
}

/** Distinct host patterns for a list of CIDRs, in order. */
export function hostPatternsFor(cidrs: readonly string[]): string[] {
  return [...new Set(cidrs.map(hostPatternFor))];
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { cidr, displayName, host, ipAddress, slug, text } from '../../src/platform/validation.js';

const accepts = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;
const messageOf = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues[0]?.message;

/** The network an IPv4 address is in, as a dotted quad: host bits cleared. */
function ipv4Network(address: string, prefix: number): string {
  const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(value / size) * size;
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
}

/** Eight 16-bit groups with the bits after `prefix` cleared, written out in full. */
function ipv6Network(groups: number[], prefix: number): string {
  return groups
    .map((group, i) => {
      const keep = Math.min(16, Math.max(0, prefix - i * 16));
      return ((group >> (16 - keep)) << (16 - keep)) & 0xffff;
    })
    .map((group) => group.toString(16))
    .join(':');
}

describe('ipAddress', () => {
  it('accepts every IPv4 and IPv6 address', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => accepts(ipAddress, address)));
  });

  it('refuses zone ids, which PostgreSQL inet refuses, saying to drop them', () => {
    for (const zoned of ['fe80::1%eth0', 'fe80::1%1', '::1%lo']) {
      expect(accepts(ipAddress, zoned)).toBe(false);
      expect(messageOf(ipAddress, zoned)).toMatch(/zone id.*without it/);
    }
    fc.assert(
      fc.property(fc.ipV6(), fc.stringMatching(/^[a-z0-9]{1,8}$/), (address, zone) => {
        expect(accepts(ipAddress, `${address}%${zone}`)).toBe(false);
      }),
    );
  });

  it('refuses prefixes, names and near-misses', () => {
    for (const value of ['192.0.2.1/32', '300.1.1.1', '1.2.3', '01.2.3.4', 'db.example', '', '::g']) {
      expect(accepts(ipAddress, value)).toBe(false);
    }
  });
});

describe('cidr', () => {
  it('accepts every IPv4 network address with its prefix', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        expect(messageOf(cidr, `${ipv4Network(address, prefix)}/${prefix}`)).toBeUndefined();
      }),
    );
  });

  it('accepts every IPv6 network address with its prefix', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 128 }),
        (groups, prefix) => {
          expect(messageOf(cidr, `${ipv6Network(groups, prefix)}/${prefix}`)).toBeUndefined();
        },
      ),
    );
  });

  it('suggests, for any address with host bits set, a network it then accepts', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })),
          fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })),
        ),
        ([address, prefix]) => {
          const message = messageOf(cidr, `${address}/${prefix}`);
          if (message === undefined) return;
          const suggestion = /did you mean (\S+)\?/.exec(message)?.[1];
          expect(suggestion).toBeDefined();
          expect(messageOf(cidr, suggestion)).toBeUndefined();
        },
      ),
    );
  });

  it('refuses zone ids and bad prefixes', () => {
    expect(messageOf(cidr, 'fe80::%eth0/64')).toMatch(/zone id/);
    expect(messageOf(cidr, '10.0.0.0/33')).toMatch(/prefix must be 0-32/);
    expect(messageOf(cidr, '10.0.0.0')).toMatch(/address\/prefix/);
  });
});

describe('host', () => {
  it('accepts host names and IP addresses', () => {
    fc.assert(fc.property(fc.domain(), (name) => accepts(host, name)));
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => accepts(host, address)));
    for (const name of ['db', 'localhost', 'db1.example.net', '1e100.net', '3com.com', 'x-1.a2']) {
      expect(accepts(host, name)).toBe(true);
    }
  });

  it('refuses dotted-numeric strings that are not IPv4 addresses', () => {
    for (const value of ['300.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '123', '256.0.0.0']) {
      expect(messageOf(host, value)).toMatch(/reads as an IPv4 address but is not one/);
    }
    // every dotted run of numbers is either a valid IPv4 address or refused
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const value = parts.join('.');
        const isIpv4 = parts.length === 4 && parts.every((p) => p <= 255);
        expect(accepts(host, value)).toBe(isIpv4);
      }),
    );
  });

  it('refuses names that resolvers would read as a number, like 0x7f000001', () => {
    for (const value of ['0x7f000001', '0x7f.1', 'db.0x1f', 'db.42']) {
      expect(accepts(host, value)).toBe(false);
    }
  });

  it('refuses zone ids and anything outside the host name grammar', () => {
    expect(messageOf(host, 'fe80::1%eth0')).toMatch(/zone id/);
    for (const value of [
      '-bad',
      'a..b',
      'x;rm -rf /',
      'a_b.example',
      'db.example.',
      `${'a'.repeat(64)}.net`,
    ]) {
      expect(messageOf(host, value)).toMatch(/must be a host name/);
    }
  });
});

describe('length messages', () => {
  it('say how long a value may be, not what zod expected', () => {
    expect(messageOf(slug, 'a')).toBe('at least 2 characters');
    expect(messageOf(slug, 'a'.repeat(64))).toBe('at most 63 characters');
    expect(messageOf(text(), 'x'.repeat(201))).toBe('at most 200 characters');
    expect(messageOf(text(500), 'x'.repeat(501))).toBe('at most 500 characters');
    expect(messageOf(displayName, '')).toBe('at least 1 character');
    expect(messageOf(displayName, 'x'.repeat(121))).toBe('at most 120 characters');
    expect(messageOf(host, `${'a'.repeat(63)}.`.repeat(4) + 'net')).toBe('at most 253 characters');
  });

  it('accept values exactly at the bounds', () => {
    expect(accepts(slug, 'ab')).toBe(true);
    expect(accepts(slug, 'a'.repeat(63))).toBe(true);
    expect(accepts(text(), 'x'.repeat(200))).toBe(true);
    expect(accepts(displayName, 'x')).toBe(true);
  });
});

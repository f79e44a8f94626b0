import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCidr, networkContains, parseNetwork } from '../../src/modules/network/domain/addresses.js';
import { parsePorts, parseSource } from '../../src/modules/network/domain/rule.js';
import { parseSystemRuleFile, SystemRuleFileError } from '../../src/modules/network/domain/system-rules.js';

describe('rule sources and ports', () => {
  it('reads CIDRs (a bare address is one host) and group names', () => {
    expect(parseSource('192.0.2.0/24')).toEqual({ type: 'cidr', cidr: '192.0.2.0/24' });
    expect(parseSource('192.0.2.7')).toEqual({ type: 'cidr', cidr: '192.0.2.7/32' });
    expect(parseSource('2001:DB8:0:0::/32')).toEqual({ type: 'cidr', cidr: '2001:db8::/32' });
    expect(parseSource('::/0')).toEqual({ type: 'cidr', cidr: '::/0' });
    expect(parseSource('jumpboxes')).toEqual({ type: 'group', group: 'jumpboxes' });
    expect(parseSource('customer:acme:frontends')).toEqual({
      type: 'group',
      group: 'customer:acme:frontends',
    });
  });

  it('refuses host bits, bad prefixes and anything that could reach firewall syntax', () => {
    for (const bad of [
      '192.0.2.1/24',
      '192.0.2.0/33',
      '10.0.0.0/8 accept',
      'a;b',
      '',
      'Jumpboxes',
      '@set',
      '1.2.3',
    ]) {
      expect(parseSource(bad)).toHaveProperty('error');
    }
    expect((parseSource('192.0.2.1/24') as { error: string }).error).toContain('192.0.2.0/24');
  });

  it('reads ports and ranges within 1-65535, low port first', () => {
    expect(parsePorts(443)).toEqual({ from: 443, to: 443 });
    expect(parsePorts('8000-8100')).toEqual({ from: 8000, to: 8100 });
    for (const bad of ['0', '65536', '100-99', '1-', 'x', '-1']) expect(parsePorts(bad)).toBeUndefined();
  });

  it('network containment agrees with prefix arithmetic', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 32 }), (ip, a, b) => {
        const outer = parseNetwork(`${ip}/${Math.min(a, b)}`)!;
        const inner = parseNetwork(`${ip}/${Math.max(a, b)}`)!;
        expect(networkContains(outer, inner)).toBe(true);
        expect(networkContains(inner, outer)).toBe(a === b);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const text = canonicalCidr(`${ip}/64`)!;
        expect(canonicalCidr(text)).toBe(text);
      }),
    );
  });
});

describe('system rule files', () => {
  const folder = join(import.meta.dirname, '../../rules/system');

  it('every file in rules/system parses, one per demo machine type', () => {
    const sets = readdirSync(folder)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => parseSystemRuleFile(f, readFileSync(join(folder, f), 'utf8')));
    expect(sets.map((s) => s.machineType).sort()).toEqual(['db-host', 'web', 'worker']);
    const web = sets.find((s) => s.machineType === 'web')!;
    expect(web.publicPorts).toEqual([80, 443]);
    expect(web.rules.find((r) => r.id === 'system:web:ssh')).toMatchObject({
      kind: 'system',
      scope: { type: 'machine-type', name: 'web' },
      protocol: 'tcp',
      ports: { from: 22, to: 22 },
      source: { type: 'group', group: 'jumpboxes' },
    });
  });

  it('names every problem with its place in the file', () => {
    const bad = [
      'machineType: web',
      'version: 1',
      'rules:',
      '  - { id: aa, protocol: tcp, source: 192.0.2.1/24, description: x, ports: 22 }',
      '  - { id: aa, protocol: icmp, ports: 1, source: jumpboxes, description: y }',
      '  - { id: cc, protocol: udp, source: jumpboxes, description: z }',
    ].join('\n');
    try {
      parseSystemRuleFile('web.yaml', bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SystemRuleFileError);
      const problems = (error as SystemRuleFileError).problems;
      expect(problems).toHaveLength(4);
      expect(problems[0]).toMatch(/rules\.0 \(aa\).*host bits/);
      expect(problems.join('\n')).toMatch(/rules\.1 \(aa\): id is used twice/);
      expect(problems.join('\n')).toMatch(/icmp has no ports/);
      expect(problems.join('\n')).toMatch(/rules\.2 \(cc\): udp needs ports/);
    }
    expect(() => parseSystemRuleFile('x.yaml', 'machineType: web\nversion: 1\nrules: []\nextra: 1')).toThrow(
      /extra|Unrecognized/,
    );
    expect(() => parseSystemRuleFile('x.yaml', ': : :')).toThrow(SystemRuleFileError);
  });
});

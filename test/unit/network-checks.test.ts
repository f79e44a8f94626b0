import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkRule,
  checkRuleSet,
  defaultCheckPolicy,
  type CheckId,
} from '../../src/modules/network/domain/checks.js';
import { parseSource, type Rule } from '../../src/modules/network/domain/rule.js';

let n = 0;
function rule(source: string, ports: string | null, extra: Partial<Rule> = {}): Rule {
  const parsed = parseSource(source);
  if ('error' in parsed) throw new Error(parsed.error);
  const [from, to] = (ports ?? '').split('-').map(Number);
  return {
    id: `r${++n}`,
    kind: 'customer',
    scope: { type: 'machine-type', name: 'web' },
    protocol: 'tcp',
    ports: ports === null ? null : { from: from!, to: to ?? from! },
    source: parsed,
    description: 'test',
    owner: 'ops',
    ticket: 'NET-1',
    customer: 'acme',
    environment: 'production',
    ...extra,
  };
}

const ids = (r: Rule, others: Rule[] = [], publicPorts: number[] = []) =>
  checkRule(r, { policy: defaultCheckPolicy, publicPorts, others }).map((f) => f.check);

describe('security checks', () => {
  it('5432 to the whole internet is refused by the admin-port and world-open checks, with a fix', () => {
    const findings = checkRule(rule('0.0.0.0/0', '5432'), {
      policy: defaultCheckPolicy,
      publicPorts: [443],
      others: [],
    });
    expect(findings.map((f) => f.check)).toEqual(['admin-port-source', 'world-open-port']);
    expect(findings[0]!.message).toMatch(/only from jumpboxes/);
    expect(findings[1]!.message).toMatch(/5432.*not a declared public port \(443\)/);
  });

  it('admin and database ports are fine from jumpboxes only', () => {
    expect(ids(rule('jumpboxes', '22'))).toEqual([]);
    expect(ids(rule('app-tier', '3306'))).toEqual(['admin-port-source']);
    expect(ids(rule('192.0.2.10', '5985-5990'))).toEqual(['admin-port-source']);
    expect(ids(rule('192.0.2.10', '3300-3310'))).toEqual(['admin-port-source']);
    expect(ids(rule('192.0.2.10', '8080'))).toEqual([]);
  });

  it('world-open only on declared public ports, both families', () => {
    expect(ids(rule('0.0.0.0/0', '443'), [], [443])).toEqual([]);
    expect(ids(rule('::/0', '443'), [], [443])).toEqual([]);
    expect(ids(rule('::/0', '443-444'), [], [443])).toEqual(['world-open-port']);
    expect(ids(rule('0.0.0.0/0', null, { protocol: 'icmp' }))).toEqual(['world-open-port']);
  });

  it('CIDR breadth limits per family', () => {
    expect(ids(rule('10.0.0.0/8', '8080'))).toEqual(['cidr-too-broad']);
    expect(ids(rule('10.1.0.0/16', '8080'))).toEqual([]);
    expect(ids(rule('2000::/16', '8080'))).toEqual(['cidr-too-broad']);
    expect(ids(rule('2001:db8::/32', '8080'))).toEqual([]);
  });

  it('port and protocol sanity', () => {
    expect(ids(rule('192.0.2.0/24', '1-65535'))).toEqual(['admin-port-source', 'port-protocol-sanity']);
    expect(ids(rule('192.0.2.0/24', '1', { protocol: 'icmp' }))).toEqual(['port-protocol-sanity']);
    expect(ids(rule('192.0.2.0/24', null))).toEqual(['port-protocol-sanity']);
    expect(ids(rule('192.0.2.0/24', '9000-9001'))).toEqual([]);
  });

  it('duplicates and shadowed rules on the same scope', () => {
    const wide = rule('192.0.2.0/24', '8000-8100');
    expect(ids(rule('192.0.2.0/24', '8000-8100'), [wide])).toEqual(['duplicate-rule']);
    expect(ids(rule('192.0.2.128/25', '8080'), [wide])).toEqual(['shadowed-rule']);
    expect(ids(rule('192.0.2.0/23', '8080'), [wide])).toEqual([]);
    expect(
      ids(rule('192.0.2.0/24', '8080', { scope: { type: 'machine-type', name: 'worker' } }), [wide]),
    ).toEqual([]);
    expect(ids(rule('192.0.2.0/24', '8080', { environment: 'staging' }), [wide])).toEqual([]);
    const set = checkRuleSet([wide, rule('192.0.2.0/24', '8000-8100')], defaultCheckPolicy, () => []);
    expect(set.map((f) => f.check)).toEqual(['duplicate-rule']);
  });

  it('every finding names the field a form shows it next to', () => {
    const at = (r: Rule, others: Rule[] = []) =>
      checkRule(r, { policy: defaultCheckPolicy, publicPorts: [], others }).map(
        (f) => `${f.check}:${f.field}`,
      );
    expect(at(rule('0.0.0.0/0', '5432'))).toEqual(['admin-port-source:source', 'world-open-port:source']);
    expect(at(rule('10.0.0.0/8', '8080'))).toEqual(['cidr-too-broad:source']);
    expect(at(rule('192.0.2.0/24', '10000-12000'))).toEqual(['port-protocol-sanity:ports']);
    const first = rule('192.0.2.0/24', '8000-8100');
    expect(at(rule('192.0.2.0/24', '8000-8100'), [first])).toEqual(['duplicate-rule:rule']);
    expect(at(rule('192.0.2.0/25', '8080'), [first])).toEqual(['shadowed-rule:rule']);
  });

  it('property: whatever the port, a source other than jumpboxes never reaches an admin port unflagged', () => {
    const adminPorts = [22, 1433, 1521, 3306, 3389, 5432, 5985, 5986];
    fc.assert(
      fc.property(
        fc.constantFrom(...adminPorts),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.oneof(
          fc.constant('app-tier'),
          fc.constant('0.0.0.0/0'),
          fc.ipV4().map((ip) => `${ip}/32`),
        ),
        (port, below, above, source) => {
          const r = rule(source, `${Math.max(1, port - below)}-${port + above}`);
          const found: CheckId[] = ids(r, [], [80, 443]);
          expect(found).toContain('admin-port-source');
          expect(ids({ ...r, source: { type: 'group', group: 'jumpboxes' } })).not.toContain(
            'admin-port-source',
          );
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileSecurityGroup,
  fromIpPermissions,
  sgRuleKey,
  toIpPermissions,
} from '../../src/modules/network/domain/cloud-layer.js';
import { type AssetTarget, type GroupMembers } from '../../src/modules/network/domain/compile.js';
import {
  compileHostTable,
  groupOfSet,
  renderHostTable,
  setNameFor,
  TABLE,
} from '../../src/modules/network/domain/host-layer.js';
import { parseObservedTable } from '../../src/modules/network/domain/host-observe.js';
import {
  brake,
  defaultBrakePolicy,
  inSync,
  planCloudLayer,
  planHostLayer,
} from '../../src/modules/network/domain/plan.js';
import { parseSource, type Rule } from '../../src/modules/network/domain/rule.js';
import { NftModel } from '../support/nft-model.js';

const asset: AssetTarget = {
  id: 'a1',
  name: 'acme-p-web-1',
  machineType: 'web',
  groups: ['web-tier'],
  customer: 'acme',
  environment: 'production',
};

const sourceArb = fc.constantFrom(
  '192.0.2.0/24',
  '192.0.2.7',
  '198.51.100.0/25',
  '203.0.113.9',
  '0.0.0.0/0',
  '::/0',
  '2001:db8::/32',
  '2001:db8:1::5',
  'jumpboxes',
  'app-tier',
  'customer:acme:frontends',
);

const ruleArb: fc.Arbitrary<Rule> = fc
  .record({
    id: fc.uuid(),
    kind: fc.constantFrom('system' as const, 'customer' as const),
    scope: fc.constantFrom(
      { type: 'machine-type' as const, name: 'web' },
      { type: 'machine-type' as const, name: 'worker' },
      { type: 'asset-group' as const, name: 'web-tier' },
      { type: 'asset' as const, name: 'acme-p-web-1' },
    ),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const),
    from: fc.integer({ min: 1, max: 65535 }),
    span: fc.integer({ min: 0, max: 40 }),
    source: sourceArb,
    environment: fc.constantFrom('production', 'staging'),
  })
  .map((r) => ({
    id: r.id,
    kind: r.kind,
    scope: r.scope,
    protocol: r.protocol,
    ports: r.protocol === 'icmp' ? null : { from: r.from, to: Math.min(65535, r.from + r.span) },
    source: parseSource(r.source) as Rule['source'],
    description: 'generated',
    owner: 'test',
    ticket: null,
    customer: r.kind === 'customer' ? 'acme' : null,
    environment: r.kind === 'customer' ? r.environment : null,
  }));

const membersArb: fc.Arbitrary<GroupMembers> = fc
  .record({
    jumpboxes: fc.subarray(['192.0.2.10/32', '192.0.2.11/32', '2001:db8:ff::10/128']),
    'app-tier': fc.subarray(['198.51.100.20/32', '198.51.100.21/32', '198.51.100.64/26']),
  })
  .map((m) => new Map(Object.entries(m)));

function observeHost(model: NftModel) {
  try {
    return parseObservedTable(model.list(TABLE.family, TABLE.name));
  } catch {
    return parseObservedTable({ nftables: [] });
  }
}

describe('compiler and diff (properties)', () => {
  it('host layer: compile → apply → observe → diff is empty, and the table enforces', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 30 }), membersArb, (rules, members) => {
        const desired = compileHostTable(rules, asset, members);
        const model = new NftModel();
        model.apply(renderHostTable(desired));
        const observed = observeHost(model);
        expect(observed.enforcing).toBe(true);
        expect(observed.unknown).toEqual([]);
        expect(inSync(planHostLayer(desired, observed))).toBe(true);
      }),
    );
  });

  it('host layer: from any earlier table the plan names exactly the difference, and one apply converges', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 20 }),
        fc.array(ruleArb, { maxLength: 20 }),
        membersArb,
        (before, after, members) => {
          const model = new NftModel();
          model.apply(renderHostTable(compileHostTable(before, asset, members)));
          const desired = compileHostTable(after, asset, members);
          const plan = planHostLayer(desired, observeHost(model));
          const old = compileHostTable(before, asset, members);
          const keys = (t: typeof desired) =>
            new Set(t.rules.map((r) => JSON.stringify([r.family, r.protocol, r.ports, r.source])));
          const [a, b] = [keys(old), keys(desired)];
          expect(plan.adds.filter((i) => i.what.startsWith('rule')).length).toBe(
            [...b].filter((k) => !a.has(k)).length,
          );
          expect(plan.removals.filter((i) => i.what.startsWith('rule')).length).toBe(
            [...a].filter((k) => !b.has(k)).length,
          );
          model.apply(renderHostTable(desired));
          expect(inSync(planHostLayer(desired, observeHost(model)))).toBe(true);
        },
      ),
    );
  });

  it('cloud layer: compile → IpPermissions → observe → diff is empty; ports grouped, ranges merged', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 30 }),
        membersArb,
        fc.boolean(),
        (rules, members, referenceJumpboxes) => {
          const sgs = new Map(referenceJumpboxes ? [['jumpboxes', 'sg-0jump']] : []);
          const desired = compileSecurityGroup(rules, asset, members, sgs);
          const permissions = toIpPermissions(desired);
          expect(new Set(permissions.map((p) => `${p.IpProtocol} ${p.FromPort} ${p.ToPort}`)).size).toBe(
            permissions.length,
          );
          const observed = fromIpPermissions(permissions);
          expect(observed.unknown).toEqual([]);
          expect(inSync(planCloudLayer(desired, observed, { rulesPerGroup: 1000 }))).toBe(true);
          // no two entries of one source and protocol overlap or touch: they were merged
          for (const a of desired)
            for (const b of desired) {
              if (
                a === b ||
                a.protocol !== b.protocol ||
                sgRuleKey({ ...a, from: 0, to: 0 }) !== sgRuleKey({ ...b, from: 0, to: 0 })
              )
                continue;
              expect(a.to + 1 < b.from || b.to + 1 < a.from).toBe(true);
            }
        },
      ),
    );
  });

  it('cloud layer: authorize then revoke from any observed group reaches the desired group', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 20 }),
        fc.array(ruleArb, { maxLength: 20 }),
        membersArb,
        (before, after, members) => {
          const none = new Map<string, string>();
          const observed = fromIpPermissions(
            toIpPermissions(compileSecurityGroup(before, asset, members, none)),
          );
          const desired = compileSecurityGroup(after, asset, members, none);
          const plan = planCloudLayer(desired, observed, { rulesPerGroup: 1000 });
          const state = new Map(observed.rules.map((r) => [sgRuleKey(r), r]));
          for (const r of plan.authorize) state.set(sgRuleKey(r), r);
          for (const r of plan.revoke) state.delete(sgRuleKey(r));
          expect([...state.keys()].sort()).toEqual(desired.map(sgRuleKey).sort());
        },
      ),
    );
  });

  it('brake: removing everything from a layer holding more than a few entries always stops; no change never stops', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 30 }), membersArb, (rules, members) => {
        const model = new NftModel();
        const current = compileHostTable(rules, asset, members);
        model.apply(renderHostTable(current));
        const observed = observeHost(model);
        const keep = planHostLayer(current, observed);
        expect(brake([keep], defaultBrakePolicy).stopped).toBe(false);
        const wipe = planHostLayer({ sets: [], rules: [] }, observed);
        const verdict = brake([wipe], defaultBrakePolicy);
        expect(verdict.stopped).toBe(verdict.removals > defaultBrakePolicy.minChanges);
      }),
    );
  });
});

describe('compiler (examples)', () => {
  const members: GroupMembers = new Map([['jumpboxes', ['192.0.2.10/32', '2001:db8::10/128']]]);
  const rules: Rule[] = [
    {
      id: 'system:web:ssh',
      kind: 'system',
      scope: { type: 'machine-type', name: 'web' },
      protocol: 'tcp',
      ports: { from: 22, to: 22 },
      source: { type: 'group', group: 'jumpboxes' },
      description: '',
      owner: '',
      ticket: null,
      customer: null,
      environment: null,
    },
    {
      id: 'c-1',
      kind: 'customer',
      scope: { type: 'asset-group', name: 'web-tier' },
      protocol: 'tcp',
      ports: { from: 8443, to: 8443 },
      source: { type: 'cidr', cidr: '203.0.113.0/24' },
      description: '',
      owner: '',
      ticket: 'NET-1',
      customer: 'acme',
      environment: 'production',
    },
    {
      id: 'c-2',
      kind: 'customer',
      scope: { type: 'asset-group', name: 'web-tier' },
      protocol: 'tcp',
      ports: { from: 8444, to: 8444 },
      source: { type: 'cidr', cidr: '203.0.113.0/24' },
      description: '',
      owner: '',
      ticket: 'NET-2',
      customer: 'acme',
      environment: 'production',
    },
    {
      id: 'c-other-env',
      kind: 'customer',
      scope: { type: 'machine-type', name: 'web' },
      protocol: 'tcp',
      ports: { from: 9000, to: 9000 },
      source: { type: 'cidr', cidr: '203.0.113.0/24' },
      description: '',
      owner: '',
      ticket: null,
      customer: 'acme',
      environment: 'staging',
    },
  ];

  it('nftables: named sets per group and family, one accept per opening, other environments left out', () => {
    const table = compileHostTable(rules, asset, members);
    expect(table.sets).toEqual([
      { name: 'g4_jumpboxes', family: 4, elements: ['192.0.2.10/32'] },
      { name: 'g6_jumpboxes', family: 6, elements: ['2001:db8::10/128'] },
    ]);
    expect(
      table.rules.map((r) => `${r.family} ${r.protocol} ${r.ports?.from} ${JSON.stringify(r.source)}`),
    ).toEqual([
      '4 tcp 22 {"type":"set","set":"g4_jumpboxes"}',
      '4 tcp 8443 {"type":"cidr","cidr":"203.0.113.0/24"}',
      '4 tcp 8444 {"type":"cidr","cidr":"203.0.113.0/24"}',
      '6 tcp 22 {"type":"set","set":"g6_jumpboxes"}',
    ]);
    expect(groupOfSet(setNameFor('customer:acme:front-ends', 6))).toEqual({
      group: 'customer:acme:front-ends',
      family: 6,
    });
  });

  it('security group: adjacent ports merged, group referenced by its security group when it has one', () => {
    const sg = compileSecurityGroup(rules, asset, members, new Map([['jumpboxes', 'sg-0jump']]));
    expect(toIpPermissions(sg)).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        UserIdGroupPairs: [{ GroupId: 'sg-0jump', Description: 'gatehouse: system:web:ssh' }],
      },
      {
        IpProtocol: 'tcp',
        FromPort: 8443,
        ToPort: 8444,
        IpRanges: [{ CidrIp: '203.0.113.0/24', Description: 'gatehouse: c-1 c-2' }],
      },
    ]);
    const expanded = compileSecurityGroup(rules, asset, members, new Map());
    expect(toIpPermissions(expanded)[0]).toMatchObject({
      IpRanges: [{ CidrIp: '192.0.2.10/32' }],
      Ipv6Ranges: [{ CidrIpv6: '2001:db8::10/128' }],
    });
  });

  it('a rule added by hand is reported, and a quota overrun blocks the plan', () => {
    const desired = compileHostTable(rules, asset, members);
    const model = new NftModel();
    model.apply(renderHostTable(desired));
    model.addRule('inet', 'gatehouse', {
      chain: 'input',
      expr: [
        { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 23 } },
        { accept: null },
      ],
    });
    const plan = planHostLayer(desired, observeHost(model));
    expect(plan.unknown).toHaveLength(1);
    expect(plan.unknown[0]).toContain('"dport"');
    const sg = compileSecurityGroup(rules, asset, members, new Map());
    expect(planCloudLayer(sg, { rules: [], unknown: [] }, { rulesPerGroup: 2 }).blockers[0]).toMatch(
      /exceed the quota of 2/,
    );
  });
});

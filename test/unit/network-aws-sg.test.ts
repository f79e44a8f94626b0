import { describe, expect, it } from 'vitest';
import { createAwsSgEnforcer, OWNER_TAG } from '../../src/adapters/enforcers/aws-sg/aws-sg-enforcer.js';
import { compileAsset } from '../../src/modules/network/domain/desired.js';
import { inSync } from '../../src/modules/network/domain/plan.js';
import type { Rule } from '../../src/modules/network/domain/rule.js';
import { FakeEc2 } from '../support/fake-ec2.js';

const asset = {
  id: 'a',
  name: 'web-1',
  machineType: 'web',
  groups: [],
  customer: 'acme',
  environment: 'production',
};
const members = new Map([['jumpboxes', ['192.0.2.10/32', '192.0.2.11/32', '2001:db8::10/128']]]);

function rule(id: string, port: number, source: Rule['source']): Rule {
  return {
    id,
    kind: 'system',
    scope: { type: 'machine-type', name: 'web' },
    protocol: 'tcp',
    ports: { from: port, to: port },
    source,
    description: '',
    owner: '',
    ticket: null,
    customer: null,
    environment: null,
  };
}

const rules = [
  rule('ssh', 22, { type: 'group', group: 'jumpboxes' }),
  rule('https', 443, { type: 'cidr', cidr: '0.0.0.0/0' }),
  rule('alt', 444, { type: 'cidr', cidr: '0.0.0.0/0' }),
];
const desired = compileAsset(rules, asset, members, new Map());

function setup(options: { handMade?: boolean; quota?: number } = {}) {
  const ec2 = new FakeEc2();
  ec2.addGroup(
    'sg-0123456789abcdef0',
    options.handMade
      ? [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            CidrIpv4: '0.0.0.0/0',
            Description: 'ssh from anywhere (hand-made)',
          },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 444, CidrIpv4: '0.0.0.0/0' },
          { IpProtocol: '-1', CidrIpv4: '10.0.0.0/8' },
        ]
      : [],
  );
  const sleeps: number[] = [];
  const enforcer = createAwsSgEnforcer({
    client: ec2.client,
    groupId: 'sg-0123456789abcdef0',
    region: 'eu-west-1',
    quota: { rulesPerGroup: options.quota ?? 60 },
    sleep: async (ms) => {
      sleeps.push(ms);
      await Promise.resolve();
    },
  });
  return { ec2, enforcer, sleeps };
}

describe('aws security-group enforcer (SDK boundary)', () => {
  it('converges a hand-made group: authorizes first, then revokes what it did not put there, tagging its rules', async () => {
    const { ec2, enforcer } = setup({ handMade: true });
    const before = await enforcer.observe(desired);
    expect(before.adds.map((a) => a.what)).toEqual([
      'tcp 22 from 192.0.2.10/32',
      'tcp 22 from 192.0.2.11/32',
      'tcp 22 from 2001:db8::10/128',
    ]);
    expect(before.removals.map((r) => r.what)).toEqual(['tcp 22 from 0.0.0.0/0']);
    expect(before.unknown).toHaveLength(1);
    await enforcer.apply(desired);
    expect(ec2.calls.filter((c) => c !== 'describe')).toEqual(['authorize', 'revoke']);
    expect(inSync(await enforcer.observe(desired))).toBe(true);
    const ingress = ec2.ingress('sg-0123456789abcdef0');
    expect(ingress.map((r) => `${r.FromPort}-${r.ToPort} ${r.CidrIpv4 ?? r.CidrIpv6}`).sort()).toEqual([
      '22-22 192.0.2.10/32',
      '22-22 192.0.2.11/32',
      '22-22 2001:db8::10/128',
      '443-444 0.0.0.0/0',
    ]);
    // the kept hand-made 443-444 is not tagged; what Gatehouse wrote is
    expect(ingress.filter((r) => r.Tags?.some((t) => t.Key === OWNER_TAG)).length).toBe(3);
  });

  it('is idempotent: a second apply sends no change', async () => {
    const { ec2, enforcer } = setup({ handMade: true });
    await enforcer.apply(desired);
    ec2.calls = [];
    await enforcer.apply(desired);
    expect(ec2.calls.every((c) => c === 'describe')).toBe(true);
  });

  it('reads every page of a large group', async () => {
    const { ec2, enforcer } = setup();
    await enforcer.apply(desired);
    ec2.pageSize = 1;
    ec2.calls = [];
    expect(inSync(await enforcer.observe(desired))).toBe(true);
    expect(ec2.calls.length).toBe(4);
  });

  it('backs off and retries when throttled', async () => {
    const { ec2, enforcer, sleeps } = setup({ handMade: true });
    ec2.throttleNext = 3;
    await enforcer.apply(desired);
    expect(sleeps).toEqual([200, 400, 800]);
    expect(inSync(await enforcer.observe(desired))).toBe(true);
  });

  it('two applies racing on one group both succeed (duplicates count as done)', async () => {
    const { ec2, enforcer } = setup({ handMade: true });
    await Promise.all([enforcer.apply(desired), enforcer.apply(desired)]);
    expect(inSync(await enforcer.observe(desired))).toBe(true);
    expect(ec2.ingress('sg-0123456789abcdef0')).toHaveLength(4);
  });

  it('a failed authorize leaves the group with every old rule (never emptied, nothing revoked)', async () => {
    const { ec2, enforcer } = setup({ handMade: true });
    const old = ec2.ingress('sg-0123456789abcdef0').map((r) => r.SecurityGroupRuleId);
    ec2.failAuthorizeNext = 1;
    await expect(enforcer.apply(desired)).rejects.toMatchObject({
      code: 'target_unavailable',
      retryable: true,
    });
    expect(ec2.ingress('sg-0123456789abcdef0').map((r) => r.SecurityGroupRuleId)).toEqual(old);
    expect(ec2.calls).not.toContain('revoke');
  });

  it('a plan over the rules-per-group quota fails at plan time and changes nothing', async () => {
    const { ec2, enforcer } = setup({ quota: 3 });
    const plan = await enforcer.observe(desired);
    expect(plan.blockers[0]).toMatch(/4 rules exceed the quota of 3/);
    await expect(enforcer.apply(desired)).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(ec2.calls).not.toContain('authorize');
  });
});

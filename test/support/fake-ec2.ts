import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  type DescribeSecurityGroupRulesCommandInput,
  type RevokeSecurityGroupIngressCommandInput,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * EC2 security groups at the SDK boundary (aws-sdk-client-mock), re-implementing the rules the
 * enforcer relies on: ingress rules with ids, tags and descriptions; a duplicate in an authorize call
 * fails the whole call (InvalidPermission.Duplicate) and adds nothing; revoking an unknown rule id
 * fails the call (InvalidSecurityGroupRuleId.NotFound); the rules-per-group quota; paginated describe;
 * injected throttling (RequestLimitExceeded) and failures.
 */
export class FakeEc2 {
  readonly client = new EC2Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  readonly groups = new Map<string, SecurityGroupRule[]>();
  quota = 60;
  pageSize = 4;
  throttleNext = 0;
  failAuthorizeNext = 0;
  calls: string[] = [];
  private next = 1;

  constructor() {
    const mock = mockClient(this.client);
    mock
      .on(DescribeSecurityGroupRulesCommand)
      .callsFake((input: DescribeSecurityGroupRulesCommandInput) => this.describe(input));
    mock
      .on(AuthorizeSecurityGroupIngressCommand)
      .callsFake((input: AuthorizeSecurityGroupIngressCommandInput) => this.authorize(input));
    mock
      .on(RevokeSecurityGroupIngressCommand)
      .callsFake((input: RevokeSecurityGroupIngressCommandInput) => this.revoke(input));
  }

  addGroup(groupId: string, rules: Omit<SecurityGroupRule, 'SecurityGroupRuleId' | 'GroupId'>[] = []): void {
    this.groups.set(groupId, []);
    for (const rule of rules)
      this.group(groupId).push({
        ...rule,
        GroupId: groupId,
        SecurityGroupRuleId: this.newId(),
        IsEgress: false,
      });
  }

  ingress(groupId: string): SecurityGroupRule[] {
    return this.group(groupId).filter((r) => !r.IsEgress);
  }

  private newId() {
    return `sgr-${(this.next++).toString(16).padStart(17, '0')}`;
  }

  private fail(name: string, message: string): never {
    throw Object.assign(new Error(message), { name, Code: name, $fault: 'client' });
  }

  private gate(what: string) {
    this.calls.push(what);
    if (this.throttleNext > 0) {
      this.throttleNext--;
      this.fail('RequestLimitExceeded', 'Request limit exceeded.');
    }
  }

  private group(groupId: string | undefined): SecurityGroupRule[] {
    const rules = groupId ? this.groups.get(groupId) : undefined;
    if (!rules) this.fail('InvalidGroup.NotFound', `The security group '${groupId ?? ''}' does not exist`);
    return rules;
  }

  private describe(input: DescribeSecurityGroupRulesCommandInput) {
    this.gate('describe');
    const groupId = input.Filters?.find((f) => f.Name === 'group-id')?.Values?.[0];
    const rules = this.group(groupId);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(this.pageSize, input.MaxResults ?? 1000);
    const page = rules.slice(start, start + size);
    const more = start + size < rules.length;
    return {
      SecurityGroupRules: structuredClone(page),
      ...(more ? { NextToken: String(start + size) } : {}),
    };
  }

  private authorize(input: AuthorizeSecurityGroupIngressCommandInput) {
    this.gate('authorize');
    const rules = this.group(input.GroupId);
    if (this.failAuthorizeNext > 0) {
      this.failAuthorizeNext--;
      this.fail('InternalError', 'An internal error has occurred');
    }
    const tags = input.TagSpecifications?.flatMap((t) => t.Tags ?? []) ?? [];
    const adding: SecurityGroupRule[] = [];
    for (const p of input.IpPermissions ?? []) {
      const base = {
        GroupId: input.GroupId,
        IsEgress: false,
        IpProtocol: p.IpProtocol,
        FromPort: p.FromPort,
        ToPort: p.ToPort,
        Tags: tags,
      };
      for (const r of p.IpRanges ?? [])
        adding.push({ ...base, CidrIpv4: r.CidrIp, Description: r.Description });
      for (const r of p.Ipv6Ranges ?? [])
        adding.push({ ...base, CidrIpv6: r.CidrIpv6, Description: r.Description });
      for (const r of p.UserIdGroupPairs ?? [])
        adding.push({ ...base, ReferencedGroupInfo: { GroupId: r.GroupId }, Description: r.Description });
    }
    const same = (a: SecurityGroupRule, b: SecurityGroupRule) =>
      a.IpProtocol === b.IpProtocol &&
      a.FromPort === b.FromPort &&
      a.ToPort === b.ToPort &&
      a.CidrIpv4 === b.CidrIpv4 &&
      a.CidrIpv6 === b.CidrIpv6 &&
      a.ReferencedGroupInfo?.GroupId === b.ReferencedGroupInfo?.GroupId;
    const duplicate = adding.find((a) => rules.some((r) => same(r, a)));
    if (duplicate) this.fail('InvalidPermission.Duplicate', 'the specified rule already exists');
    if (rules.filter((r) => !r.IsEgress).length + adding.length > this.quota) {
      this.fail(
        'RulesPerSecurityGroupLimitExceeded',
        'The maximum number of rules per security group has been reached.',
      );
    }
    for (const rule of adding) rules.push({ ...rule, SecurityGroupRuleId: this.newId() });
    return { Return: true };
  }

  private revoke(input: RevokeSecurityGroupIngressCommandInput) {
    this.gate('revoke');
    const rules = this.group(input.GroupId);
    const ids = input.SecurityGroupRuleIds ?? [];
    const missing = ids.find((id) => !rules.some((r) => r.SecurityGroupRuleId === id));
    if (missing)
      this.fail(
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${missing}' does not exist`,
      );
    this.groups.set(
      input.GroupId ?? '',
      rules.filter((r) => !ids.includes(r.SecurityGroupRuleId ?? '')),
    );
    return { Return: true };
  }
}

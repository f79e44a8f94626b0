import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { GatehouseError, TransientError } from '../../../platform/errors.js';
import {
  fromIpPermissions,
  sgRuleKey,
  toIpPermissions,
  type IpPermission,
  type SgRule,
} from '../../../modules/network/domain/cloud-layer.js';
import { planCloudLayer, type CloudQuota } from '../../../modules/network/domain/plan.js';
import type { DesiredLayers, LayerEnforcer } from '../types.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * The cloud layer: one security group per asset, managed whole. Reads with DescribeSecurityGroupRules
 * (paginated), authorizes before it revokes — so the group never allows less than both the old and
 * the new rule set — and tags the rules it writes as Gatehouse's. Duplicate and not-found answers
 * count as done (idempotent); throttling is retried with backoff.
 */
export const OWNER_TAG = 'gatehouse:owned';
const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
const PER_CALL = 50;

export interface AwsSgEnforcerDeps {
  client: Pick<EC2Client, 'send'>;
  groupId: string;
  region: string;
  quota: CloudQuota;
  limiter?: RateLimiter;
  /** backoff between throttled attempts; injected so tests do not wait */
  sleep?: (ms: number) => Promise<void>;
  maxAttempts?: number;
}

interface ObservedRule {
  rule: SgRule;
  ids: string[];
}

function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; Code?: unknown };
    if (typeof e.Code === 'string') return e.Code;
    if (typeof e.name === 'string') return e.name;
  }
  return '';
}

function asPermission(entry: SecurityGroupRule): IpPermission {
  return {
    IpProtocol: entry.IpProtocol,
    FromPort: entry.FromPort,
    ToPort: entry.ToPort,
    ...(entry.CidrIpv4 ? { IpRanges: [{ CidrIp: entry.CidrIpv4, Description: entry.Description }] } : {}),
    ...(entry.CidrIpv6 ? { Ipv6Ranges: [{ CidrIpv6: entry.CidrIpv6, Description: entry.Description }] } : {}),
    ...(entry.ReferencedGroupInfo?.GroupId
      ? { UserIdGroupPairs: [{ GroupId: entry.ReferencedGroupInfo.GroupId, Description: entry.Description }] }
      : {}),
  };
}

export function createAwsSgEnforcer(deps: AwsSgEnforcerDeps): LayerEnforcer {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = deps.maxAttempts ?? 6;
  const target = `${deps.groupId} in ${deps.region}`;

  async function call<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await deps.limiter?.take();
      try {
        return await send();
      } catch (error) {
        if (!THROTTLED.has(errorName(error)) || attempt >= maxAttempts) throw error;
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  async function read(): Promise<{ rules: ObservedRule[]; unknown: string[] }> {
    const entries: SecurityGroupRule[] = [];
    let NextToken: string | undefined;
    do {
      const page = await call(() =>
        deps.client.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: 'group-id', Values: [deps.groupId] }],
            MaxResults: 1000,
            ...(NextToken ? { NextToken } : {}),
          }),
        ),
      );
      entries.push(...(page.SecurityGroupRules ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const byKey = new Map<string, ObservedRule>();
    const unknown: string[] = [];
    for (const entry of entries.filter((e) => !e.IsEgress)) {
      const parsed = fromIpPermissions([asPermission(entry)]);
      unknown.push(...parsed.unknown.map((u) => `${entry.SecurityGroupRuleId ?? '?'}: ${u}`));
      if (entry.PrefixListId)
        unknown.push(`${entry.SecurityGroupRuleId ?? '?'}: prefix list ${entry.PrefixListId}`);
      for (const rule of parsed.rules) {
        const key = sgRuleKey(rule);
        const seen = byKey.get(key) ?? { rule, ids: [] };
        if (entry.SecurityGroupRuleId) seen.ids.push(entry.SecurityGroupRuleId);
        byKey.set(key, seen);
      }
    }
    return { rules: [...byKey.values()], unknown };
  }

  async function authorize(rules: readonly SgRule[]): Promise<void> {
    for (let i = 0; i < rules.length; i += PER_CALL) {
      const batch = rules.slice(i, i + PER_CALL);
      try {
        await call(() =>
          deps.client.send(
            new AuthorizeSecurityGroupIngressCommand({
              GroupId: deps.groupId,
              IpPermissions: toIpPermissions(batch),
              TagSpecifications: [
                { ResourceType: 'security-group-rule', Tags: [{ Key: OWNER_TAG, Value: 'true' }] },
              ],
            }),
          ),
        );
      } catch (error) {
        // one duplicate fails the whole call: retry the batch one rule at a time, skipping duplicates
        if (errorName(error) !== 'InvalidPermission.Duplicate') throw error;
        if (batch.length === 1) continue;
        for (const rule of batch) await authorize([rule]);
      }
    }
  }

  async function revoke(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += PER_CALL) {
      const batch = ids.slice(i, i + PER_CALL);
      try {
        await call(() =>
          deps.client.send(
            new RevokeSecurityGroupIngressCommand({ GroupId: deps.groupId, SecurityGroupRuleIds: batch }),
          ),
        );
      } catch (error) {
        const name = errorName(error);
        if (!name.endsWith('.NotFound')) throw error;
        if (batch.length === 1) continue;
        for (const id of batch) await revoke([id]);
      }
    }
  }

  const wrap = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof GatehouseError) throw error;
      const name = errorName(error);
      const message =
        `${target}: ${what} failed: ${name || 'error'} ${(error as Error).message ?? ''}`.trim();
      throw THROTTLED.has(name) || name === '' || name.startsWith('Internal')
        ? new TransientError('target_unavailable', message, { cause: error })
        : new GatehouseError('target_unavailable', message, { cause: error });
    }
  };

  const planAgainst = (desired: DesiredLayers, observed: { rules: ObservedRule[]; unknown: string[] }) =>
    planCloudLayer(
      desired.cloud,
      { rules: observed.rules.map((o) => o.rule), unknown: observed.unknown },
      deps.quota,
    );

  return {
    layer: 'cloud',
    target,
    observe: (desired) => wrap('describe', async () => planAgainst(desired, await read())),
    apply: (desired) =>
      wrap('apply', async () => {
        const observed = await read();
        const plan = planAgainst(desired, observed);
        if (plan.blockers.length > 0) {
          throw new GatehouseError('precondition_failed', `${target}: ${plan.blockers.join('; ')}`);
        }
        await authorize(plan.authorize);
        const ids = new Map(observed.rules.map((o) => [sgRuleKey(o.rule), o.ids]));
        const revokeIds = plan.revoke.flatMap((r) => ids.get(sgRuleKey(r)) ?? []);
        // rules Gatehouse cannot model are not Gatehouse's to keep on a group it manages
        const unknownIds = observed.unknown
          .map((u) => u.split(':')[0] ?? '')
          .filter((id) => id.startsWith('sgr-'));
        await revoke([...new Set([...revokeIds, ...unknownIds])]);
      }),
  };
}

import { createAwsSgEnforcer } from '../../src/adapters/enforcers/aws-sg/aws-sg-enforcer.js';
import { createRateLimiter } from '../../src/adapters/enforcers/aws-sg/rate-limiter.js';
import { fromIpPermissions, toIpPermissions } from '../../src/modules/network/domain/cloud-layer.js';
import { compileAsset } from '../../src/modules/network/domain/desired.js';
import { renderHostTable } from '../../src/modules/network/domain/host-layer.js';
import { parseObservedTable } from '../../src/modules/network/domain/host-observe.js';
import { planCloudLayer, planHostLayer } from '../../src/modules/network/domain/plan.js';
import type { Rule } from '../../src/modules/network/domain/rule.js';
import { indexRules, type AssetTarget } from '../../src/modules/network/domain/compile.js';
import { mapLimit } from '../../src/modules/network/plan.service.js';
import { FakeEc2 } from '../../test/support/fake-ec2.js';
import { NftModel } from '../../test/support/nft-model.js';
import type { BenchGroup } from '../framework.js';

/**
 * Network rules at fleet scale, on the pure compiler and diff plus the real AWS enforcer:
 *  - plan_s: 2,500 servers and 950 databases of 250 customers, about 30 rules each (system rules per
 *    machine type, 20 customer rules per environment, dynamic groups), both layers: compile, parse
 *    what each layer reports (nft JSON listings, security-group permissions) and diff. Observed
 *    state is the previous desired state with one customer rule changed per environment.
 *  - apply_ratio: 40 security groups converged through a simulated EC2 (50 ms per call, at most 20
 *    calls a second per region, throttling past that); actual time over calls / 20 per second.
 */
const CUSTOMERS = 250;
const SERVERS_PER_CUSTOMER = 10;
const DATABASES = 950;

function rule(partial: Partial<Rule> & Pick<Rule, 'id' | 'scope' | 'source'>): Rule {
  return {
    kind: 'system',
    protocol: 'tcp',
    ports: { from: 443, to: 443 },
    description: 'bench',
    owner: 'bench',
    ticket: null,
    customer: null,
    environment: null,
    ...partial,
  };
}

function systemRules(): Rule[] {
  const out: Rule[] = [];
  for (const type of ['web', 'db-host']) {
    const scope = { type: 'machine-type' as const, name: type };
    const ports = type === 'web' ? [443, 80, 8080, 8443] : [5432, 3306, 6432, 9187];
    ports.forEach((p, i) =>
      out.push(
        rule({
          id: `s:${type}:${i}`,
          scope,
          ports: { from: p, to: p },
          source: { type: 'group', group: 'jumpboxes' },
        }),
      ),
    );
    for (const [i, group] of ['monitoring', 'jumpboxes', 'backup'].entries()) {
      out.push(
        rule({
          id: `s:${type}:g${i}`,
          scope,
          ports: { from: 9100 + i, to: 9100 + i },
          source: { type: 'group', group },
        }),
      );
    }
    out.push(
      rule({
        id: `s:${type}:icmp`,
        scope,
        protocol: 'icmp',
        ports: null,
        source: { type: 'group', group: 'jumpboxes' },
      }),
    );
    out.push(rule({ id: `s:${type}:w4`, scope, source: { type: 'cidr', cidr: '0.0.0.0/0' } }));
    out.push(rule({ id: `s:${type}:w6`, scope, source: { type: 'cidr', cidr: '::/0' } }));
  }
  return out;
}

function customerRules(customer: number, variant: number): Rule[] {
  const c = `c${customer}`;
  return Array.from({ length: 20 }, (_, i) => {
    const port = 10000 + i * 7 + (i === 0 ? variant : 0);
    return rule({
      id: `${c}:r${i}`,
      kind: 'customer',
      customer: c,
      environment: 'production',
      scope:
        i % 4 === 0 ? { type: 'machine-type', name: 'db-host' } : { type: 'asset-group', name: 'web-tier' },
      ports: { from: port, to: port + (i % 3) },
      source:
        i % 5 === 0
          ? { type: 'group', group: `customer:${c}:app-tier` }
          : { type: 'cidr', cidr: `198.51.${100 + (i % 3)}.${(i * 16) % 256}/28` },
    });
  });
}

const hex = (n: number) => n.toString(16).padStart(17, '0');

const group: BenchGroup = {
  name: 'network',
  targets: { plan_s: { atMost: 2 }, apply_ratio: { atMost: 1.2 } },
  async run(ctx) {
    const members = new Map<string, string[]>([
      ['jumpboxes', ['203.0.113.10/32', '203.0.113.11/32', '203.0.113.12/32', '2001:db8:ff::10/128']],
      ['monitoring', ['203.0.113.40/32', '203.0.113.41/32']],
      ['backup', ['203.0.113.50/32']],
    ]);
    const assets: AssetTarget[] = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      members.set(`customer:c${c}:app-tier`, [`192.0.2.${c % 250}/32`, `192.0.2.${(c + 1) % 250}/32`]);
      for (let s = 0; s < SERVERS_PER_CUSTOMER; s++) {
        assets.push({
          id: `s${c}-${s}`,
          name: `c${c}-web-${s}`,
          machineType: 'web',
          groups: ['web-tier'],
          customer: `c${c}`,
          environment: 'production',
        });
      }
    }
    for (let d = 0; d < DATABASES; d++) {
      const c = d % CUSTOMERS;
      assets.push({
        id: `d${d}`,
        name: `c${c}-db-${d}`,
        machineType: 'db-host',
        groups: [],
        customer: `c${c}`,
        environment: 'production',
      });
    }
    const system = systemRules();
    const before = [...system, ...Array.from({ length: CUSTOMERS }, (_, c) => customerRules(c, 0)).flat()];
    const after = [...system, ...Array.from({ length: CUSTOMERS }, (_, c) => customerRules(c, 1)).flat()];
    const groupSgs = new Map<string, string>();

    ctx.log(`network: preparing what ${assets.length} assets' layers report`);
    const reported = assets.map((asset) => {
      const old = compileAsset(before, asset, members, groupSgs);
      const model = new NftModel();
      model.apply(renderHostTable(old.host));
      return {
        host: JSON.stringify(model.list('inet', 'gatehouse')),
        cloud: JSON.stringify(toIpPermissions(old.cloud)),
      };
    });
    const rulesPerAsset =
      assets.reduce((n, a) => n + compileAsset(after, a, members, groupSgs).cloud.length, 0) / assets.length;
    ctx.log(
      `network: planning ${assets.length} assets (${rulesPerAsset.toFixed(1)} security-group rules each)`,
    );
    const runs: number[] = [];
    let changed = 0;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      changed = 0;
      const candidates = indexRules(after);
      assets.forEach((asset, i) => {
        const desired = compileAsset(candidates(asset), asset, members, groupSgs);
        const host = planHostLayer(desired.host, parseObservedTable(JSON.parse(reported[i]!.host)));
        const cloud = planCloudLayer(
          desired.cloud,
          fromIpPermissions(JSON.parse(reported[i]!.cloud) as never),
          { rulesPerGroup: 200 },
        );
        if (host.adds.length + host.removals.length + cloud.adds.length + cloud.removals.length > 0)
          changed++;
      });
      runs.push((performance.now() - start) / 1000);
    }
    if (changed === 0)
      throw new Error('the bench plan found nothing to change: the simulated drift is missing');
    const planSeconds = [...runs].sort((a, b) => a - b)[1]!;

    // apply_ratio: a simulated EC2 region
    const ec2 = new FakeEc2();
    ec2.quota = 200;
    ec2.pageSize = 1000;
    const groups = 40;
    const calls: number[] = [];
    let throttled = 0;
    const client = {
      send: async (command: never) => {
        await new Promise((r) => setTimeout(r, 50));
        const now = performance.now();
        while (calls.length > 0 && calls[0]! <= now - 1000) calls.shift();
        if (calls.length >= 20) {
          throttled++;
          throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
        }
        calls.push(now);
        return ec2.client.send(command);
      },
    };
    let requests = 0;
    const counting = {
      send: async (command: never) => {
        requests++;
        return client.send(command);
      },
    };
    const limiter = createRateLimiter({ perSecond: 20 });
    const targets = Array.from({ length: groups }, (_, i) => {
      const groupId = `sg-${hex(i + 1)}`;
      ec2.addGroup(groupId, [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0' }]);
      const desired = compileAsset(after, assets[i * 7]!, members, groupSgs);
      return {
        desired,
        enforcer: createAwsSgEnforcer({
          client: counting as never,
          groupId,
          region: 'eu-west-1',
          quota: { rulesPerGroup: 200 },
          limiter,
        }),
      };
    });
    ctx.log(`network: applying ${groups} security groups through a simulated region (50 ms, 20 calls/s)`);
    const start = performance.now();
    await mapLimit(targets, 8, async ({ desired, enforcer }) => {
      await enforcer.apply(desired);
      const verified = await enforcer.observe(desired);
      if (verified.adds.length + verified.removals.length > 0) throw new Error('apply did not converge');
    });
    const actual = (performance.now() - start) / 1000;
    const ideal = (requests - throttled) / 20;
    ctx.log(
      `network: ${requests} calls (${throttled} throttled) in ${actual.toFixed(2)} s; ideal ${ideal.toFixed(2)} s`,
    );
    return {
      plan_s: Number(planSeconds.toFixed(3)),
      plan_assets: assets.length,
      plan_rules_per_asset: Number(rulesPerAsset.toFixed(1)),
      apply_ratio: Number((actual / ideal).toFixed(3)),
      apply_calls: requests,
      apply_throttled: throttled,
    };
  },
};

export default group;

import { createAwsSgEnforcer } from '../../src/adapters/enforcers/aws-sg/aws-sg-enforcer.js';
import { createNftablesEnforcer } from '../../src/adapters/enforcers/nftables/nftables-enforcer.js';
import type { LayerEnforcer } from '../../src/adapters/enforcers/types.js';
import { createNetnsTransport } from '../../src/adapters/transports/namespace.js';
import type { Transport } from '../../src/adapters/transports/types.js';
import type { FleetAsset } from '../../src/modules/network/fleet.js';
import type { EnforcerProvider } from '../../src/modules/network/plan.service.js';
import { FakeEc2 } from './fake-ec2.js';
import type { NetHost } from './netns.js';

/**
 * Both layers on namespace hosts. The host layer is the real nftables enforcer running `nft` inside
 * each server's namespace. The cloud layer is the real AWS security-group enforcer against the EC2
 * stand-in, whose groups are then enforced for real by a gateway namespace: its `inet cloud` table's
 * forward chain drops what no group allows (the part of AWS that cannot run here).
 */
/** The host's namespace through the transport Gatehouse uses for `network/netns` assets. */
export function transportOf(host: NetHost): Transport {
  return createNetnsTransport({ name: host.ns });
}

export class LabLayers implements EnforcerProvider {
  readonly ec2 = new FakeEc2();
  /** security group → the address of the asset it guards */
  private readonly guarded = new Map<string, string>();
  /** while true, the gateway forwards everything (to test the host layer alone) */
  cloudOpen = false;
  /** assets whose host-layer applies fail (injected), by name */
  readonly failing = new Set<string>();

  constructor(
    private readonly gateway: NetHost,
    private readonly hosts: Map<string, NetHost>,
  ) {
    this.ec2.quota = 200;
  }

  forAsset(asset: FleetAsset): LayerEnforcer[] {
    const out: LayerEnforcer[] = [];
    const sg = asset.labels['network/security-group'];
    if (sg && asset.address) {
      if (!this.ec2.groups.has(sg)) this.ec2.addGroup(sg);
      this.guarded.set(sg, asset.address);
      const aws = createAwsSgEnforcer({
        client: this.ec2.client,
        groupId: sg,
        region: asset.region,
        quota: { rulesPerGroup: 200 },
      });
      out.push({
        ...aws,
        apply: async (desired) => {
          await aws.apply(desired);
          await this.syncGateway();
        },
      });
    }
    const host = this.hosts.get(asset.name);
    if (host) {
      const transport = transportOf(host);
      const failing: Transport = {
        kind: transport.kind,
        exec: async (argv, stdin) =>
          this.failing.has(asset.name) && argv.join(' ') === 'sh -c cat | nft -j -f -'
            ? { code: 1, stdout: '', stderr: 'Error: injected failure' }
            : transport.exec(argv, stdin),
      };
      out.push(createNftablesEnforcer({ transport: failing, target: `host ${asset.name}` }));
    }
    return out;
  }

  /** Writes every security group's ingress into the gateway's forward chain, in one nft transaction. */
  async syncGateway(): Promise<void> {
    const t = { family: 'inet', table: 'cloud' };
    const cmds: unknown[] = [
      { add: { table: { family: 'inet', name: 'cloud' } } },
      { delete: { table: { family: 'inet', name: 'cloud' } } },
      { add: { table: { family: 'inet', name: 'cloud' } } },
      {
        add: {
          chain: {
            ...t,
            name: 'forward',
            type: 'filter',
            hook: 'forward',
            prio: 0,
            policy: this.cloudOpen ? 'accept' : 'drop',
          },
        },
      },
      {
        add: {
          rule: {
            ...t,
            chain: 'forward',
            expr: [
              { match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } },
              { accept: null },
            ],
          },
        },
      },
    ];
    for (const [sg, address] of this.guarded) {
      for (const rule of this.ec2.ingress(sg)) {
        const cidr = rule.CidrIpv4 ?? rule.CidrIpv6;
        if (!cidr || rule.IpProtocol === '-1') continue;
        const v6 = cidr.includes(':');
        if (v6 !== address.includes(':')) continue;
        const [addr = '', len = '0'] = cidr.split('/');
        const ip = v6 ? 'ip6' : 'ip';
        const expr: unknown[] = [
          { match: { op: '==', left: { payload: { protocol: ip, field: 'daddr' } }, right: address } },
        ];
        if (len !== '0')
          expr.push({
            match: {
              op: '==',
              left: { payload: { protocol: ip, field: 'saddr' } },
              right: { prefix: { addr, len: Number(len) } },
            },
          });
        if (rule.IpProtocol === 'tcp' || rule.IpProtocol === 'udp') {
          const ports =
            rule.FromPort === rule.ToPort ? rule.FromPort : { range: [rule.FromPort, rule.ToPort] };
          expr.push({
            match: {
              op: '==',
              left: { payload: { protocol: rule.IpProtocol, field: 'dport' } },
              right: ports,
            },
          });
        } else {
          expr.push({
            match: { op: '==', left: { meta: { key: 'l4proto' } }, right: v6 ? 'ipv6-icmp' : 'icmp' },
          });
        }
        expr.push({ accept: null });
        cmds.push({ add: { rule: { ...t, chain: 'forward', expr } } });
      }
    }
    const result = await this.gateway.exec(['sh', '-c', 'cat | nft -j -f -'], {
      input: JSON.stringify({ nftables: cmds }),
      allowFailure: true,
    });
    if (result.code !== 0) throw new Error(`gateway nft: ${result.stderr}`);
  }
}

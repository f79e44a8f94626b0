import { createAwsSgEnforcer } from '../../src/adapters/enforcers/aws-sg/aws-sg-enforcer.js';
import { createNftablesEnforcer } from '../../src/adapters/enforcers/nftables/nftables-enforcer.js';
import type { LayerEnforcer } from '../../src/adapters/enforcers/types.js';
import type { Transport } from '../../src/adapters/transports/types.js';
import type { Gatehouse } from '../../src/app.js';
import type { RequestContext } from '../../src/modules/audit/audit.types.js';
import type { FleetAsset } from '../../src/modules/network/fleet.js';
import type { EnforcerProvider } from '../../src/modules/network/plan.service.js';
import { createJobRunner, type JobRunner } from '../../src/platform/jobs/job-runner.js';
import { systemIds, type Clock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import { FakeEc2 } from './fake-ec2.js';

/**
 * A small fleet for the network tests: customer acme (production, staging), machine types web and
 * db-host, asset groups web-tier and app-tier, one jumpbox; all on documentation addresses.
 */
export const ctx: RequestContext = { actor: { type: 'system', id: null, name: 'test-setup' } };

export interface ServerSpec {
  name: string;
  address: string;
  machineType: string;
  groups?: string[];
  environment?: string;
  securityGroup?: string;
}

export const defaultServers: ServerSpec[] = [
  {
    name: 'acme-p-web-1',
    address: '192.0.2.21',
    machineType: 'web',
    groups: ['web-tier'],
    securityGroup: 'sg-00000000000000001',
  },
  {
    name: 'acme-p-web-2',
    address: '192.0.2.22',
    machineType: 'web',
    groups: ['web-tier'],
    securityGroup: 'sg-00000000000000002',
  },
  {
    name: 'acme-p-db-1',
    address: '192.0.2.31',
    machineType: 'db-host',
    securityGroup: 'sg-00000000000000003',
  },
  { name: 'acme-p-app-1', address: '198.51.100.5', machineType: 'worker', groups: ['app-tier'] },
];

export async function seedFleet(gh: Gatehouse, servers: ServerSpec[] = defaultServers): Promise<void> {
  const inv = gh.inventory;
  await inv.createRegion(ctx, { name: 'eu-west-1', displayName: 'EU West' });
  await inv.createCustomer(ctx, { name: 'acme', displayName: 'Acme' });
  await inv.createEnvironment(ctx, 'acme', { name: 'production', tier: 'production', region: 'eu-west-1' });
  await inv.createEnvironment(ctx, 'acme', { name: 'staging', tier: 'staging', region: 'eu-west-1' });
  for (const name of ['web', 'db-host', 'worker']) await inv.createMachineType(ctx, { name });
  for (const name of ['web-tier', 'app-tier', 'monitoring']) await inv.createAssetGroup(ctx, { name });
  await inv.createJumpbox(ctx, {
    name: 'jump-1',
    region: 'eu-west-1',
    address: '203.0.113.10',
    sourceCidrs: ['203.0.113.10/32'],
  });
  for (const s of servers) {
    await inv.createAsset(ctx, {
      kind: 'server',
      name: s.name,
      customer: 'acme',
      environment: s.environment ?? 'production',
      machineType: s.machineType,
      os: 'debian-12',
      address: s.address,
      groups: s.groups ?? [],
      labels: s.securityGroup ? { 'network/security-group': s.securityGroup } : {},
    });
  }
}

/** Fake hosts (by asset name) and one fake EC2 holding every security group. */
export class FakeLayers implements EnforcerProvider {
  readonly ec2 = new FakeEc2();
  readonly hosts = new Map<string, Transport>();

  constructor(hostFor: (asset: string) => Transport | undefined) {
    this.hostFor = hostFor;
  }
  private readonly hostFor: (asset: string) => Transport | undefined;

  forAsset(asset: FleetAsset): LayerEnforcer[] {
    const out: LayerEnforcer[] = [];
    const sg = asset.labels['network/security-group'];
    if (sg) {
      if (!this.ec2.groups.has(sg)) this.ec2.addGroup(sg);
      out.push(
        createAwsSgEnforcer({
          client: this.ec2.client,
          groupId: sg,
          region: asset.region,
          quota: { rulesPerGroup: 60 },
          sleep: () => Promise.resolve(),
        }),
      );
    }
    const transport = this.hostFor(asset.name);
    if (transport) out.push(createNftablesEnforcer({ transport, target: `host ${asset.name}` }));
    return out;
  }
}

/** A job runner for the network jobs that runs only when told, on the test's clock. */
export function networkRunner(gh: Gatehouse, clock: Clock): JobRunner {
  return createJobRunner({
    store: gh.store,
    clock,
    ids: systemIds(clock),
    logger: createLogger({ level: 'silent' }),
    audit: gh.audit,
    handlers: gh.network.jobHandlers,
    config: gh.config.jobs,
    workerId: 'network-test',
    metrics: gh.metrics,
  });
}

/** Runs the rollout's jobs until it is no longer running (or the rounds run out). */
export async function drainRollout(
  gh: Gatehouse,
  runner: JobRunner,
  clock: Clock & { advance(ms: number): void },
  id: string,
): Promise<Awaited<ReturnType<Gatehouse['network']['getRollout']>>> {
  for (let round = 0; round < 100; round++) {
    await runner.runDue();
    const rollout = await gh.network.getRollout(id);
    if (rollout.state !== 'running') return rollout;
    clock.advance(1000);
  }
  return gh.network.getRollout(id);
}

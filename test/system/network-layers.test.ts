import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createLab, type Lab, type NetHost } from '../support/netns.js';
import { LabLayers } from '../support/network-lab.js';
import { ctx, drainRollout, networkRunner } from '../support/network-fleet.js';

/**
 * Network rules enforced twice, on real packets: servers in namespaces with the host layer (nft in
 * their namespace), a gateway whose forward chain enforces the cloud layer's security groups, and
 * clients for a jumpbox, the app tier and "the internet". Every check is a real TCP connect.
 */
const WEB = '198.51.100.21';
const DB = '198.51.100.31';

describe('network rules on two layers (namespace hosts)', () => {
  const clock = manualClock(new Date());
  let lab: Lab;
  let t: TestApp;
  let runner: JobRunner;
  let layers: LabLayers;
  const h: Record<string, NetHost> = {};
  const stops: (() => Promise<void>)[] = [];

  const apply = async (body: Record<string, unknown> = {}) => {
    const started = await t.call('POST', '/api/v1/network/rollouts', { body: { confirm: true, ...body } });
    expect(started.statusCode, started.body).toBe(201);
    return drainRollout(t.gh, runner, clock, started.json<{ id: string }>().id);
  };
  /** Which of the given connects succeed, as `client→address:port` strings. */
  const reachable = async (checks: [string, string, number][]) => {
    const results = await Promise.all(
      checks.map(async ([client, address, port]) =>
        (await h[client]!.canConnect(address, port, { timeoutMs: 700 }))
          ? `${client}→${address}:${port}`
          : null,
      ),
    );
    return results.filter((r): r is string => r !== null);
  };

  beforeAll(async () => {
    lab = await createLab();
    const clients = await lab.addSegment('clients', { cidrs: ['203.0.113.0/24'] });
    const servers = await lab.addSegment('servers', { cidrs: ['198.51.100.0/24'] });
    for (const name of ['gw', 'web', 'db', 'jump', 'jump2', 'app', 'inet']) h[name] = await lab.addHost(name);
    await lab.connect(h.gw!, clients, ['203.0.113.254/24']);
    await lab.connect(h.gw!, servers, ['198.51.100.254/24']);
    await lab.enableForwarding(h.gw!);
    await lab.connect(h.web!, servers, [`${WEB}/24`]);
    await lab.connect(h.db!, servers, [`${DB}/24`]);
    const clientAddress = {
      jump: '203.0.113.10',
      jump2: '203.0.113.11',
      app: '203.0.113.20',
      inet: '203.0.113.99',
    };
    for (const [name, address] of Object.entries(clientAddress)) {
      await lab.connect(h[name]!, clients, [`${address}/24`]);
      await lab.route(h[name]!, '198.51.100.0/24', '203.0.113.254');
    }
    for (const name of ['web', 'db']) await lab.route(h[name]!, '203.0.113.0/24', '198.51.100.254');
    for (const port of [22, 443, 8443, 9999]) {
      const server = await h.web!.listen(port);
      stops.push(() => server.stop());
    }
    for (const port of [22, 5432]) {
      const server = await h.db!.listen(port);
      stops.push(() => server.stop());
    }

    layers = new LabLayers(
      h.gw!,
      new Map([
        ['acme-p-web-1', h.web!],
        ['acme-p-db-1', h.db!],
      ]),
    );
    t = await createTestApp('pglite', {
      clock,
      network: { enforcers: layers },
      config: { 'jobs.backoffMaxMs': 1000, 'network.attempts': 1 },
    });
    runner = networkRunner(t.gh, clock);
    const inv = t.gh.inventory;
    await inv.createRegion(ctx, { name: 'eu-west-1', displayName: 'EU West' });
    await inv.createCustomer(ctx, { name: 'acme', displayName: 'Acme' });
    await inv.createEnvironment(ctx, 'acme', { name: 'production', tier: 'production', region: 'eu-west-1' });
    for (const name of ['web', 'db-host', 'worker']) await inv.createMachineType(ctx, { name });
    for (const name of ['web-tier', 'app-tier']) await inv.createAssetGroup(ctx, { name });
    await inv.createJumpbox(ctx, {
      name: 'jump-1',
      region: 'eu-west-1',
      address: clientAddress.jump,
      sourceCidrs: [`${clientAddress.jump}/32`],
    });
    const server = (name: string, address: string, machineType: string, groups: string[], sg?: string) =>
      inv.createAsset(ctx, {
        kind: 'server',
        name,
        customer: 'acme',
        environment: 'production',
        machineType,
        os: 'debian-12',
        address,
        groups,
        labels: sg ? { 'network/security-group': sg } : {},
      });
    await server('acme-p-web-1', WEB, 'web', ['web-tier'], 'sg-0000000000000a001');
    await server('acme-p-db-1', DB, 'db-host', [], 'sg-0000000000000a002');
    await server('acme-p-app-1', clientAddress.app, 'worker', ['app-tier']);
    await layers.syncGateway();
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await t?.close();
    await lab?.close();
  });

  it('before any rule is applied everything is open; after the first apply only what the rules allow connects', async () => {
    layers.cloudOpen = true;
    await layers.syncGateway();
    expect(
      await reachable([
        ['inet', WEB, 9999],
        ['inet', DB, 5432],
      ]),
    ).toEqual([`inet→${WEB}:9999`, `inet→${DB}:5432`]);
    layers.cloudOpen = false;
    const rollout = await apply();
    expect(rollout.state, JSON.stringify(rollout.targets)).toBe('completed');
    const checks: [string, string, number][] = [
      ['inet', WEB, 443],
      ['inet', WEB, 22],
      ['inet', WEB, 9999],
      ['jump', WEB, 22],
      ['jump', DB, 5432],
      ['jump', DB, 22],
      ['inet', DB, 5432],
      ['app', DB, 5432],
    ];
    expect(await reachable(checks)).toEqual([
      `inet→${WEB}:443`,
      `jump→${WEB}:22`,
      `jump→${DB}:5432`,
      `jump→${DB}:22`,
    ]);
  });

  it('each layer alone refuses what the rules do not allow (the other layer opened)', async () => {
    // host layer alone: the gateway forwards everything
    layers.cloudOpen = true;
    await layers.syncGateway();
    expect(
      await reachable([
        ['inet', WEB, 22],
        ['inet', DB, 5432],
        ['jump', WEB, 22],
      ]),
    ).toEqual([`jump→${WEB}:22`]);
    layers.cloudOpen = false;
    await layers.syncGateway();
    // cloud layer alone: the hosts' tables removed
    for (const host of [h.web!, h.db!]) await host.exec(['nft', 'delete', 'table', 'inet', 'gatehouse']);
    expect(
      await reachable([
        ['inet', WEB, 22],
        ['inet', DB, 5432],
        ['jump', WEB, 22],
      ]),
    ).toEqual([`jump→${WEB}:22`]);
    const drift = (await t.call('GET', '/api/v1/network/drift')).json<{
      layers: { asset: string; layer: string }[];
    }>();
    expect(drift.layers.map((l) => `${l.asset}/${l.layer}`).sort()).toEqual([
      'acme-p-db-1/host',
      'acme-p-web-1/host',
    ]);
    expect((await apply()).state).toBe('completed');
  });

  it('a customer rule added through the API reaches both layers in one apply', async () => {
    const created = await t.call('POST', '/api/v1/network/rules', {
      body: {
        customer: 'acme',
        environment: 'production',
        scope: { type: 'asset-group', name: 'web-tier' },
        protocol: 'tcp',
        ports: 8443,
        source: 'app-tier',
        description: 'app tier calls the web tier API',
        owner: 'acme-ops',
        ticket: 'NET-7',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(await reachable([['app', WEB, 8443]])).toEqual([]);
    expect((await apply({ confirm: false })).state).toBe('completed');
    expect(
      await reachable([
        ['app', WEB, 8443],
        ['inet', WEB, 8443],
        ['jump', WEB, 8443],
      ]),
    ).toEqual([`app→${WEB}:8443`]);
    const listed = await h.web!.exec(['nft', 'list', 'table', 'inet', 'gatehouse']);
    expect(listed.stdout).toContain('@g4_app_tier tcp dport 8443 accept');
    expect(
      layers.ec2
        .ingress('sg-0000000000000a001')
        .some((r) => r.FromPort === 8443 && r.CidrIpv4 === '203.0.113.20/32'),
    ).toBe(true);
  });

  it('a rule added by hand on a host is reported by drift and removed by apply', async () => {
    await h.web!.exec(['nft', 'add', 'rule', 'inet', 'gatehouse', 'input', 'tcp', 'dport', '9999', 'accept']);
    layers.cloudOpen = true;
    await layers.syncGateway();
    expect(await reachable([['inet', WEB, 9999]])).toEqual([`inet→${WEB}:9999`]);
    const drift = (await t.call('GET', '/api/v1/network/drift')).json<{
      layers: { asset: string; unknown: string[] }[];
    }>();
    expect(drift.layers.map((l) => l.asset)).toEqual(['acme-p-web-1']);
    expect(drift.layers[0]!.unknown.join(' ')).toContain('9999');
    layers.cloudOpen = false;
    expect((await apply({ asset: 'acme-p-web-1' })).state).toBe('completed');
    layers.cloudOpen = true;
    await layers.syncGateway();
    expect(await reachable([['inet', WEB, 9999]])).toEqual([]);
    layers.cloudOpen = false;
    await layers.syncGateway();
  });

  it('a member added to a dynamic group is allowed after the next apply, with no rule change', async () => {
    expect(await reachable([['jump2', WEB, 22]])).toEqual([]);
    await t.gh.inventory.createJumpbox(ctx, {
      name: 'jump-2',
      region: 'eu-west-1',
      address: '203.0.113.11',
      sourceCidrs: ['203.0.113.11/32'],
    });
    expect(await reachable([['jump2', WEB, 22]])).toEqual([]);
    expect((await apply({ confirm: false })).state).toBe('completed');
    expect(
      await reachable([
        ['jump2', WEB, 22],
        ['jump2', DB, 5432],
      ]),
    ).toEqual([`jump2→${WEB}:22`, `jump2→${DB}:5432`]);
  });

  it('a customer rule opening 5432 to 0.0.0.0/0 is refused with the check id; nothing opens', async () => {
    const refused = await t.call('POST', '/api/v1/network/rules', {
      body: {
        customer: 'acme',
        environment: 'production',
        scope: { type: 'machine-type', name: 'db-host' },
        protocol: 'tcp',
        ports: 5432,
        source: '0.0.0.0/0',
        description: 'open the database',
        owner: 'someone',
        ticket: 'NET-8',
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ details: { check: string } }>().details.check).toBe('admin-port-source');
    expect((await apply({ confirm: false })).state).toBe('completed');
    expect(await reachable([['inet', DB, 5432]])).toEqual([]);
  });
});

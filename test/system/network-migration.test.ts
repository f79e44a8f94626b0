import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createLab, type Lab, type NetHost } from '../support/netns.js';
import { LabLayers } from '../support/network-lab.js';
import { ctx, drainRollout, networkRunner } from '../support/network-fleet.js';

/**
 * Migration from hand-made rules: servers whose own `inet legacy` table and whose security groups were
 * written by hand are imported (each entry classified system, customer or unknown), then converted in
 * two waves; a failure injected in the first wave stops the rollout before the second touches
 * anything, and resuming finishes it. Real TCP connects before and after.
 */
const SERVERS = { web1: '198.51.100.21', web2: '198.51.100.22', db1: '198.51.100.31' } as const;

describe('network migration from hand-made rules (namespace hosts)', () => {
  const clock = manualClock(new Date());
  let lab: Lab;
  let t: TestApp;
  let runner: JobRunner;
  let layers: LabLayers;
  const h: Record<string, NetHost> = {};
  const stops: (() => Promise<void>)[] = [];
  const sgOf = { web1: 'sg-0000000000000b001', web2: 'sg-0000000000000b002', db1: 'sg-0000000000000b003' };
  const assetOf = { web1: 'acme-p-web-1', web2: 'acme-p-web-2', db1: 'acme-p-db-1' };

  const reachable = async (checks: [string, string, number][]) =>
    (
      await Promise.all(
        checks.map(async ([client, address, port]) =>
          (await h[client]!.canConnect(address, port, { timeoutMs: 700 }))
            ? `${client}→${address}:${port}`
            : null,
        ),
      )
    ).filter((r): r is string => r !== null);

  beforeAll(async () => {
    lab = await createLab();
    const clients = await lab.addSegment('clients', { cidrs: ['203.0.113.0/24'] });
    const servers = await lab.addSegment('servers', { cidrs: ['198.51.100.0/24'] });
    for (const name of ['gw', 'web1', 'web2', 'db1', 'jump', 'app', 'inet'])
      h[name] = await lab.addHost(name);
    await lab.connect(h.gw!, clients, ['203.0.113.254/24']);
    await lab.connect(h.gw!, servers, ['198.51.100.254/24']);
    await lab.enableForwarding(h.gw!);
    for (const [name, address] of Object.entries(SERVERS)) {
      await lab.connect(h[name]!, servers, [`${address}/24`]);
      await lab.route(h[name]!, '203.0.113.0/24', '198.51.100.254');
      for (const port of [22, 443, 8443, 9999]) {
        const server = await h[name]!.listen(port);
        stops.push(() => server.stop());
      }
      // the hand-made firewall of before: an own table, its own drop policy
      const legacy = [
        'table inet legacy {',
        '  chain input {',
        '    type filter hook input priority 10; policy drop;',
        '    ct state established,related accept',
        '    iif "lo" accept',
        '    ip saddr 203.0.113.10 tcp dport 22 accept',
        '    ip saddr 203.0.113.16/28 tcp dport 8443 accept',
        '    tcp dport 9999 accept',
        ...(name.startsWith('web') ? ['    meta nfproto ipv4 tcp dport 443 accept'] : []),
        '  }',
        '}',
      ].join('\n');
      const loaded = await h[name]!.exec(['sh', '-c', 'cat | nft -f -'], {
        input: legacy,
        allowFailure: true,
      });
      expect(loaded.code, loaded.stderr).toBe(0);
    }
    for (const [name, address] of Object.entries({
      jump: '203.0.113.10',
      app: '203.0.113.20',
      inet: '203.0.113.99',
    })) {
      await lab.connect(h[name]!, clients, [`${address}/24`]);
      await lab.route(h[name]!, '198.51.100.0/24', '203.0.113.254');
    }

    layers = new LabLayers(h.gw!, new Map(Object.entries(assetOf).map(([host, asset]) => [asset, h[host]!])));
    for (const [host, sg] of Object.entries(sgOf)) {
      layers.ec2.addGroup(sg, [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '203.0.113.10/32', Description: 'ops ssh' },
        { IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, CidrIpv4: '203.0.113.16/28' },
        {
          IpProtocol: 'tcp',
          FromPort: 9999,
          ToPort: 9999,
          CidrIpv4: '0.0.0.0/0',
          Description: 'debug, temporary',
        },
        ...(host.startsWith('web')
          ? [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0' }]
          : []),
      ]);
    }
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
    for (const name of ['web', 'db-host']) await inv.createMachineType(ctx, { name });
    await inv.createAssetGroup(ctx, { name: 'web-tier' });
    await inv.createJumpbox(ctx, {
      name: 'jump-1',
      region: 'eu-west-1',
      address: '203.0.113.10',
      sourceCidrs: ['203.0.113.10/32'],
    });
    for (const [host, asset] of Object.entries(assetOf) as [keyof typeof assetOf, string][]) {
      await inv.createAsset(ctx, {
        kind: 'server',
        name: asset,
        customer: 'acme',
        environment: 'production',
        machineType: host.startsWith('web') ? 'web' : 'db-host',
        os: 'debian-12',
        address: SERVERS[host],
        labels: { 'network/security-group': sgOf[host] },
      });
    }
    // the customer's opening, recorded before the import so it classifies as theirs
    const rule = await t.call('POST', '/api/v1/network/rules', {
      body: {
        customer: 'acme',
        environment: 'production',
        scope: { type: 'machine-type', name: 'web' },
        protocol: 'tcp',
        ports: 8443,
        source: '203.0.113.16/28',
        description: 'partner callbacks',
        owner: 'acme-ops',
        ticket: 'NET-100',
      },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    // reading the plan names each group's asset to the gateway, which then enforces the groups
    expect((await t.call('GET', '/api/v1/network/plan')).statusCode).toBe(200);
    await layers.syncGateway();
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await t?.close();
    await lab?.close();
  });

  it('imports and classifies, converts in two waves, stops on a failure in the first, and finishes on resume', async () => {
    const W1 = SERVERS.web1;
    expect(
      await reachable([
        ['inet', W1, 9999],
        ['jump', W1, 22],
        ['app', W1, 8443],
      ]),
    ).toEqual([`inet→${W1}:9999`, `jump→${W1}:22`, `app→${W1}:8443`]);

    const imported = await t.call('GET', '/api/v1/network/import');
    expect(imported.statusCode, imported.body).toBe(200);
    const view = imported.json<{
      layers: { asset: string; layer: string; entries: { what: string; class: string }[] }[];
    }>();
    const classes = (asset: string, layer: string) =>
      Object.fromEntries(
        view.layers
          .find((l) => l.asset === asset && l.layer === layer)!
          .entries.map((e) => [e.what, e.class]),
      );
    expect(classes('acme-p-web-1', 'cloud')).toEqual({
      'tcp 22 from 203.0.113.10/32': 'system',
      'tcp 443 from 0.0.0.0/0': 'system',
      'tcp 8443 from 203.0.113.16/28': 'customer',
      'tcp 9999 from 0.0.0.0/0': 'unknown',
    });
    const host = classes('acme-p-web-1', 'host');
    expect(host['rule tcp 443 from any IPv4']).toBe('system');
    expect(host['rule tcp 8443 from 203.0.113.16/28']).toBe('customer');
    expect(
      Object.entries(host)
        .filter(([, c]) => c === 'unknown')
        .map(([what]) => what)
        .join(' '),
    ).toContain('9999');
    expect(classes('acme-p-db-1', 'cloud')['tcp 8443 from 203.0.113.16/28']).toBe('unknown');

    // the canary (acme-p-db-1, first by name) fails on its host: the second wave never starts
    layers.failing.add('acme-p-db-1');
    const started = await t.call('POST', '/api/v1/network/rollouts', {
      body: { confirm: true, canary: 1, waves: 1 },
    });
    expect(started.statusCode, started.body).toBe(201);
    const stopped = await drainRollout(t.gh, runner, clock, started.json<{ id: string }>().id);
    expect(stopped.state).toBe('stopped');
    expect(stopped.waves).toBe(2);
    expect(
      stopped.targets
        .filter((x) => x.wave === 0)
        .map((x) => `${x.asset}/${x.layer}/${x.state}`)
        .sort(),
    ).toEqual(['acme-p-db-1/cloud/succeeded', 'acme-p-db-1/host/failed']);
    expect(stopped.targets.filter((x) => x.wave === 1).every((x) => x.state === 'pending')).toBe(true);
    expect(await reachable([['inet', W1, 9999]])).toEqual([`inet→${W1}:9999`]);
    expect(
      (await h.web1!.exec(['nft', 'list', 'table', 'inet', 'gatehouse'], { allowFailure: true })).code,
    ).not.toBe(0);

    layers.failing.clear();
    const resumed = await t.call('POST', `/api/v1/network/rollouts/${stopped.id}/resume`);
    expect(resumed.statusCode).toBe(200);
    const done = await drainRollout(t.gh, runner, clock, stopped.id);
    expect(done.state).toBe('completed');
    expect(done.counts).toEqual({ pending: 0, queued: 0, succeeded: 6, failed: 0 });
    const checks: [string, string, number][] = [];
    for (const address of Object.values(SERVERS)) checks.push(['inet', address, 9999], ['jump', address, 22]);
    checks.push(['app', W1, 8443], ['inet', W1, 443], ['app', SERVERS.db1, 8443]);
    expect(await reachable(checks)).toEqual([
      `jump→${SERVERS.web1}:22`,
      `jump→${SERVERS.web2}:22`,
      `jump→${SERVERS.db1}:22`,
      `app→${W1}:8443`,
      `inet→${W1}:443`,
    ]);
    const drift = await t.call('GET', '/api/v1/network/drift');
    expect(drift.json<{ layers: unknown[] }>().layers).toEqual([]);
  });
});

import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_PATH } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startLinuxHost, type LinuxHost } from '../support/linux-host.js';
import { ctx, drainRollout, networkRunner } from '../support/network-fleet.js';
import { createLab, type Lab, type NetHost } from '../support/netns.js';

/**
 * The host layer over SSH with the app's own wiring: a real sshd in a network namespace with its own
 * /etc, reached as the automation account (not root, sudo on the helper only) with the host key
 * recorded in the inventory. The table `inet gatehouse` is installed through `gatehouse-account nft`,
 * checked with real TCP connects from a client namespace, and nothing else of nft is open to the
 * account. The machine running Gatehouse (203.0.113.1) is the jumpbox, so SSH to the server stays
 * allowed by the system rules while everything the rules do not name is refused.
 */
const SERVER = '203.0.113.80';
const CLIENT = '203.0.113.20';

describe('host firewall over ssh', () => {
  const clock = manualClock(new Date());
  let lab: Lab;
  let server: LinuxHost;
  let client: NetHost;
  let t: TestApp;
  let runner: JobRunner;
  const stops: (() => Promise<void>)[] = [];

  const apply = async () => {
    const started = await t.call('POST', '/api/v1/network/rollouts', { body: { confirm: true } });
    expect(started.statusCode, started.body).toBe(201);
    return drainRollout(t.gh, runner, clock, started.json<{ id: string }>().id);
  };
  const table = async () => {
    const listed = await server.run(['nft', '-j', 'list', 'table', 'inet', 'gatehouse'], {
      allowFailure: true,
    });
    return listed.code === 0 ? listed.stdout : null;
  };
  const asAutomation = (argv: string[], input?: string) =>
    server.run(['runuser', '-u', 'gatehouse', '--', ...argv], {
      allowFailure: true,
      ...(input !== undefined ? { input } : {}),
    });
  const open = async (ports: number[]) => {
    const results = await Promise.all(
      ports.map(async (port) => ((await client.canConnect(SERVER, port, { timeoutMs: 700 })) ? port : null)),
    );
    return results.filter((p): p is number => p !== null);
  };

  beforeAll(async () => {
    lab = await createLab();
    const segment = await lab.addSegment('servers', {
      cidrs: ['203.0.113.0/24'],
      rootAddress: ['203.0.113.1/24'],
    });
    server = await startLinuxHost(lab, segment, { name: 'nsrv', address: SERVER });
    client = await lab.addHost('ncli');
    await lab.connect(client, segment, [`${CLIENT}/24`]);
    for (const port of [8080, 9100]) {
      const listener = await server.net.listen(port);
      stops.push(() => listener.stop());
    }

    t = await createTestApp('pglite', {
      clock,
      config: { 'jobs.backoffMaxMs': 1000, 'network.attempts': 1 },
    });
    runner = networkRunner(t.gh, clock);
    const inv = t.gh.inventory;
    await inv.createRegion(ctx, { name: 'lab', displayName: 'Lab' });
    await inv.createMachineType(ctx, { name: 'worker' });
    await inv.createAssetGroup(ctx, { name: 'app-tier' });
    await inv.createJumpbox(ctx, {
      name: 'gatehouse-1',
      region: 'lab',
      address: '203.0.113.1',
      sourceCidrs: ['203.0.113.1/32'],
    });
    await inv.createAsset(ctx, {
      kind: 'server',
      name: 'worker-1',
      region: 'lab',
      machineType: 'worker',
      os: 'debian-12',
      address: SERVER,
      automationCredential: server.automation,
      hostKeys: [server.hostKey],
      labels: { 'network/host': 'ssh' },
    });
    // the client is in the app tier: the worker's system rules open 8080 (health) to it, not 9100
    await inv.createAsset(ctx, {
      kind: 'server',
      name: 'app-1',
      region: 'lab',
      os: 'debian-12',
      address: CLIENT,
      groups: ['app-tier'],
    });
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await t?.close();
    await server?.stop();
    await lab?.close();
  });

  it('an apply installs table inet gatehouse on the server over ssh; only what the rules allow connects', async () => {
    expect(await table()).toBeNull();
    expect(await open([8080, 9100, 22])).toEqual([8080, 9100, 22]);

    const rollout = await apply();
    expect(rollout.state, JSON.stringify(rollout.targets)).toBe('completed');

    const listed = JSON.parse((await table())!) as { nftables: Record<string, { policy?: string }>[] };
    const chains = listed.nftables.filter((e) => 'chain' in e).map((e) => e.chain!);
    expect(chains).toEqual([expect.objectContaining({ policy: 'drop' })]);
    expect(await open([8080, 9100, 22])).toEqual([8080]);
    // the jumpbox (this machine) still reaches sshd, so the next apply can log in again
    expect(await connectsFromHere(SERVER, 22)).toBe(true);
  });

  it('a rule added by hand shows as drift and the next apply removes it', async () => {
    const withoutHandles = (listed: string | null) => listed?.replace(/"handle": \d+/g, '');
    const applied = withoutHandles(await table());
    await server.run(['nft', 'add', 'rule', 'inet', 'gatehouse', 'input', 'tcp', 'dport', '9100', 'accept']);
    expect(withoutHandles(await table())).not.toEqual(applied);
    expect(await open([9100])).toEqual([9100]);

    const drift = (await t.call('GET', '/api/v1/network/drift')).json<{
      layers: { asset: string; layer: string }[];
    }>();
    expect(drift.layers.map((l) => `${l.asset}/${l.layer}`)).toEqual(['worker-1/host']);

    expect((await apply()).state).toBe('completed');
    expect(await open([8080, 9100])).toEqual([8080]);
    expect(withoutHandles(await table())).toEqual(applied);
  });

  it('the automation account can run no other nft command, and the helper changes no other table', async () => {
    for (const argv of [
      ['sudo', '-n', 'nft', 'flush', 'ruleset'],
      ['sudo', '-n', '/usr/sbin/nft', 'flush', 'ruleset'],
      ['sudo', '-n', '/usr/sbin/nft', '-j', 'list', 'ruleset'],
      ['nft', 'flush', 'ruleset'],
    ]) {
      const result = await asAutomation(argv);
      expect(result.code, argv.join(' ')).not.toBe(0);
    }
    const flush = await asAutomation(
      ['sudo', '-n', HELPER_PATH, 'nft', 'apply'],
      JSON.stringify({ nftables: [{ flush: { ruleset: null } }] }),
    );
    expect(flush.code).toBe(2);
    expect(flush.stderr).toMatch(/touches more than table inet gatehouse/);
    const otherTable = await asAutomation(
      ['sudo', '-n', HELPER_PATH, 'nft', 'apply'],
      JSON.stringify({ nftables: [{ add: { table: { family: 'inet', name: 'filter' } } }] }),
    );
    expect(otherTable.code).toBe(2);
    const raw = await asAutomation(['sudo', '-n', HELPER_PATH, 'nft', 'flush']);
    expect(raw.code).toBe(2);

    // the server's firewall is what the last apply left: still enforcing
    expect(await table()).toMatch(/"policy": "drop"/);
    const other = await server.run(['nft', 'list', 'tables'], { allowFailure: true });
    expect(other.stdout.trim()).toBe('table inet gatehouse');
    expect(await open([8080, 9100])).toEqual([8080]);
  });
});

/** A TCP connect from the test process (the machine running Gatehouse, the jumpbox). */
function connectsFromHere(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

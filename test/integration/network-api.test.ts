import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { FakeNftHost } from '../support/fake-nft-transport.js';
import { drainRollout, FakeLayers, networkRunner, seedFleet } from '../support/network-fleet.js';
import { backends } from '../support/stores.js';

/**
 * The network API on both stores, against fake layers that keep the real layers' rules (nft's
 * all-or-nothing transactions, EC2's duplicates and quotas): customer rules and their checks,
 * plan/apply/drift, the brake, rollouts in waves with a failure and a resume, import, permissions.
 */
describe.each(backends)('network API on %s', (backend) => {
  const clock = manualClock(new Date());
  const hosts = new Map<string, FakeNftHost>();
  const layers = new FakeLayers((name) => hosts.get(name));
  let t: TestApp;
  let runner: JobRunner;
  const tokens: Record<string, string> = {};

  const applyAll = async (body: Record<string, unknown> = {}) => {
    const started = await t.call('POST', '/api/v1/network/rollouts', { body: { confirm: true, ...body } });
    expect(started.statusCode, started.body).toBe(201);
    return drainRollout(t.gh, runner, clock, started.json<{ id: string }>().id);
  };
  const addRule = (body: Record<string, unknown>, token?: string) =>
    t.call('POST', '/api/v1/network/rules', {
      ...(token ? { token } : {}),
      body: {
        customer: 'acme',
        environment: 'production',
        scope: { type: 'asset-group', name: 'web-tier' },
        protocol: 'tcp',
        description: 'partner API',
        owner: 'acme-ops',
        ticket: 'NET-42',
        ...body,
      },
    });

  beforeAll(async () => {
    for (const name of ['acme-p-web-1', 'acme-p-web-2', 'acme-p-db-1', 'acme-p-app-1'])
      hosts.set(name, new FakeNftHost());
    t = await createTestApp(backend, {
      clock,
      network: { enforcers: layers },
      config: { 'jobs.backoffMaxMs': 1000 },
    });
    await seedFleet(t.gh);
    runner = networkRunner(t.gh, clock);
    tokens.netadmin = await t.operatorToken('netadmin', ['network-admin']);
    tokens.auditor = await t.operatorToken('auditor1', ['auditor']);
    tokens.requester = await t.operatorToken('req1', ['requester']);
  });
  afterAll(async () => t?.close());

  it('refuses a customer rule opening 5432 to 0.0.0.0/0 with the check id, and stores nothing', async () => {
    const refused = await addRule(
      { ports: 5432, source: '0.0.0.0/0', scope: { type: 'machine-type', name: 'db-host' } },
      tokens.netadmin,
    );
    expect(refused.statusCode).toBe(400);
    const body = refused.json<{
      code: string;
      message: string;
      requestId: string;
      details: { check: string; findings: { check: string }[] };
    }>();
    expect(body.code).toBe('validation_failed');
    expect(body.details.check).toBe('admin-port-source');
    expect(body.details.findings.map((f) => f.check)).toEqual(['admin-port-source', 'world-open-port']);
    expect(body.message).toContain('check admin-port-source');
    expect(body.requestId).toBeTruthy();
    const listed = await t.call('GET', '/api/v1/network/rules?kind=customer');
    expect(listed.json<{ rules: unknown[] }>().rules).toEqual([]);
  });

  it('refuses a customer rule without a ticket (missing or blank) with a 400 naming the field; nothing is saved', async () => {
    for (const ticket of [undefined, '']) {
      const refused = await addRule({ ports: 8443, source: '198.51.100.0/24', ticket }, tokens.netadmin);
      expect(refused.statusCode, refused.body).toBe(400);
      const body = refused.json<{ code: string; message: string }>();
      expect(body.code).toBe('validation_failed');
      expect(body.message).toContain('body.ticket');
    }
    const listed = await t.call('GET', '/api/v1/network/rules?kind=customer');
    expect(listed.json<{ rules: unknown[] }>().rules).toEqual([]);
    const created = await t.gh.store.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'network.rule.created')
      .execute();
    expect(created).toEqual([]);
  });

  it('refuses bad input with a 400 that names the field, never a 500', async () => {
    for (const [body, field] of [
      [{ ports: 8443, source: '192.0.2.1/24' }, 'host bits'],
      [{ ports: 8443, source: 'no-such-group' }, 'no dynamic group'],
      [{ ports: '0-5', source: '192.0.2.0/24' }, 'ports'],
      [{ ports: 8443, source: '192.0.2.0/24', scope: { type: 'asset', name: 'nope' } }, 'no asset'],
      [{ ports: 8443, source: '192.0.2.0/24', environment: 'qa' }, 'no environment'],
      [{ ports: 8443, source: '192.0.2.0/24; drop' }, 'source'],
    ] as const) {
      const response = await addRule(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json<{ message: string }>().message).toContain(field);
    }
  });

  it('permissions: auditors read, requesters see nothing, only network admins write and apply', async () => {
    expect((await t.call('GET', '/api/v1/network/rules', { token: tokens.auditor })).statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/network/rules', { token: tokens.requester })).statusCode).toBe(403);
    expect((await addRule({ ports: 8443, source: '192.0.2.0/24' }, tokens.auditor)).statusCode).toBe(403);
    expect(
      (await t.call('POST', '/api/v1/network/rollouts', { token: tokens.auditor, body: {} })).statusCode,
    ).toBe(403);
    expect((await t.call('GET', '/api/v1/network/plan', { token: null })).statusCode).toBe(401);
    const scoped = await t.operatorToken('scopednet', ['network-admin']);
    expect(
      (await t.call('PATCH', '/api/v1/operators/scopednet', { body: { customers: ['acme'] } })).statusCode,
    ).toBe(200);
    expect((await t.call('GET', '/api/v1/network/rules', { token: scoped })).statusCode).toBe(403);
    expect((await addRule({ ports: 8443, source: '192.0.2.0/24' }, scoped)).statusCode).toBe(403);
  });

  it('the first apply stops at the brake unless confirmed, then converges both layers and verifies', async () => {
    const plan = await t.call('GET', '/api/v1/network/plan');
    expect(plan.statusCode).toBe(200);
    const view = plan.json<{
      assets: number;
      layers: { asset: string; layer: string; inSync: boolean }[];
      brake: { stopped: boolean };
    }>();
    expect(view.assets).toBe(4);
    expect(view.layers.map((l) => `${l.asset}/${l.layer}`).sort()).toEqual([
      'acme-p-app-1/host',
      'acme-p-db-1/cloud',
      'acme-p-db-1/host',
      'acme-p-web-1/cloud',
      'acme-p-web-1/host',
      'acme-p-web-2/cloud',
      'acme-p-web-2/host',
    ]);
    expect(view.brake.stopped).toBe(true);
    const braked = await t.call('POST', '/api/v1/network/rollouts', { token: tokens.netadmin, body: {} });
    expect(braked.statusCode).toBe(412);
    expect(braked.json<{ message: string }>().message).toMatch(/brake/);
    const rollout = await applyAll();
    expect(rollout.state).toBe('completed');
    expect(rollout.counts).toEqual({ pending: 0, queued: 0, succeeded: 7, failed: 0 });
    const drift = await t.call('GET', '/api/v1/network/drift');
    expect(drift.json<{ layers: unknown[] }>().layers).toEqual([]);
    // system rules reached both layers: ssh from the jumpbox on the web servers
    expect(
      layers.ec2.ingress('sg-00000000000000001').map((r) => `${r.FromPort} ${r.CidrIpv4 ?? r.CidrIpv6}`),
    ).toContain('22 203.0.113.10/32');
  });

  it('a customer rule added through the API reaches both layers in one apply, audited with its ticket', async () => {
    const created = await addRule({ ports: 8443, source: '198.51.100.0/24' }, tokens.netadmin);
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json<{ id: string }>();
    const plan = (await t.call('GET', '/api/v1/network/plan?customer=acme')).json<{
      layers: { asset: string; adds: { what: string; rules: string[] }[] }[];
    }>();
    const web1 = plan.layers.filter((l) => l.asset === 'acme-p-web-1');
    expect(web1.flatMap((l) => l.adds.map((a) => a.what)).sort()).toEqual([
      'rule tcp 8443 from 198.51.100.0/24',
      'tcp 8443 from 198.51.100.0/24',
    ]);
    expect(plan.layers.find((l) => l.asset === 'acme-p-db-1')?.adds).toEqual([]);
    expect((await applyAll({ confirm: false })).state).toBe('completed');
    expect(
      layers.ec2
        .ingress('sg-00000000000000002')
        .some((r) => r.FromPort === 8443 && r.CidrIpv4 === '198.51.100.0/24'),
    ).toBe(true);
    const listing = hosts.get('acme-p-web-2')!.model.list('inet', 'gatehouse');
    expect(JSON.stringify(listing)).toContain(rule.id);
    const events = await t.gh.store.db
      .selectFrom('audit_events')
      .select(['action', 'ticket', 'actor_name'])
      .where('action', 'like', 'network.%')
      .execute();
    expect(events).toContainEqual({
      action: 'network.rule.created',
      ticket: 'NET-42',
      actor_name: 'netadmin',
    });
    expect(events.filter((e) => e.action === 'network.layer.applied').length).toBeGreaterThanOrEqual(4);
  });

  it('a rule added by hand on a host is reported by drift and removed by the next apply', async () => {
    hosts.get('acme-p-web-1')!.model.addRule('inet', 'gatehouse', {
      chain: 'input',
      expr: [
        {
          match: {
            op: '==',
            left: { payload: { protocol: 'ip', field: 'saddr' } },
            right: { prefix: { addr: '10.0.0.0', len: 8 } },
          },
        },
        { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 23 } },
        { accept: null },
      ],
    });
    const drift = (await t.call('GET', '/api/v1/network/drift')).json<{
      layers: { asset: string; layer: string; removals: { what: string }[] }[];
    }>();
    expect(drift.layers.map((l) => `${l.asset}/${l.layer}`)).toEqual(['acme-p-web-1/host']);
    expect(drift.layers[0]!.removals.map((r) => r.what)).toEqual(['rule tcp 23 from 10.0.0.0/8']);
    expect((await applyAll({ asset: 'acme-p-web-1' })).state).toBe('completed');
    expect((await t.call('GET', '/api/v1/network/drift')).json<{ layers: unknown[] }>().layers).toEqual([]);
    const corrected = await t.gh.store.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'network.drift-corrected')
      .execute();
    expect(JSON.stringify(corrected.map((e) => e.details))).toContain('rule tcp 23 from 10.0.0.0/8');
  });

  it('a member added to a dynamic group is allowed after the next apply, with no rule change', async () => {
    await t.gh.inventory.createJumpbox(
      { actor: { type: 'system', id: null, name: 'test' } },
      {
        name: 'jump-2',
        region: 'eu-west-1',
        address: '203.0.113.11',
        sourceCidrs: ['203.0.113.11/32'],
      },
    );
    const drift = (await t.call('GET', '/api/v1/network/drift')).json<{
      layers: { adds: { what: string }[] }[];
    }>();
    expect(drift.layers.length).toBe(7);
    expect(drift.layers.flatMap((l) => l.adds.map((a) => a.what))).toContain(
      '203.0.113.11/32 in set g4_jumpboxes',
    );
    expect((await applyAll({ confirm: false })).state).toBe('completed');
    expect(
      layers.ec2
        .ingress('sg-00000000000000003')
        .some((r) => r.FromPort === 5432 && r.CidrIpv4 === '203.0.113.11/32'),
    ).toBe(true);
  });

  it('deleting every customer rule of an environment stops at the brake unless confirmed', async () => {
    for (const port of [8444, 8445, 8446]) {
      expect((await addRule({ ports: port, source: '198.51.100.0/24' })).statusCode).toBe(201);
    }
    await applyAll({ confirm: false });
    const { rules } = (
      await t.call('GET', '/api/v1/network/rules?kind=customer&customer=acme&environment=production')
    ).json<{ rules: { id: string }[] }>();
    expect(rules.length).toBe(4);
    for (const rule of rules)
      expect(
        (await t.call('DELETE', `/api/v1/network/rules/${rule.id}?ticket=NET-99`, { token: tokens.netadmin }))
          .statusCode,
      ).toBe(204);
    const stopped = await t.call('POST', '/api/v1/network/rollouts', {
      token: tokens.netadmin,
      body: { customer: 'acme', environment: 'production' },
    });
    expect(stopped.statusCode).toBe(412);
    const brake = stopped.json<{ details: { brake: { removals: number; reasons: string[] } } }>().details
      .brake;
    // 4 rules on each web host; the 4 adjacent ports are one merged rule in each security group
    expect(brake.removals).toBe(10);
    expect(brake.reasons).toEqual([
      'acme-p-web-1 host: removes 4 of 15 entries (27%, brake at 25%)',
      'acme-p-web-2 host: removes 4 of 15 entries (27%, brake at 25%)',
    ]);
    expect((await applyAll({ customer: 'acme' })).state).toBe('completed');
  });

  it('a rollout in waves stops when the canary fails and finishes on resume; results are stored per asset', async () => {
    expect(
      (
        await addRule({
          ports: 9443,
          source: '198.51.100.0/24',
          scope: { type: 'machine-type', name: 'web' },
        })
      ).statusCode,
    ).toBe(201);
    hosts.get('acme-p-app-1')!.failApplies = 0;
    hosts.get('acme-p-db-1')!.failApplies = 0;
    // the canary wave is the first asset by name: acme-p-app-1; make its host fail every attempt
    hosts
      .get('acme-p-app-1')!
      .model.addRule('inet', 'gatehouse', { chain: 'input', expr: [{ accept: null }] });
    hosts.get('acme-p-app-1')!.failApplies = 99;
    const first = await applyAll({ waves: 2, canary: 1 });
    expect(first.state).toBe('stopped');
    expect(first.stopReason).toMatch(/wave 0: 1 of 1 targets failed/);
    expect(first.targets.filter((x) => x.state === 'failed').map((x) => x.asset)).toEqual(['acme-p-app-1']);
    expect(first.targets.filter((x) => x.wave > 0).every((x) => x.state === 'pending')).toBe(true);
    hosts.get('acme-p-app-1')!.failApplies = 0;
    const resumed = await t.call('POST', `/api/v1/network/rollouts/${first.id}/resume`, {
      token: tokens.netadmin,
    });
    expect(resumed.statusCode).toBe(200);
    const done = await drainRollout(t.gh, runner, clock, first.id);
    expect(done.state).toBe('completed');
    expect(done.targets.every((x) => x.state === 'succeeded')).toBe(true);
    expect(done.waves).toBe(3);
    expect(done.targets.find((x) => x.asset === 'acme-p-web-1' && x.layer === 'cloud')?.result).toMatchObject(
      { verified: true },
    );
    expect((await t.call('GET', '/api/v1/network/drift')).json<{ layers: unknown[] }>().layers).toEqual([]);
  });

  it('import classifies what each layer holds: system, customer, unknown', async () => {
    layers.ec2.addGroup('sg-00000000000000004', [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '203.0.113.10/32' },
      { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, CidrIpv4: '0.0.0.0/0' },
    ]);
    await t.gh.inventory.createAsset(
      { actor: { type: 'system', id: null, name: 'test' } },
      {
        kind: 'server',
        name: 'acme-p-web-9',
        customer: 'acme',
        environment: 'production',
        machineType: 'web',
        os: 'debian-12',
        address: '192.0.2.29',
        labels: { 'network/security-group': 'sg-00000000000000004' },
      },
    );
    const imported = await t.call('GET', '/api/v1/network/import?asset=acme-p-web-9');
    expect(imported.statusCode, imported.body).toBe(200);
    const view = imported.json<{
      layers: { entries: { what: string; class: string; action: string }[] }[];
      summary: Record<string, number>;
    }>();
    expect(view.layers[0]!.entries).toEqual([
      { what: 'tcp 22 from 203.0.113.10/32', class: 'system', rules: [], action: 'keep' },
      { what: 'tcp 3389 from 0.0.0.0/0', class: 'unknown', rules: [], action: 'remove' },
    ]);
    expect(view.summary.unknown).toBe(1);
  });
});

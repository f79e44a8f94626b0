import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { FakeNftHost } from '../support/fake-nft-transport.js';
import { drainRollout, FakeLayers, networkRunner, seedFleet } from '../support/network-fleet.js';
import { backends } from '../support/stores.js';

/**
 * What the back-office's network page needs from the public API: editing a customer rule (checked,
 * ticketed, audited before/after, from the version read), checking a draft without saving it (each
 * message naming its field), a plan per customer, environment and layer, and a customer-scoped apply
 * whose progress is read per asset and layer.
 */
interface RuleView {
  id: string;
  ports: string | null;
  source: string;
  description: string;
  ticket: string | null;
  version: number;
}
interface Refusal {
  code: string;
  message: string;
  details: {
    check?: string;
    field?: string;
    findings?: { check: string; field: string }[];
    current?: RuleView;
  };
}
interface CheckView {
  ok: boolean;
  findings: { check: string; field: string; message: string }[];
}

describe.each(backends)('network rule edits and the page’s API on %s', (backend) => {
  const clock = manualClock(new Date());
  const hosts = new Map<string, FakeNftHost>();
  const layers = new FakeLayers((name) => hosts.get(name));
  let t: TestApp;
  let runner: JobRunner;
  const tokens: Record<string, string> = {};
  let rule: RuleView;

  const where = { customer: 'acme', environment: 'production' };
  const draft = {
    ...where,
    scope: { type: 'asset-group', name: 'web-tier' },
    protocol: 'tcp',
    description: 'partner API',
    owner: 'acme-ops',
  };
  const edit = (id: string, body: Record<string, unknown>, token = tokens.netadmin) =>
    t.call('PATCH', `/api/v1/network/rules/${id}`, { token, body });
  const events = (action: string) =>
    t.gh.store.db
      .selectFrom('audit_events')
      .select(['action', 'ticket', 'actor_name', 'target_id', 'details'])
      .where('action', '=', action)
      .execute();

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
    // the fleet starts converged, so each plan below shows only what these tests change
    const first = await t.call('POST', '/api/v1/network/rollouts', { body: { confirm: true } });
    expect(first.statusCode, first.body).toBe(201);
    expect((await drainRollout(t.gh, runner, clock, first.json<{ id: string }>().id)).state).toBe(
      'completed',
    );
    const created = await t.call('POST', '/api/v1/network/rules', {
      token: tokens.netadmin,
      body: { ...draft, ports: 8443, source: '198.51.100.0/24', ticket: 'NET-42' },
    });
    expect(created.statusCode, created.body).toBe(201);
    rule = created.json<RuleView>();
  });
  afterAll(async () => t?.close());

  it('a new rule is at version 1; an edit from it needs a ticket, bumps the version and is audited before/after', async () => {
    expect(rule.version).toBe(1);
    const noTicket = await edit(rule.id, { version: 1, ports: 8080 });
    expect(noTicket.statusCode).toBe(400);
    expect(noTicket.json<Refusal>().message).toContain('ticket');

    const edited = await edit(rule.id, { version: 1, ports: 8080, ticket: 'NET-43' });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json<RuleView>()).toMatchObject({
      id: rule.id,
      ports: '8080',
      source: '198.51.100.0/24',
      description: 'partner API',
      ticket: 'NET-43',
      version: 2,
    });
    const read = await t.call('GET', `/api/v1/network/rules/${rule.id}`);
    expect(read.json<RuleView>()).toMatchObject({ ports: '8080', version: 2 });

    const [event, ...more] = await events('network.rule.updated');
    expect(more).toEqual([]);
    expect(event).toMatchObject({ ticket: 'NET-43', actor_name: 'netadmin', target_id: rule.id });
    const details = event!.details as {
      before: RuleView;
      rule: RuleView & { kind: string };
      changes: string[];
      summary: string;
    };
    expect(details.before).toMatchObject({ ports: '8443', ticket: 'NET-42', version: 1 });
    expect(details.rule).toMatchObject({ kind: 'customer', ports: '8080', ticket: 'NET-43', version: 2 });
    expect(details.changes).toEqual(['ports', 'ticket']);
    expect(details.summary).toBe('tcp 8080 from 198.51.100.0/24 on asset-group:web-tier');
  });

  it('an edit from a stale version is refused with 409 and the current rule, and changes nothing', async () => {
    const stale = await edit(rule.id, {
      version: 1,
      description: 'overwrites the other edit',
      ticket: 'NET-44',
    });
    expect(stale.statusCode).toBe(409);
    const body = stale.json<Refusal>();
    expect(body.code).toBe('conflict');
    expect(body.message).toMatch(/version 1.*version 2.*reload/);
    expect(body.details.current).toMatchObject({ ports: '8080', version: 2, description: 'partner API' });
    const read = (await t.call('GET', `/api/v1/network/rules/${rule.id}`)).json<RuleView>();
    expect(read).toMatchObject({ description: 'partner API', version: 2 });
    expect(await events('network.rule.updated')).toHaveLength(1);
  });

  it('an edit the checks refuse (5432 from 0.0.0.0/0) names the check and the field, and saves nothing', async () => {
    const refused = await edit(rule.id, {
      version: 2,
      ports: 5432,
      source: '0.0.0.0/0',
      ticket: 'NET-45',
    });
    expect(refused.statusCode).toBe(400);
    const body = refused.json<Refusal>();
    expect(body.code).toBe('validation_failed');
    expect(body.details.check).toBe('admin-port-source');
    expect(body.details.field).toBe('source');
    expect(body.details.findings?.map((f) => `${f.check}:${f.field}`)).toEqual([
      'admin-port-source:source',
      'world-open-port:source',
    ]);
    const unreadable = await edit(rule.id, { version: 2, ports: '9-2', ticket: 'NET-45' });
    expect(unreadable.statusCode).toBe(400);
    expect(unreadable.json<Refusal>().details.field).toBe('ports');
    const read = (await t.call('GET', `/api/v1/network/rules/${rule.id}`)).json<RuleView>();
    expect(read).toMatchObject({ ports: '8080', source: '198.51.100.0/24', version: 2 });
    expect(await events('network.rule.updated')).toHaveLength(1);
  });

  it('an edit that would duplicate another rule is refused; one that keeps the rule’s own opening is not', async () => {
    const other = await t.call('POST', '/api/v1/network/rules', {
      token: tokens.netadmin,
      body: { ...draft, ports: 9443, source: '198.51.100.0/24', ticket: 'NET-46' },
    });
    expect(other.statusCode, other.body).toBe(201);
    const twin = await edit(other.json<RuleView>().id, { version: 1, ports: 8080, ticket: 'NET-46' });
    expect(twin.statusCode).toBe(400);
    expect(twin.json<Refusal>().details).toMatchObject({ check: 'duplicate-rule', field: 'rule' });
    const reworded = await edit(other.json<RuleView>().id, {
      version: 1,
      description: 'partner API, second port',
      ticket: 'NET-46',
    });
    expect(reworded.statusCode, reworded.body).toBe(200);
    expect(reworded.json<RuleView>().version).toBe(2);
    expect(
      (await t.call('DELETE', `/api/v1/network/rules/${other.json<RuleView>().id}?ticket=NET-46`)).statusCode,
    ).toBe(204);
  });

  it('only network admins edit; an unknown rule is 404; operators scoped to customers are refused', async () => {
    expect((await edit(rule.id, { version: 2, ticket: 'NET-47' }, tokens.auditor)).statusCode).toBe(403);
    expect(
      (await edit('6f1e8c9a-1c1e-4a8e-9a55-0d4c1b7d2a10', { version: 1, ticket: 'NET-47' })).statusCode,
    ).toBe(404);
    const scoped = await t.operatorToken('scopednet', ['network-admin']);
    await t.call('PATCH', '/api/v1/operators/scopednet', { body: { customers: ['acme'] } });
    expect((await edit(rule.id, { version: 2, ticket: 'NET-47' }, scoped)).statusCode).toBe(403);
    expect(
      (
        await t.call('POST', '/api/v1/network/checks', {
          token: scoped,
          body: { ...draft, source: 'jumpboxes' },
        })
      ).statusCode,
    ).toBe(403);
  });

  it('checks a draft without saving it: every problem with the field it is about', async () => {
    const check = async (body: Record<string, unknown>, token = tokens.netadmin) => {
      const response = await t.call('POST', '/api/v1/network/checks', { token, body: { ...draft, ...body } });
      expect(response.statusCode, response.body).toBe(200);
      return response.json<CheckView>();
    };
    const before = (await t.call('GET', '/api/v1/network/rules?kind=customer')).json<{ rules: unknown[] }>();

    const open = await check({ ports: 5432, source: '0.0.0.0/0' }, tokens.auditor);
    expect(open.ok).toBe(false);
    expect(open.findings.map((f) => `${f.check}:${f.field}`)).toEqual([
      'admin-port-source:source',
      'world-open-port:source',
    ]);
    expect(open.findings[0]!.message).toMatch(/only from jumpboxes/);

    const unreadable = await check({
      ports: '70000',
      source: '192.0.2.1/24',
      scope: { type: 'asset', name: 'nope' },
    });
    expect(unreadable.findings.map((f) => `${f.check}:${f.field}`)).toEqual([
      'input:source',
      'input:ports',
      'input:scope',
    ]);
    expect(unreadable.findings[0]!.message).toContain('host bits');

    expect(await check({ ports: 8443, source: '198.51.100.0/24', environment: 'qa' })).toEqual({
      ok: false,
      findings: [{ check: 'input', field: 'environment', message: 'there is no environment acme/qa' }],
    });
    expect(await check({ ports: 8443, source: '198.51.100.0/24' })).toEqual({ ok: true, findings: [] });
    // the rule's own opening is a duplicate of itself only when it is not the rule being edited
    const same = { ports: 8080, source: '198.51.100.0/24' };
    expect((await check(same)).findings.map((f) => `${f.check}:${f.field}`)).toEqual(['duplicate-rule:rule']);
    expect(await check({ ...same, rule: rule.id })).toEqual({ ok: true, findings: [] });

    const after = (await t.call('GET', '/api/v1/network/rules?kind=customer')).json<{ rules: unknown[] }>();
    expect(after.rules).toEqual(before.rules);
  });

  it('plans per customer, environment and layer: the edited rule shows as an add on each web host', async () => {
    const response = await t.call(
      'GET',
      '/api/v1/network/plan?customer=acme&environment=production&layer=host',
    );
    expect(response.statusCode, response.body).toBe(200);
    const plan = response.json<{
      layers: {
        asset: string;
        layer: string;
        adds: { what: string; rules: string[] }[];
        removals: { what: string }[];
      }[];
    }>();
    expect([...new Set(plan.layers.map((l) => l.layer))]).toEqual(['host']);
    const changed = plan.layers.filter((l) => l.adds.length + l.removals.length > 0);
    expect(changed.map((l) => l.asset).sort()).toEqual(['acme-p-web-1', 'acme-p-web-2']);
    for (const layer of changed) {
      expect(layer.adds.map((a) => a.what)).toEqual(['rule tcp 8080 from 198.51.100.0/24']);
      expect(layer.adds[0]!.rules).toEqual([rule.id]);
    }
    const cloud = (await t.call('GET', '/api/v1/network/plan?customer=acme&layer=cloud')).json<{
      layers: { layer: string; adds: { what: string }[] }[];
    }>();
    expect(cloud.layers.every((l) => l.layer === 'cloud')).toBe(true);
    expect(cloud.layers.flatMap((l) => l.adds.map((a) => a.what))).toContain('tcp 8080 from 198.51.100.0/24');
    const none = await t.call('GET', '/api/v1/network/plan?customer=acme&environment=staging');
    expect(none.json<{ assets: number; layers: unknown[] }>()).toMatchObject({ assets: 0, layers: [] });
  });

  it('a customer-scoped apply runs as an audited rollout whose progress is read per asset and layer', async () => {
    const started = await t.call('POST', '/api/v1/network/rollouts', {
      token: tokens.netadmin,
      body: { ...where },
    });
    expect(started.statusCode, started.body).toBe(201);
    const rollout = started.json<{ id: string; state: string; counts: Record<string, number> }>();
    expect(rollout.state).toBe('running');
    expect(rollout.counts.succeeded).toBe(0);
    const done = await drainRollout(t.gh, runner, clock, rollout.id);
    expect(done.state).toBe('completed');
    expect(done.counts).toEqual({ pending: 0, queued: 0, succeeded: 7, failed: 0 });
    const polled = (await t.call('GET', `/api/v1/network/rollouts/${rollout.id}`)).json<{
      targets: { asset: string; layer: string; state: string; result: { adds: { what: string }[] } | null }[];
    }>();
    const web1 = polled.targets.find((x) => x.asset === 'acme-p-web-1' && x.layer === 'host');
    expect(web1?.state).toBe('succeeded');
    expect(web1?.result?.adds.map((a) => a.what)).toEqual(['rule tcp 8080 from 198.51.100.0/24']);
    expect(JSON.stringify(hosts.get('acme-p-web-2')!.model.list('inet', 'gatehouse'))).toContain('8080');
    const [audited] = await events('network.rollout.started');
    expect(audited).toBeDefined();
    const all = await events('network.rollout.started');
    const mine = all.find((e) => e.target_id === rollout.id);
    expect(mine).toMatchObject({ actor_name: 'netadmin' });
    expect((mine!.details as { filter: Record<string, unknown> }).filter).toMatchObject(where);
    expect(
      (await t.call('GET', '/api/v1/network/drift?customer=acme')).json<{ layers: unknown[] }>().layers,
    ).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';
import {
  accessRunner,
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  fakeTickets,
  runToken,
  type Credential,
  type GrantView,
  type RequestView,
} from './access-support.js';

/**
 * What the web back-office needs from the public API to request and review access: the policy preview
 * before a request is made, an asset search a requester can use, a requester's grants for reviewers,
 * and what a connection line is made of.
 */

interface Preview {
  outcome: string;
  allowed: boolean;
  policy: string | null;
  policyVersion: number;
  reasons: { code: string; message: string }[];
  maxDuration: string | null;
  approvals: {
    quorum: number;
    approverGroups: string[];
    requiredGroups: string[];
    reviewWindow: string;
  } | null;
  autoApproved: boolean;
  autoApprovalRules: { levels: string[]; maxDuration: string; requireTicket: boolean }[];
  ticket: string | null;
  breakGlass: { available: boolean; maxDuration: string | null; reasons: { code: string }[] };
}

describe.each(backends)('access API for the web back-office on %s', (backend) => {
  const run = runToken();
  const clock = manualClock(new Date());
  const tickets = fakeTickets();
  const target = fakeConnector();
  let t: TestApp;
  let runner: JobRunner;
  let prod: string;
  let staging: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const user = (name: string) => `${run}.${name}`;

  const preview = (who: string, body: Record<string, unknown>) =>
    t.call('POST', '/api/v1/access/requests/preview', {
      token: tokens[who]!,
      body: { asset: prod, level: 'read-only', duration: '1h', ...body },
    });
  const previewOk = async (who: string, body: Record<string, unknown> = {}) => {
    const response = await preview(who, body);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Preview>();
  };
  const counts = async () => ({
    requests: (await t.gh.store.db.selectFrom('access_requests').select('id').execute()).length,
    audit: (await t.gh.store.db.selectFrom('audit_events').select('id').execute()).length,
  });

  beforeAll(async () => {
    t = await createTestApp(backend, {
      clock,
      access: {
        tickets: tickets.source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    runner = accessRunner(t, clock, `access-web-${run}`);
    const fleet = await createFleet(t, run);
    const common = {
      engine: 'postgres' as const,
      host: '198.51.100.10',
      port: 5433,
      admin: { username: 'postgres', password: 'x' },
    };
    prod = (await createDatabaseAsset(t, fleet, { name: `${run}-prod-db`, ...common, database: 'app' })).name;
    staging = (
      await createDatabaseAsset(t, fleet, {
        name: `${run}-stg-db`,
        ...common,
        host: '198.51.100.11',
        environment: 'staging',
      })
    ).name;
    await createDatabaseAsset(t, fleet, {
      name: `${run}-reports`,
      ...common,
      engine: 'mariadb',
      port: 3306,
      host: '198.51.100.12',
    });
    await expectStatus(t, 201, 'POST', '/api/v1/assets', {
      body: {
        kind: 'server',
        name: `${run}-web`,
        customer: fleet.customer,
        environment: 'production',
        os: 'Debian 12',
        address: '198.51.100.20',
      },
    });
    // credentials are shown on jumpboxes only: the test calls from 127.0.0.1
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: {
        name: `${run}-jump`,
        region: fleet.region,
        address: '127.0.0.1',
        sourceCidrs: ['127.0.0.1/32'],
      },
    });
    for (const [name, roles, groups] of [
      ['dana', ['requester'], ['dev']],
      ['eve', ['requester'], ['dev']],
      ['dora', ['requester'], ['dba']],
      ['nobody', ['requester'], []],
      ['lee', ['approver'], ['leads']],
      ['audrey', ['auditor'], []],
    ] as const) {
      tokens[name] = await t.operatorToken(user(name), [...roles], [...groups]);
      const me = await expectStatus<{ operator: { id: string } }>(t, 200, 'GET', '/api/v1/me', {
        token: tokens[name],
      });
      ids[name] = me.operator.id;
    }
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('preview before any policy: refused with why (200, not an error), and nothing recorded', async () => {
    const before = await counts();
    const none = await previewOk('dana');
    expect(none).toMatchObject({ outcome: 'refused', allowed: false, policy: null, policyVersion: 0 });
    expect(none.reasons[0]!.code).toBe('no-policy');
    expect(await counts()).toEqual(before);
  });

  it('preview says what the policy says: review by whom, maximum, auto-approval, break-glass — and changes nothing', async () => {
    await applyPolicies(t);
    const before = await counts();

    const review = await previewOk('dana');
    expect(review).toMatchObject({
      outcome: 'needs-approval',
      allowed: true,
      policy: 'dev-databases',
      policyVersion: 1,
      maxDuration: '4h',
      approvals: { quorum: 1, approverGroups: ['leads'], requiredGroups: [], reviewWindow: '2h' },
      autoApproved: false,
      ticket: 'optional',
      breakGlass: { available: true, maxDuration: '1h', reasons: [] },
    });

    const auto = await previewOk('dana', { asset: staging });
    expect(auto).toMatchObject({ outcome: 'auto-approved', autoApproved: true, maxDuration: '2h' });
    expect(auto.autoApprovalRules).toMatchObject([
      { levels: ['read-only'], maxDuration: '2h', requireTicket: false },
    ]);

    // over the maximum: refused, saying the maximum, which the form can offer instead
    const long = await previewOk('dana', { duration: '6h' });
    expect(long.allowed).toBe(false);
    expect(long.maxDuration).toBe('4h');
    expect(long.reasons.map((r) => r.code)).toEqual(['duration-exceeds-maximum']);
    expect(long.reasons[0]!.message).toContain('ask for 4h or less');

    // two approvers from two groups, a ticket required; no break-glass for this policy
    const dba = await previewOk('dora');
    expect(dba.policy).toBe('dba-production');
    expect(dba.reasons.map((r) => r.code)).toEqual(['ticket-required']);
    expect(dba.approvals).toMatchObject({ quorum: 2, requiredGroups: ['dba', 'security'] });
    expect(dba.breakGlass.available).toBe(false);
    tickets.open(`${run}-OPS-1`, user('dora'));
    const withTicket = await previewOk('dora', { ticket: `${run}-OPS-1` });
    expect(withTicket).toMatchObject({ outcome: 'needs-approval', allowed: true, reasons: [] });

    // a reason, when given, is judged like the request's; left out, it is the form's business
    const blank = await previewOk('dana', { reason: '  ' });
    expect(blank.reasons.map((r) => r.code)).toEqual(['reason-required']);

    // a level no policy allows for this requester: refused, not forbidden (it is a question)
    const admin = await previewOk('dana', { level: 'admin' });
    expect(admin).toMatchObject({ allowed: false, policy: null });
    expect(admin.reasons[0]!.code).toBe('level-not-allowed');
    expect((await previewOk('nobody')).reasons[0]!.message).toContain('no operator group');

    expect(await counts()).toEqual(before);
  });

  it('preview refuses bad input with a 4xx that says why', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ duration: 'soon' }, 400, 'duration'],
      [{ duration: '90d' }, 400, '1m to 30d'],
      [{ level: 'root' }, 400, 'level'],
      [{ asset: `${run}-missing` }, 404, `${run}-missing`],
      [{ asset: `${run}-web` }, 400, 'automation credential'],
      [{ ticket: 'not a ticket!' }, 400, 'ticket'],
      [{ extra: true }, 400, 'extra'],
    ];
    for (const [body, status, words] of cases) {
      const response = await preview('dana', body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(status);
      expect(response.json<{ message: string }>().message).toContain(words);
    }
    // a ticket that does not exist: a reason the form shows, not an error
    const unknown = await previewOk('dana', { ticket: `${run}-NOPE-9` });
    expect(unknown.reasons.map((r) => r.code)).toEqual(['ticket-not-found']);
  });

  it('a requester searches assets by part of the name, with customer, environment and kind filters', async () => {
    type Page = { items: { name: string; kind: string }[] };
    const search = (query: string) =>
      expectStatus<Page>(t, 200, 'GET', `/api/v1/assets?${query}`, { token: tokens.dana }).then((p) =>
        p.items.map((a) => a.name).sort(),
      );
    expect(await search(`q=${run.toUpperCase()}-PROD`)).toEqual([`${run}-prod-db`]);
    expect(await search(`q=${run}&kind=database&environment=staging`)).toEqual([`${run}-stg-db`]);
    expect(await search(`q=${run}&customer=${run}-acme&kind=server`)).toEqual([`${run}-web`]);
    expect(await search(`q=${run}&kind=database`)).toHaveLength(3);
    // the text is matched as it is: % and _ are not wildcards
    expect(await search(`q=${encodeURIComponent(`${run}%`)}`)).toEqual([]);
    expect(await search(`q=${run}_`)).toEqual([]);
    const unknown = await t.call('GET', `/api/v1/assets?customer=${run}-nobody`, { token: tokens.dana });
    expect(unknown.statusCode).toBe(400);
  });

  it('reviewers see a requester’s recent grants; a requester sees only their own', async () => {
    const asked = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: tokens.eve,
      body: { asset: staging, level: 'read-only', duration: '1h', reason: 'check a report' },
    });
    expect(asked.status).toBe('approved');
    await runner.runDue();
    type Page = { items: (GrantView & { holder: string; holderId: string })[] };
    const ofEve = await expectStatus<Page>(t, 200, 'GET', `/api/v1/grants?holder=${ids.eve}&limit=5`, {
      token: tokens.lee,
    });
    expect(ofEve.items.map((g) => g.holder)).toEqual([user('eve')]);
    expect(ofEve.items[0]!.status).toBe('active');
    expect(
      (await expectStatus<Page>(t, 200, 'GET', `/api/v1/grants?holder=${ids.dana}`, { token: tokens.audrey }))
        .items,
    ).toEqual([]);
    expect(
      (await expectStatus<Page>(t, 200, 'GET', `/api/v1/grants?holder=${ids.eve}`, { token: tokens.eve }))
        .items,
    ).toHaveLength(1);
    const other = await t.call('GET', `/api/v1/grants?holder=${ids.eve}`, { token: tokens.dana });
    expect(other.statusCode).toBe(403);
    expect(other.json<{ message: string }>().message).toContain('reviewers and admins');
    expect((await t.call('GET', '/api/v1/grants?holder=eve', { token: tokens.lee })).statusCode).toBe(400);
  });

  it('a grant shows what its connection line is made of while active, and the reveal gives the same, password apart', async () => {
    const asked = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: tokens.dana,
      body: { asset: prod, level: 'read-only', duration: '1h', reason: 'slow report' },
    });
    await expectStatus(t, 200, 'POST', `/api/v1/access/requests/${asked.id}/approve`, {
      token: tokens.lee,
      body: { comment: 'ok' },
    });
    await runner.runDue();
    type Grant = GrantView & {
      endpoint: { engine: string; host: string; port: number; database: string | null; username: string };
    };
    const approved = await expectStatus<RequestView>(t, 200, 'GET', `/api/v1/access/requests/${asked.id}`, {
      token: tokens.dana,
    });
    const grant = await expectStatus<Grant>(t, 200, 'GET', `/api/v1/grants/${approved.grant!.id}`, {
      token: tokens.dana,
    });
    expect(grant.status).toBe('active');
    expect(grant.endpoint).toEqual({
      engine: 'postgres',
      host: '198.51.100.10',
      port: 5433,
      database: 'app',
      username: grant.account,
    });
    expect(grant.connection).toBe(`psql "host=198.51.100.10 port=5433 user=${grant.account} dbname=app"`);
    const credential = await expectStatus<Credential & { username: string; engine: string }>(
      t,
      200,
      'GET',
      `/api/v1/grants/${grant.id}/credential`,
      { token: tokens.dana },
    );
    expect(credential).toMatchObject({
      username: grant.account,
      engine: 'postgres',
      host: '198.51.100.10',
      port: 5433,
      database: 'app',
      connection: grant.connection,
    });
    expect(credential.connection).not.toContain(credential.password);

    // once ended, there is nothing to connect to
    const revoked = await expectStatus<Grant>(t, 200, 'POST', `/api/v1/grants/${grant.id}/revoke`, {
      token: tokens.dana,
      body: {},
    });
    expect(revoked.endpoint).toBeNull();
    expect(revoked.connection).toBeNull();
  });
});

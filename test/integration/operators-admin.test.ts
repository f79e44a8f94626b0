import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  accessRunner,
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  fakeTickets,
  runToken,
  type GrantView,
  type RequestView,
} from './access-support.js';

interface OperatorUpdate {
  operator: { username: string; roles: string[]; groups: string[]; customerIds: string[]; active: boolean };
  grantsRevoked: number;
}

describe('operator administration: roles, groups, scopes, deactivation', () => {
  const run = runToken();
  const clock = manualClock(new Date());
  const target = fakeConnector();
  let t: TestApp;
  let runner: JobRunner;
  let fleet: { region: string; customer: string };
  const user = (name: string) => `${run}.${name}`;

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      clock,
      access: {
        tickets: fakeTickets().source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    runner = accessRunner(t, clock, `operators-${run}`);
    fleet = await createFleet(t, run);
    await applyPolicies(t);
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: {
        name: `${run}-jump`,
        region: fleet.region,
        address: '192.0.2.254',
        sourceCidrs: ['192.0.2.254/32'],
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('only an admin changes roles and groups, never their own; every change is audited with before and after', async () => {
    const bob = await t.operatorToken(user('bob'), ['requester']);
    const changed = await expectStatus<OperatorUpdate>(t, 200, 'PATCH', `/api/v1/operators/${user('bob')}`, {
      body: { roles: ['approver'], groups: ['leads'] },
    });
    expect(changed.operator).toMatchObject({ roles: ['approver', 'requester'], groups: ['leads'] });
    // the new role is in effect for bob's existing token at once
    const me = await expectStatus<{ roles: string[] }>(t, 200, 'GET', '/api/v1/me', { token: bob });
    expect(me.roles).toContain('approver');

    const self = await t.call('PATCH', '/api/v1/operators/admin', { body: { roles: ['auditor'] } });
    expect(self.statusCode).toBe(403);
    const notAdmin = await t.call('PATCH', `/api/v1/operators/${user('bob')}`, {
      token: bob,
      body: { roles: ['admin'] },
    });
    expect(notAdmin.statusCode).toBe(403);

    const events = await expectStatus<{ items: { action: string; details: Record<string, unknown> }[] }>(
      t,
      200,
      'GET',
      '/api/v1/audit/events?action=operator.updated',
    );
    expect(events.items[0]?.details).toMatchObject({
      username: user('bob'),
      changes: {
        roles: { from: ['requester'], to: ['approver', 'requester'] },
        groups: { from: [], to: ['leads'] },
      },
    });
  });

  it('scopes an operator to customers by name; an unknown customer is refused and changes nothing', async () => {
    await t.operatorToken(user('cara'), ['requester']);
    const unknown = await t.call('PATCH', `/api/v1/operators/${user('cara')}`, {
      body: { customers: ['no-such-customer'] },
    });
    expect(unknown.statusCode).toBe(404);
    const scoped = await expectStatus<OperatorUpdate>(t, 200, 'PATCH', `/api/v1/operators/${user('cara')}`, {
      body: { customers: [fleet.customer] },
    });
    const customer = await expectStatus<{ id: string }>(t, 200, 'GET', `/api/v1/customers/${fleet.customer}`);
    expect(scoped.operator.customerIds).toEqual([customer.id]);
  });

  it('deactivating an operator ends their tokens, sessions and live grants (through the revoke path)', async () => {
    const dana = await t.operatorToken(user('dana'), ['requester'], ['dev']);
    const asset = await createDatabaseAsset(t, fleet, {
      name: `${run}-stg-db`,
      engine: 'postgres',
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
      environment: 'staging',
    });
    const request = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: dana,
      body: { asset: asset.name, level: 'read-only', duration: '1h', reason: 'look at a slow query' },
    });
    await runner.runDue();
    const grantUrl = `/api/v1/grants/${request.grant!.id}`;
    expect((await expectStatus<GrantView>(t, 200, 'GET', grantUrl)).status).toBe('active');

    const off = await expectStatus<OperatorUpdate>(t, 200, 'PATCH', `/api/v1/operators/${user('dana')}`, {
      body: { active: false },
    });
    expect(off.operator.active).toBe(false);
    expect(off.grantsRevoked).toBe(1);
    expect((await t.call('GET', '/api/v1/me', { token: dana })).statusCode).toBe(401);
    await runner.runDue();
    const grant = await expectStatus<GrantView>(t, 200, 'GET', grantUrl);
    expect(grant.status).toBe('revoked');
    expect(target.accounts.has(grant.account)).toBe(false);

    const audit = await expectStatus<{ items: { action: string; details: Record<string, unknown> }[] }>(
      t,
      200,
      'GET',
      '/api/v1/audit/events?action=operator.deactivated',
    );
    expect(audit.items[0]?.details).toMatchObject({ username: user('dana'), tokensRevoked: 1 });
  });
});

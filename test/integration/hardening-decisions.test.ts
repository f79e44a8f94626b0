import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

describe.each(backends)('hardening decisions register on %s', (backend) => {
  let t: TestApp;
  let officer: string;
  let auditor: string;
  let requester: string;

  async function ok(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    token?: string,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the assertions
  ): Promise<any> {
    const response = await t.call(method, url, { body, ...(token ? { token } : {}) });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    return response.statusCode === 204 ? undefined : response.json();
  }

  async function auditCount(action: string): Promise<number> {
    const page = await ok('GET', `/api/v1/audit/events?action=${action}&limit=500`);
    return (page.items as unknown[]).length;
  }

  const future = () => new Date(Date.now() + 30 * 86_400_000).toISOString();

  beforeAll(async () => {
    t = await createTestApp(backend);
    officer = await t.operatorToken('olivia', ['security-officer']);
    auditor = await t.operatorToken('audrey', ['auditor']);
    requester = await t.operatorToken('rick', ['requester']);
    await t.operatorToken('sam', ['security-officer']);
    await ok('POST', '/api/v1/regions', { name: 'eu-west' });
    await ok('POST', '/api/v1/machine-types', { name: 'web' });
    await ok('POST', '/api/v1/customers', { name: 'acme' });
    await ok('POST', '/api/v1/assets', {
      kind: 'server',
      name: 'web-1',
      region: 'eu-west',
      machineType: 'web',
      customer: 'acme',
      os: 'debian-12',
      address: '192.0.2.10',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the shipped baselines to readers', async () => {
    const { items } = await ok('GET', '/api/v1/hardening/baselines', undefined, auditor);
    expect(items.map((b: { id: string }) => b.id).sort()).toEqual(['debian-12-server', 'nginx']);
  });

  it('records a not-applicable decision for a machine type, audited, and replaces it in place', async () => {
    const before = await auditCount('hardening.decision.recorded');
    const first = await ok(
      'POST',
      '/api/v1/hardening/decisions',
      {
        baseline: 'debian-12-server',
        ruleId: 'tmp-partition',
        scope: { type: 'machine-type', name: 'web' },
        status: 'not-applicable',
        justification: 'Web nodes boot from an image with /tmp on tmpfs managed by systemd',
      },
      officer,
    );
    expect(first).toMatchObject({
      scopeType: 'machine-type',
      scopeName: 'web',
      status: 'not-applicable',
      author: 'olivia',
    });
    const second = await ok(
      'POST',
      '/api/v1/hardening/decisions',
      {
        baseline: 'debian-12-server',
        ruleId: 'tmp-partition',
        scope: { type: 'machine-type', name: 'web' },
        status: 'enforced',
      },
      officer,
    );
    expect(second.id).toBe(first.id);
    expect(second.status).toBe('enforced');
    expect(await auditCount('hardening.decision.recorded')).toBe(before + 2);
  });

  it('refuses an exception without justification, approver or expiry, or approved by its author, and changes nothing', async () => {
    const base = {
      baseline: 'debian-12-server',
      ruleId: 'sshd-root-login',
      scope: { type: 'asset', name: 'web-1' },
      status: 'exception',
    };
    const full = {
      ...base,
      justification: 'Vendor appliance agent logs in as root until v5',
      approver: 'sam',
      expiresAt: future(),
    };
    const before = await ok('GET', '/api/v1/hardening/decisions?ruleId=sshd-root-login');
    for (const [field, body] of [
      ['justification', { ...full, justification: undefined }],
      ['approver', { ...full, approver: undefined }],
      ['expiresAt', { ...full, expiresAt: undefined }],
      ['approver', { ...full, approver: 'olivia' }],
      ['expiresAt', { ...full, expiresAt: new Date(Date.now() - 1000).toISOString() }],
      ['approver', { ...full, approver: 'nobody' }],
    ] as const) {
      const response = await t.call('POST', '/api/v1/hardening/decisions', { body, token: officer });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed' });
      expect(response.json().message).toContain(field);
    }
    expect(await ok('GET', '/api/v1/hardening/decisions?ruleId=sshd-root-login')).toEqual(before);

    const recorded = await ok(
      'POST',
      '/api/v1/hardening/decisions',
      { ...full, compensatingControl: 'root key only from the jumpbox' },
      officer,
    );
    expect(recorded).toMatchObject({
      status: 'exception',
      approver: 'sam',
      expired: false,
      compensatingControl: 'root key only from the jumpbox',
    });
  });

  it('refuses unknown rules, scopes and baselines with a 4xx', async () => {
    const bad = [
      { baseline: 'debian-12-server', ruleId: 'no-such-rule', scope: { type: 'fleet' }, status: 'enforced' },
      {
        baseline: 'debian-12-server',
        ruleId: 'tmp-partition',
        scope: { type: 'customer', name: 'globex' },
        status: 'enforced',
      },
      { baseline: 'windows', ruleId: 'tmp-partition', scope: { type: 'fleet' }, status: 'enforced' },
    ];
    for (const body of bad) {
      const response = await t.call('POST', '/api/v1/hardening/decisions', { body, token: officer });
      expect([400, 404]).toContain(response.statusCode);
    }
  });

  it('only the security office and admins decide; auditors read; requesters see nothing', async () => {
    const body = {
      baseline: 'nginx',
      ruleId: 'nginx-server-tokens',
      scope: { type: 'fleet' },
      status: 'enforced',
    };
    expect((await t.call('POST', '/api/v1/hardening/decisions', { body, token: auditor })).statusCode).toBe(
      403,
    );
    expect((await t.call('GET', '/api/v1/hardening/decisions', { token: requester })).statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/hardening/decisions', { token: auditor })).statusCode).toBe(200);
    const decision = await ok('POST', '/api/v1/hardening/decisions', body, officer);
    expect(
      (await t.call('DELETE', `/api/v1/hardening/decisions/${decision.id}`, { token: auditor })).statusCode,
    ).toBe(403);
    await ok('DELETE', `/api/v1/hardening/decisions/${decision.id}`, undefined, officer);
    expect(await auditCount('hardening.decision.removed')).toBe(1);
  });
});

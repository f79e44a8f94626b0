import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineCatalog } from '../../src/modules/hardening/baselines.js';
import { parseBaseline } from '../../src/modules/hardening/domain/baseline-schema.js';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * Templates through the API on the local transport: the baseline's checks and remediations all point
 * into a temporary folder, so applying them changes nothing else on this machine.
 */
const labBaseline = (dir: string) => `
id: lab
version: '1'
title: Lab baseline
benchmark: { name: CIS Lab Benchmark, version: v1.0.0 }
profile: Level 1 - Server
rules:
  - id: max-days
    title: Ensure password expiration is configured
    cis: 5.4.1.1
    level: 1
    automated: true
    rationale: Passwords that never expire stay useful to whoever learns them.
    check: { type: file-content, path: ${dir}/login.defs, pattern: '^PASS_MAX_DAYS\\s+365\\s*$', expect: match }
    remediation: { type: file-line, path: ${dir}/login.defs, pattern: '^\\s*PASS_MAX_DAYS.*$', line: 'PASS_MAX_DAYS 365' }
  - id: min-days
    title: Ensure minimum password age is configured
    cis: 5.4.1.2
    level: 1
    automated: true
    rationale: A minimum age stops a user cycling straight back to an old password.
    check: { type: file-content, path: ${dir}/login.defs, pattern: '^PASS_MIN_DAYS\\s+1\\s*$', expect: match }
    remediation: { type: file-line, path: ${dir}/login.defs, pattern: '^\\s*PASS_MIN_DAYS.*$', line: 'PASS_MIN_DAYS 1' }
  - id: secret-mode
    title: Ensure the secret file is not readable by others
    cis: 7.1.5
    level: 1
    automated: true
    rationale: Secrets must be readable by their owner only, or any local user can copy them.
    check: { type: file-mode, path: ${dir}/secret, mode: '0600', owner: root, group: [root] }
    remediation: { type: from-check }
  - id: banner
    title: Ensure the banner is configured
    cis: 1.6.2
    level: 1
    automated: true
    rationale: A banner without the OS release tells an attacker less and warns users.
    check: { type: file-content, path: ${dir}/issue, pattern: 'Debian', expect: no-match }
    remediation: { type: file, path: ${dir}/issue, content: "Authorized uses only.\\n" }
  - id: excepted
    title: Ensure the excepted file is not world readable
    cis: 7.1.9
    level: 1
    automated: true
    rationale: Even excepted rules keep their check; the template must leave them alone.
    check: { type: file-mode, path: ${dir}/excepted, mode: '0600', owner: root, group: [root] }
    remediation: { type: from-check }
`;

describe('hardening templates (apply) on pglite', () => {
  let t: TestApp;
  let dir: string;
  let officer: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the assertions
  async function ok(method: 'GET' | 'POST', url: string, body?: unknown, token?: string): Promise<any> {
    const response = await t.call(method, url, { body, ...(token ? { token } : {}) });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    return response.json();
  }
  const file = (name: string) => path.join(dir, name);
  const mode = (name: string) => (statSync(file(name)).mode & 0o777).toString(8);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-template-'));
    writeFileSync(file('login.defs'), '# weakened\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nUMASK 022\n');
    writeFileSync(file('secret'), 'hunter2\n');
    chmodSync(file('secret'), 0o644);
    writeFileSync(file('excepted'), 'x\n');
    chmodSync(file('excepted'), 0o644);
    writeFileSync(file('issue'), 'Debian GNU/Linux 12 \\n \\l\n');
    const baselines = baselineCatalog(new Map([['lab', parseBaseline(labBaseline(dir))]]));
    t = await createTestApp('pglite', { hardening: { baselines } });
    officer = await t.operatorToken('olivia', ['security-officer']);
    await t.operatorToken('sam', ['security-officer']);
    await ok('POST', '/api/v1/regions', { name: 'eu-west' });
    await ok('POST', '/api/v1/assets', {
      kind: 'server',
      name: 'tpl-1',
      region: 'eu-west',
      os: 'debian-12',
      address: '192.0.2.20',
      labels: { 'hardening.transport': 'local' },
    });
    await ok(
      'POST',
      '/api/v1/hardening/decisions',
      {
        baseline: 'lab',
        ruleId: 'excepted',
        scope: { type: 'asset', name: 'tpl-1' },
        status: 'exception',
        justification: 'Read by the monitoring agent until it is replaced',
        approver: 'sam',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
      officer,
    );
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a plan shows the changes and changes nothing', async () => {
    const before = readFileSync(file('login.defs'), 'utf8');
    const plan = await ok('POST', '/api/v1/hardening/apply', {
      baseline: 'lab',
      asset: 'tpl-1',
      dryRun: true,
    });
    expect(plan.applied).toBe(false);
    expect(plan.changes.map((c: { ruleId: string }) => c.ruleId)).toEqual([
      'max-days',
      'min-days',
      'secret-mode',
      'banner',
    ]);
    expect(readFileSync(file('login.defs'), 'utf8')).toBe(before);
    expect(mode('secret')).toBe('644');
  });

  it('only operators with hardening:apply may change a host', async () => {
    const denied = await t.call('POST', '/api/v1/hardening/apply', {
      body: { baseline: 'lab', asset: 'tpl-1', dryRun: false },
      token: officer,
    });
    expect(denied.statusCode).toBe(403);
    expect(mode('secret')).toBe('644');
  });

  it('apply fixes the failing enforced rules, leaves the exception alone, and the rescan passes', async () => {
    const done = await ok('POST', '/api/v1/hardening/apply', {
      baseline: 'lab',
      asset: 'tpl-1',
      dryRun: false,
    });
    expect(done.applied).toBe(true);
    expect(done.scan).toMatchObject({
      state: 'completed',
      score: 100,
      counts: { pass: 4, fail: 0, exception: 1 },
    });
    expect(readFileSync(file('login.defs'), 'utf8')).toBe(
      '# weakened\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nUMASK 022\n',
    );
    expect(mode('secret')).toBe('600');
    expect(mode('excepted')).toBe('644');
    expect(readFileSync(file('issue'), 'utf8')).toBe('Authorized uses only.\n');
    const events = await ok('GET', '/api/v1/audit/events?action=hardening.template.applied&limit=10');
    expect(events.items).toHaveLength(1);
    expect(events.items[0].details.steps.map((s: { exitCode: number }) => s.exitCode)).toEqual([0, 0, 0, 0]);
  });

  it('applying again is a no-op: nothing planned, nothing run, nothing recorded', async () => {
    const again = await ok('POST', '/api/v1/hardening/apply', {
      baseline: 'lab',
      asset: 'tpl-1',
      dryRun: false,
    });
    expect(again.changes).toEqual([]);
    const events = await ok('GET', '/api/v1/audit/events?action=hardening.template.started&limit=10');
    expect(events.items).toHaveLength(1);
  });

  it('refuses databases and hosts it cannot reach with a 4xx, changing nothing', async () => {
    await ok('POST', '/api/v1/assets', {
      kind: 'database',
      name: 'db-1',
      region: 'eu-west',
      engine: 'postgres',
      host: 'db.example.test',
      port: 5432,
    });
    await ok('POST', '/api/v1/assets', {
      kind: 'server',
      name: 'far-1',
      region: 'eu-west',
      os: 'debian-12',
      address: '192.0.2.21',
    });
    const db = await t.call('POST', '/api/v1/hardening/scans', { body: { baseline: 'lab', asset: 'db-1' } });
    expect(db.statusCode).toBe(400);
    expect(db.json().message).toMatch(/apply to servers/);
    const far = await t.call('POST', '/api/v1/hardening/apply', {
      body: { baseline: 'lab', asset: 'far-1', dryRun: false },
    });
    expect(far.statusCode).toBe(409);
    expect(far.json().message).toMatch(/Could not scan far-1/);
    const events = await ok('GET', '/api/v1/audit/events?action=hardening.template.started&limit=10');
    expect(events.items).toHaveLength(1);
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineCatalog } from '../../src/modules/hardening/baselines.js';
import { parseBaseline } from '../../src/modules/hardening/domain/baseline-schema.js';
import { manualClock } from '../../src/platform/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

/**
 * Scans through the API on the local transport (this machine), with a small baseline whose checks read
 * files of a temporary folder, so the test can weaken and fix "the host" at will.
 */
const labBaseline = (dir: string) => `
id: lab
version: '1'
title: Lab baseline
benchmark: { name: CIS Lab Benchmark, version: v1.0.0 }
profile: Level 1 - Server
rules:
  - id: min-days
    title: Ensure minimum password age is configured
    cis: 5.4.1.2
    level: 1
    automated: true
    rationale: A minimum age stops a user cycling straight back to an old password.
    check: { type: file-content, path: ${dir}/login.defs, pattern: '^PASS_MIN_DAYS\\s+[1-9]', expect: match }
    remediation: { type: file-line, path: ${dir}/login.defs, pattern: '^PASS_MIN_DAYS.*$', line: 'PASS_MIN_DAYS 1' }
  - id: secret-mode
    title: Ensure the secret file is not readable by others
    cis: 7.1.5
    level: 1
    automated: true
    rationale: Secrets must be readable by their owner only, or any local user can copy them.
    check: { type: file-mode, path: ${dir}/secret, mode: '0600', owner: root, group: [root] }
    remediation: { type: from-check }
  - id: no-such-tool
    title: Ensure a tool that is not installed reports an error
    cis: 9.9.9
    level: 1
    automated: true
    rationale: A check whose command cannot run must be reported as an error, never as a pass.
    check: { type: command, argv: [/usr/bin/gatehouse-no-such-tool], expect: empty }
    remediation: { type: manual, steps: Nothing to do. }
  - id: review-access
    title: Ensure access is reviewed
    cis: 5.1.4
    level: 1
    automated: false
    rationale: Who may log in is a decision per machine type, reviewed by a person.
    check: { type: manual, procedure: Review the allowed groups. }
    remediation: { type: manual, steps: Set AllowGroups. }
`;

interface ScanView {
  id: string;
  asset: string;
  state: string;
  error: string | null;
  score: number | null;
  counts: Record<string, number>;
  drift: { ruleId: string; from: string | null; to: string | null }[];
  transport: string;
}

describe.each(backends)('hardening scans on %s', (backend) => {
  let t: TestApp;
  let dir: string;
  let officer: string;
  let auditor: string;
  const clock = manualClock(new Date());

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the assertions
  async function ok(method: 'GET' | 'POST', url: string, body?: unknown, token?: string): Promise<any> {
    const response = await t.call(method, url, { body, ...(token ? { token } : {}) });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    return response.json();
  }
  const scan = async (asset: string): Promise<ScanView> => {
    clock.advance(1000); // scans of one host are ordered by time
    const { items } = await ok('POST', '/api/v1/hardening/scans', { baseline: 'lab', asset }, officer);
    return items[0] as ScanView;
  };
  const resultOf = async (scanId: string, ruleId: string) => {
    const detail = await ok('GET', `/api/v1/hardening/scans/${scanId}`);
    return (detail.results as { ruleId: string; result: string; decision: string }[]).find(
      (r) => r.ruleId === ruleId,
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-harden-'));
    writeFileSync(path.join(dir, 'login.defs'), '# weakened\nPASS_MIN_DAYS 0\n');
    writeFileSync(path.join(dir, 'secret'), 'hunter2\n');
    chmodSync(path.join(dir, 'secret'), 0o644);
    const baselines = baselineCatalog(new Map([['lab', parseBaseline(labBaseline(dir))]]));
    t = await createTestApp(backend, { clock, hardening: { baselines } });
    officer = await t.operatorToken('olivia', ['security-officer']);
    auditor = await t.operatorToken('audrey', ['auditor']);
    await t.operatorToken('sam', ['security-officer']);
    await ok('POST', '/api/v1/regions', { name: 'eu-west' });
    await ok('POST', '/api/v1/machine-types', { name: 'web' });
    await ok('POST', '/api/v1/customers', { name: 'acme' });
    const server = { kind: 'server', region: 'eu-west', machineType: 'web', os: 'debian-12' };
    await ok('POST', '/api/v1/assets', {
      ...server,
      name: 'web-1',
      customer: 'acme',
      address: '192.0.2.10',
      labels: { 'hardening.transport': 'local' },
    });
    await ok('POST', '/api/v1/assets', { ...server, name: 'web-2', address: '192.0.2.11' });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a weakened host yields its failures; errors and manual rules are reported as such', async () => {
    const first = await scan('web-1');
    expect(first).toMatchObject({ state: 'completed', transport: 'local', drift: [] });
    expect(first.counts).toMatchObject({ pass: 0, fail: 2, error: 1, notchecked: 1 });
    expect(first.score).toBe(0);
    expect(await resultOf(first.id, 'secret-mode')).toMatchObject({ result: 'fail', decision: 'enforced' });
  });

  it('an exception turns the failure into an exception until it expires; then it is a finding again', async () => {
    await ok(
      'POST',
      '/api/v1/hardening/decisions',
      {
        baseline: 'lab',
        ruleId: 'secret-mode',
        scope: { type: 'asset', name: 'web-1' },
        status: 'exception',
        justification: 'The legacy agent reads it as its own user until it is replaced',
        approver: 'sam',
        expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
        compensatingControl: 'host has no interactive users',
      },
      officer,
    );
    const excepted = await scan('web-1');
    expect(excepted.counts).toMatchObject({ fail: 1, exception: 1 });
    expect(excepted.drift).toEqual([{ ruleId: 'secret-mode', from: 'fail', to: 'exception' }]);

    clock.advance(2 * 3_600_000);
    const expired = await scan('web-1');
    expect(await resultOf(expired.id, 'secret-mode')).toMatchObject({
      result: 'fail',
      decision: 'exception-expired',
    });
    expect(expired.drift).toEqual([{ ruleId: 'secret-mode', from: 'exception', to: 'fail' }]);
    const { items } = await ok('GET', '/api/v1/hardening/decisions?baseline=lab');
    expect(items[0]).toMatchObject({ ruleId: 'secret-mode', expired: true });
  });

  it('a change on the host shows as drift against the previous scan', async () => {
    writeFileSync(path.join(dir, 'login.defs'), 'PASS_MIN_DAYS 1\n');
    const fixed = await scan('web-1');
    expect(fixed.drift).toEqual([{ ruleId: 'min-days', from: 'fail', to: 'pass' }]);
    const unchanged = await scan('web-1');
    expect(unchanged.drift).toEqual([]);
  });

  it('a host without a transport gets a failed scan, recorded and audited, not a partial result', async () => {
    const failed = await scan('web-2');
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/no hardening transport/);
    const events = await ok('GET', '/api/v1/audit/events?action=hardening.scan.failed&limit=10');
    expect(events.items.length).toBeGreaterThanOrEqual(1);
  });

  it('scans a whole machine type and scores per host, machine type and customer from the latest scans', async () => {
    const { items } = await ok(
      'POST',
      '/api/v1/hardening/scans',
      { baseline: 'lab', machineType: 'web', concurrency: 2 },
      officer,
    );
    expect((items as ScanView[]).map((s) => s.asset).sort()).toEqual(['web-1', 'web-2']);
    const scores = await ok('GET', '/api/v1/hardening/scores?baseline=lab', undefined, auditor);
    expect(scores.hosts.map((h: { name: string }) => h.name)).toEqual(['web-1']);
    expect(scores.hosts[0]).toMatchObject({ score: 33.3, counts: { pass: 1, fail: 1, error: 1 } });
    expect(scores.machineTypes).toEqual([expect.objectContaining({ name: 'web', hosts: 1 })]);
    expect(scores.customers).toEqual([expect.objectContaining({ name: 'acme', hosts: 1 })]);
    expect(scores.fleet).toMatchObject({ hosts: 1 });
  });

  it('the hardening document lists every rule, configured or not and why, with the latest results', async () => {
    const md = await t.call('GET', '/api/v1/hardening/document?baseline=lab&machineType=web', {
      token: auditor,
    });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toContain('text/markdown');
    for (const title of ['Ensure minimum password age is configured', 'Ensure access is reviewed']) {
      expect(md.body).toContain(title);
    }
    expect(md.body).toContain('Narrower decision, asset web-1: Exception (EXPIRED: counts as a finding)');
    expect(md.body).toContain('Hosts with a scan: 1.');
    const html = await t.call('GET', '/api/v1/hardening/document?baseline=lab&format=html', {
      token: auditor,
    });
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('<tr id="secret-mode">');
    const bad = await t.call('GET', '/api/v1/hardening/document?baseline=lab&machineType=nope', {
      token: auditor,
    });
    expect(bad.statusCode).toBe(400);
  });

  it('auditors read scans but cannot start one; bad targets are refused with a 4xx', async () => {
    const denied = await t.call('POST', '/api/v1/hardening/scans', {
      body: { baseline: 'lab', asset: 'web-1' },
      token: auditor,
    });
    expect(denied.statusCode).toBe(403);
    expect(
      (await ok('GET', '/api/v1/hardening/scans?asset=web-1', undefined, auditor)).items.length,
    ).toBeGreaterThan(0);
    for (const body of [
      { baseline: 'lab' },
      { baseline: 'lab', asset: 'web-1', all: true },
      { baseline: 'lab', machineType: 'db' },
      { baseline: 'nope', asset: 'web-1' },
    ]) {
      const response = await t.call('POST', '/api/v1/hardening/scans', { body, token: officer });
      expect([400, 404], JSON.stringify(body)).toContain(response.statusCode);
    }
  });
});

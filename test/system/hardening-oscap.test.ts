import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBaselines } from '../../src/modules/hardening/baselines.js';
import {
  combinedOscapResult,
  evaluateWithOscap,
  writeWorkingDatastream,
} from '../../src/modules/hardening/oscap.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startHardeningHost, type HardeningHost } from '../support/hardening-host.js';
import { createLab, type Lab } from '../support/netns.js';

/**
 * Cross-check with OpenSCAP: on the same host, for every rule of the Debian 12 baseline that names SSG
 * equivalents, Gatehouse's check result must equal `oscap xccdf eval`'s (all equivalents pass → pass,
 * any fails → fail). Where the two tools deliberately differ, the fixture says why; the test fails if a
 * rule diverges without an explanation, or if an explained divergence no longer occurs.
 */
const baseline = loadBaselines().get('debian-12-server')!;
const explained = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'fixtures', 'hardening-oscap-divergences.json'), 'utf8'),
) as Record<string, { gatehouse: string; oscap: string; why: string }>;

describe('Gatehouse and OpenSCAP agree on the same host', () => {
  let lab: Lab;
  let host: HardeningHost;
  let t: TestApp;
  let work: string;

  beforeAll(async () => {
    lab = await createLab();
    host = await startHardeningHost(lab, 'scap1');
    t = await createTestApp('pglite', { hardening: { transports: () => host.transport } });
    work = mkdtempSync(path.join(tmpdir(), 'gh-oscap-'));
    writeWorkingDatastream(
      path.join(work, 'ds.xml'),
      baseline.rules.flatMap((r) => r.ssg),
    );
    await t.call('POST', '/api/v1/regions', { body: { name: 'lab' } });
    await t.call('POST', '/api/v1/assets', {
      body: { kind: 'server', name: 'scap-1', region: 'lab', os: 'debian-12', address: '192.0.2.60' },
    });
    // a mix of passing and failing rules: weaken some, harden others
    const inHost = (argv: string[]) => host.transport.exec(argv);
    await inHost([
      'sh',
      '-c',
      'printf "PermitRootLogin yes\\nMaxAuthTries 3\\nIgnoreRhosts yes\\n" > /etc/ssh/sshd_config.d/00-mixed.conf',
    ]);
    await inHost(['chmod', '0644', '/etc/gshadow']);
    await inHost(['sh', '-c', 'sed -i "s/^PASS_MIN_DAYS.*/PASS_MIN_DAYS\\t1/" /etc/login.defs']);
  });
  afterAll(async () => {
    await t?.close();
    await host?.stop();
    await lab?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('every rule with an SSG equivalent has the same result, or a written explanation', async () => {
    const response = await t.call('POST', '/api/v1/hardening/scans', {
      body: { baseline: baseline.id, asset: 'scap-1' },
    });
    const scanId = response.json<{ items: { id: string }[] }>().items[0]!.id;
    const detail = (await t.call('GET', `/api/v1/hardening/scans/${scanId}`)).json<{
      results: { ruleId: string; checked: string }[];
    }>();
    const ours = new Map(detail.results.map((r) => [r.ruleId, r.checked]));
    const theirs = await evaluateWithOscap(host.transport, path.join(work, 'ds.xml'));

    const divergences: Record<string, { gatehouse: string; oscap: string }> = {};
    const compared: string[] = [];
    for (const rule of baseline.rules.filter((r) => r.ssg.length > 0)) {
      const gatehouse = ours.get(rule.id) ?? 'missing';
      const oscap = combinedOscapResult(rule.ssg.map((id) => theirs.get(id)));
      compared.push(rule.id);
      if (gatehouse !== oscap) divergences[rule.id] = { gatehouse, oscap };
    }
    const expected = Object.fromEntries(
      Object.entries(explained).map(([id, d]) => [id, { gatehouse: d.gatehouse, oscap: d.oscap }]),
    );
    expect(divergences).toEqual(expected);
    // the comparison is not empty: most rules agree, on both passing and failing results
    const agreeing = compared.filter((id) => !(id in divergences));
    expect(agreeing.length).toBeGreaterThanOrEqual(20);
    expect(new Set(agreeing.map((id) => ours.get(id)))).toEqual(new Set(['pass', 'fail']));
  });
});

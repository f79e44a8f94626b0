import { readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/adapters/transports/types.js';
import { loadBaselines } from '../../src/modules/hardening/baselines.js';
import type { Rule } from '../../src/modules/hardening/domain/baseline-schema.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startHardeningHost, type HardeningHost } from '../support/hardening-host.js';
import { createLab, type Lab } from '../support/netns.js';

/**
 * The Debian 12 baseline on a real host: a network namespace with its own /etc. The host shares the
 * machine's kernel (all but net.* sysctls), packages, services, mounts and /var, so the rules that
 * would read or change those are recorded not-applicable for this host in the decisions register —
 * which is what the register is for. Everything else is scanned, fixed and scanned again for real.
 */
const baseline = loadBaselines().get('debian-12-server')!;

function reachesBeyondTheHost(rule: Rule): boolean {
  const c = rule.check;
  switch (c.type) {
    case 'mount':
    case 'package':
    case 'service':
      return true;
    case 'sysctl':
      return !c.key.startsWith('net.');
    case 'file-mode':
    case 'file-content':
      return !c.path.startsWith('/etc/');
    case 'command':
    case 'kernel-module':
    case 'manual':
    case 'nginx-directive':
    case 'sshd-option':
      return false;
  }
}

describe('hardening a namespace host with its own /etc', () => {
  let lab: Lab;
  let host: HardeningHost;
  let t: TestApp;
  const machineShadowMode = statSync('/etc/shadow').mode;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked by the assertions
  async function ok(method: 'GET' | 'POST', url: string, body?: unknown, token?: string): Promise<any> {
    const response = await t.call(method, url, { body, ...(token ? { token } : {}) });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    return response.json();
  }
  const inHost = async (argv: string[]) => {
    const result = await host.transport.exec(argv);
    if (result.code !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  };
  const scan = async (): Promise<{
    id: string;
    state: string;
    drift: unknown[];
    counts: Record<string, number>;
  }> => {
    const page = (await ok('POST', '/api/v1/hardening/scans', { baseline: baseline.id, asset: 'srv-1' })) as {
      items: { id: string; state: string; drift: unknown[]; counts: Record<string, number> }[];
    };
    return page.items[0]!;
  };
  const failing = async (scanId: string) => {
    const detail = await ok('GET', `/api/v1/hardening/scans/${scanId}`);
    return (detail.results as { ruleId: string; result: string }[])
      .filter((r) => r.result === 'fail' || r.result === 'error')
      .map((r) => r.ruleId);
  };

  beforeAll(async () => {
    lab = await createLab();
    host = await startHardeningHost(lab, 'srv1');
    const transports = (): Transport => host.transport;
    t = await createTestApp('pglite', { hardening: { transports } });
    await ok('POST', '/api/v1/regions', { name: 'lab' });
    await ok('POST', '/api/v1/assets', {
      kind: 'server',
      name: 'srv-1',
      region: 'lab',
      os: 'debian-12',
      address: '192.0.2.50',
    });
    await t.operatorToken('sam', ['security-officer']);
    for (const rule of baseline.rules.filter(reachesBeyondTheHost)) {
      await ok('POST', '/api/v1/hardening/decisions', {
        baseline: baseline.id,
        ruleId: rule.id,
        scope: { type: 'asset', name: 'srv-1' },
        status: 'not-applicable',
        justification:
          "Test host: a namespace sharing the machine's kernel, packages, services, mounts and /var",
      });
    }
    // weaken the host
    await inHost([
      'sh',
      '-c',
      'printf "PermitRootLogin yes\\nMaxAuthTries 10\\n" > /etc/ssh/sshd_config.d/00-weak.conf',
    ]);
    await inHost(['chmod', '0644', '/etc/shadow']);
    await inHost(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.accept_redirects=1']);
  });
  afterAll(async () => {
    await t?.close();
    await host?.stop();
    await lab?.close();
  });

  it('a deliberately weakened host yields the expected failures', async () => {
    const first = await scan();
    expect(first.state).toBe('completed');
    const failed = await failing(first.id);
    expect(failed).toEqual(
      expect.arrayContaining([
        'sshd-root-login',
        'sshd-max-auth-tries',
        'shadow-permissions',
        'ip-forward-disabled',
        'accept-redirects-all',
        'pass-max-days',
        'kmod-cramfs',
      ]),
    );
    expect(first.counts.notapplicable).toBe(baseline.rules.filter(reachesBeyondTheHost).length);
  });

  it('apply fixes them, a re-scan passes, and the machine itself is untouched', async () => {
    const plan = await ok('POST', '/api/v1/hardening/apply', {
      baseline: baseline.id,
      asset: 'srv-1',
      dryRun: true,
    });
    expect(plan.changes.length).toBeGreaterThanOrEqual(7);
    const applied = await ok('POST', '/api/v1/hardening/apply', {
      baseline: baseline.id,
      asset: 'srv-1',
      dryRun: false,
    });
    expect(await failing(applied.scan.id)).toEqual([]);
    expect(applied.scan.score).toBe(100);
    const again = await scan();
    expect(again.drift).toEqual([]);
    expect(statSync('/etc/shadow').mode).toBe(machineShadowMode);
    expect(readdirSync('/etc/ssh/sshd_config.d').filter((f) => f.includes('gatehouse'))).toEqual([]);
    expect(statSync(`${host.etcDir}/shadow`).mode & 0o777).toBe(0o640);
  });

  it('a later hand change shows as drift', async () => {
    await inHost(['chmod', '0644', '/etc/shadow']);
    const drifted = await scan();
    expect(drifted.drift).toEqual([{ ruleId: 'shadow-permissions', from: 'pass', to: 'fail' }]);
  });
});

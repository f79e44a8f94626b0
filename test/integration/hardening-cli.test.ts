import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTransport } from '../../src/adapters/transports/local.js';
import { baselineCatalog } from '../../src/modules/hardening/baselines.js';
import { parseBaseline } from '../../src/modules/hardening/domain/baseline-schema.js';
import { parseScanOutput, scanScript } from '../../src/modules/hardening/domain/scan-script.js';
import { createTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
const main = path.resolve('src/main.ts');
/** Characters a shell treats specially, and some that are not ASCII. */
const SHELL_TROUBLE = `ab ~'"$\`\\\n\t;|&*?[]{}()<>#!%^=é€😀`;

describe('the scan script on a real sh', () => {
  it('property: any argument reaches the probe as one word, and its output comes back byte for byte', async () => {
    const local = createLocalTransport();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom(...Array.from(SHELL_TROUBLE)), maxLength: 40 }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (words) => {
          const probes = words.map((w, i) => ({ id: `p${i}`, argv: ['printf', '%s', w] }));
          const result = await local.exec(['sh', '-s'], scanScript(probes));
          const outputs = parseScanOutput(result.stdout);
          return words.every((w, i) => outputs.get(`p${i}`)?.out === w && outputs.get(`p${i}`)?.rc === 0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('gatehouse harden (CLI)', () => {
  let t: TestApp;
  let base: string;
  let dir: string;

  async function gatehouse(...args: string[]) {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
        env: { PATH: process.env.PATH, HOME: dir, GATEHOUSE_URL: base, GATEHOUSE_TOKEN: t.adminToken },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-harden-cli-'));
    writeFileSync(path.join(dir, 'secret'), 'x\n');
    chmodSync(path.join(dir, 'secret'), 0o644);
    const baseline = parseBaseline(`
id: lab
version: '1'
title: Lab baseline
benchmark: { name: CIS Lab Benchmark, version: v1.0.0 }
profile: Level 1 - Server
rules:
  - id: secret-mode
    title: Ensure the secret file is not readable by others
    cis: 7.1.5
    level: 1
    automated: true
    rationale: Secrets must be readable by their owner only, or any local user can copy them.
    check: { type: file-mode, path: ${dir}/secret, mode: '0600', owner: root, group: [root] }
    remediation: { type: from-check }
`);
    t = await createTestApp('pglite', {
      hardening: { baselines: baselineCatalog(new Map([['lab', baseline]])) },
    });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    await t.call('POST', '/api/v1/regions', { body: { name: 'eu-west' } });
    await t.call('POST', '/api/v1/machine-types', { body: { name: 'web' } });
    for (const name of ['web-1', 'web-2']) {
      await t.call('POST', '/api/v1/assets', {
        body: {
          kind: 'server',
          name,
          region: 'eu-west',
          machineType: 'web',
          os: 'debian-12',
          address: name === 'web-1' ? '192.0.2.31' : '192.0.2.32',
          labels: { 'hardening.transport': 'local' },
        },
      });
    }
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans a machine type with progress per host on stderr and a table on stdout', async () => {
    const result = await gatehouse('harden', 'scan', '--baseline', 'lab', '--machine-type', 'web');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('scanning 2 server(s) against lab');
    expect(result.stderr).toMatch(/\[1\/2\] web-\d: score 0, 1 failing/);
    expect(result.stderr).toMatch(/\[2\/2\] web-\d/);
    expect(result.stdout).toMatch(/web-1\s+completed\s+0/);
  });

  it('apply shows the plan and changes nothing without --yes; with --yes it fixes the host', async () => {
    const plan = await gatehouse('harden', 'apply', '--baseline', 'lab', '--asset', 'web-1');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`secret-mode: ${dir}/secret: mode 0644 → 0600`);
    expect(plan.stdout).toContain('nothing changed: run again with --yes to apply');
    expect(statSync(path.join(dir, 'secret')).mode & 0o777).toBe(0o644);
    const applied = await gatehouse('harden', 'apply', '--baseline', 'lab', '--asset', 'web-1', '--yes');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('applied; rescan: score 100, 0 failing');
    expect(statSync(path.join(dir, 'secret')).mode & 0o777).toBe(0o600);
  });

  it('records a decision, refuses a self-approved exception, and writes the document', async () => {
    const refused = await gatehouse(
      'harden',
      'decide',
      '--baseline',
      'lab',
      '--rule',
      'secret-mode',
      '--scope',
      'asset:web-2',
      '--status',
      'exception',
      '--justification',
      'legacy',
      '--approver',
      'admin',
      '--expires',
      '2099-01-01',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/approver/);
    const na = await gatehouse(
      'harden',
      'decide',
      '--baseline',
      'lab',
      '--rule',
      'secret-mode',
      '--scope',
      'machine-type:web',
      '--status',
      'not-applicable',
      '--justification',
      'web nodes keep no secrets on disk',
    );
    expect(na.code).toBe(0);
    const out = path.join(dir, 'docs');
    const doc = await gatehouse(
      'harden',
      'document',
      '--baseline',
      'lab',
      '--machine-type',
      'web',
      '--out',
      out,
    );
    expect(doc.code).toBe(0);
    const md = readFileSync(path.join(out, 'hardening-lab-web.md'), 'utf8');
    expect(md).toContain('Not configured: not applicable. Not applicable: web nodes keep no secrets on disk');
    expect(readFileSync(path.join(out, 'hardening-lab-web.html'), 'utf8')).toContain('<tr id="secret-mode">');
  });
});

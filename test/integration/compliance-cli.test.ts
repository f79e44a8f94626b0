import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
const main = path.resolve('src/main.ts');

describe('gatehouse compliance CLI', () => {
  let t: TestApp;
  let dir: string;
  let env: Record<string, string>;
  const f = (name: string) => path.join(dir, name);

  /** Runs the real CLI in a child process; resolves with its exit code and output. */
  async function gatehouse(...args: string[]) {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
        env: { PATH: process.env.PATH, HOME: dir, GATEHOUSE_LOG_LEVEL: 'silent', ...env },
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  beforeAll(async () => {
    t = await createTestApp('pglite');
    dir = mkdtempSync(path.join(tmpdir(), 'gh-compliance-cli-'));
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    env = { GATEHOUSE_URL: base, GATEHOUSE_TOKEN: t.adminToken };
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the matrix, and refuses a broken file naming its line (exit 2, nothing changed)', async () => {
    expect((await gatehouse('compliance', 'export', '-o', f('matrix.yaml'))).code).toBe(0);
    const yaml = readFileSync(f('matrix.yaml'), 'utf8');
    writeFileSync(f('broken.yaml'), yaml.replace('mode: automated', 'mode: sometimes'));
    const broken = await gatehouse('compliance', 'import', f('broken.yaml'));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/line \d+, column \d+ \(controls\.0\.mode\)/);
    expect((await t.call('GET', '/api/v1/compliance/matrix/export')).body).toBe(yaml);
  });

  it('downloads an evidence pack, verifies it offline, and names the file when one changed', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const got = await gatehouse('compliance', 'evidence', '--from', from, '--to', to, '--out', f('pack.zip'));
    expect(got.code, got.stderr).toBe(0);
    const ok = await gatehouse('compliance', 'verify-pack', f('pack.zip'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: \d+ files match the signed manifest; chain proof holds over \d+ events/);

    const files = unzipSync(readFileSync(f('pack.zip')));
    files['controls/role-changes/population.csv'] = strToU8('event,at,operator\n');
    writeFileSync(f('changed.zip'), zipSync(files));
    const changed = await gatehouse('compliance', 'verify-pack', f('changed.zip'));
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/controls\/role-changes\/population\.csv: changed/);
  });
});

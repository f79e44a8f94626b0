import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
const main = path.resolve('src/main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'gh-integrations-cli-'));
let t: TestApp;
let base: string;

async function gatehouse(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GATEHOUSE_URL: base,
        GATEHOUSE_TOKEN: t.adminToken,
      },
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
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gatehouse integrations (CLI)', () => {
  it('adds, lists, pauses and removes sinks and channels, taking secrets from files only', async () => {
    const tokenFile = path.join(dir, 'hec.token');
    writeFileSync(tokenFile, 'hec-token-from-a-file\n');
    const secretFile = path.join(dir, 'hook.secret');
    writeFileSync(secretFile, 'whsec-from-a-file-0123456789');

    expect((await gatehouse('integrations', 'sinks', 'add', 'siem', '--syslog', '127.0.0.1:6514')).code).toBe(
      0,
    );
    const hec = await gatehouse(
      'integrations',
      'sinks',
      'add',
      'splunk',
      '--hec',
      'https://splunk.example:8088',
      '--token-file',
      tokenFile,
    );
    expect(hec.code, hec.stderr).toBe(0);
    const missing = await gatehouse(
      'integrations',
      'sinks',
      'add',
      'x',
      '--hec',
      'https://splunk.example:8088',
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--token-file/);
    expect((await gatehouse('integrations', 'sinks', 'disable', 'siem')).code).toBe(0);
    const listed = await gatehouse('--json', 'integrations', 'sinks', 'list');
    const sinks = (JSON.parse(listed.stdout) as { items: { name: string; enabled: boolean; kind: string }[] })
      .items;
    expect(sinks.map((s) => [s.name, s.kind, s.enabled])).toEqual([
      ['siem', 'syslog', false],
      ['splunk', 'splunk-hec', true],
    ]);
    expect(listed.stdout).not.toContain('hec-token-from-a-file');

    const hook = await gatehouse(
      'integrations',
      'channels',
      'add',
      'soc',
      '--webhook',
      'https://soc.example/hook',
      '--secret-file',
      secretFile,
      '--notices',
      'break-glass-used',
    );
    expect(hook.code, hook.stderr).toBe(0);
    const channels = await gatehouse('integrations', 'channels', 'list');
    expect(channels.stdout).toMatch(/soc\s+webhook\s+true\s+break-glass-used/);
    expect(channels.stdout).not.toContain('whsec-from-a-file');

    const prefs = await gatehouse('integrations', 'prefs', '--mute', 'request-created,grant-expiring');
    expect(prefs.stdout).toMatch(/muted:\s+grant-expiring, request-created/);
    const dead = await gatehouse('integrations', 'notifications', 'list');
    expect(dead.code).toBe(0);

    expect((await gatehouse('integrations', 'sinks', 'remove', 'siem')).code).toBe(0);
    expect((await gatehouse('integrations', 'channels', 'remove', 'soc')).code).toBe(0);
    const gone = await gatehouse('integrations', 'channels', 'remove', 'soc');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/soc/);
  });
});

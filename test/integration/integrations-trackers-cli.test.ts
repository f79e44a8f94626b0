import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

const main = path.resolve('src/main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'gh-trackers-cli-'));
let t: TestApp;
let base: string;

/** Runs the CLI with `stdin` written to its standard input. */
function gatehouse(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GATEHOUSE_URL: base,
        GATEHOUSE_TOKEN: t.adminToken,
      },
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

beforeAll(async () => {
  t = await createTestApp('pglite');
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gatehouse integrations trackers (CLI)', () => {
  it('adds trackers with the secret from a file or stdin, never shows it, updates and removes them', async () => {
    const tokenFile = path.join(dir, 'jira.token');
    writeFileSync(tokenFile, 'jira-token-from-a-file\n');
    const jira = await gatehouse([
      'integrations',
      'trackers',
      'add',
      'jira-cloud',
      '--kind',
      'jira',
      '--base-url',
      'https://jira.example',
      '--user',
      'bot@example.com',
      '--keys',
      'OPS,SEC',
      '--secret-file',
      tokenFile,
    ]);
    expect(jira.code, jira.stderr).toBe(0);
    expect(jira.stdout).toMatch(/added jira tracker jira-cloud for OPS,SEC/);
    const snow = await gatehouse(
      [
        'integrations',
        'trackers',
        'add',
        'snow',
        '--kind',
        'servicenow',
        '--base-url',
        'https://snow.example',
        '--user',
        'gatehouse.integration',
        '--secret-file',
        '-',
      ],
      'snow-password-on-stdin\n',
    );
    expect(snow.code, snow.stderr).toBe(0);
    const noSecret = await gatehouse([
      'integrations',
      'trackers',
      'add',
      'x',
      '--kind',
      'jira',
      '--base-url',
      'https://jira.example',
      '--keys',
      'X',
    ]);
    expect(noSecret.code).not.toBe(0);
    expect(noSecret.stderr).toMatch(/--secret-file/);

    expect(
      (
        await gatehouse([
          'integrations',
          'trackers',
          'update',
          'jira-cloud',
          '--keys',
          'OPS',
          '--api-version',
          '3',
        ])
      ).code,
    ).toBe(0);
    const listed = await gatehouse(['--json', 'integrations', 'trackers', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const items = (
      JSON.parse(listed.stdout) as { items: { name: string; refKeys: string; hasSecret: boolean }[] }
    ).items;
    expect(items.map((i) => [i.name, i.refKeys, i.hasSecret])).toEqual([
      ['jira-cloud', 'OPS', true],
      ['snow', 'INC,CHG', true],
    ]);
    const shown = await gatehouse(['integrations', 'trackers', 'show', 'snow']);
    expect(shown.stdout).toMatch(
      /snow \(servicenow\) https:\/\/snow.example user=gatehouse.integration keys=INC,CHG secret=set/,
    );
    expect(
      (
        await gatehouse(
          ['integrations', 'trackers', 'set-secret', 'snow', '--secret-file', '-'],
          'rotated-password\n',
        )
      ).code,
    ).toBe(0);
    expect((await gatehouse(['integrations', 'trackers', 'remove', 'snow'])).code).toBe(0);

    const everything = [jira, snow, listed, shown].map((r) => r.stdout + r.stderr).join('');
    for (const secret of ['jira-token-from-a-file', 'snow-password-on-stdin', 'rotated-password']) {
      expect(everything).not.toContain(secret);
    }
    // in sequence order: sealed first, as the audit service's own reads are (decision 0015)
    await t.gh.audit.sealWaiting(t.gh.store.db);
    const events = await t.gh.store.db
      .selectFrom('audit_events')
      .select('action')
      .where('action', 'like', 'ticket-tracker.%')
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.action)).toEqual([
      'ticket-tracker.created',
      'ticket-tracker.created',
      'ticket-tracker.updated',
      'ticket-tracker.updated',
      'ticket-tracker.deleted',
    ]);
  });
});

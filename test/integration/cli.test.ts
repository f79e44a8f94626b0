import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/modules/audit/audit.service.js';
import { systemActor } from '../../src/modules/audit/audit.types.js';
import { systemClock, systemIds } from '../../src/platform/clock.js';
import { createSigner } from '../../src/platform/crypto.js';
import { createTestStore, type TestStore } from '../support/stores.js';

const run = promisify(execFile);
const main = path.resolve('src/main.ts');

/** Runs the real CLI in a child process; resolves with its exit code and output. */
async function gatehouse(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'silent', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('gatehouse CLI against a PostgreSQL store', () => {
  let t: TestStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await createTestStore('postgres');
    const master = randomBytes(32);
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-cli-'));
    const keyFile = path.join(dir, 'master.key');
    writeFileSync(keyFile, master.toString('base64'), { mode: 0o600 });
    env = { DATABASE_URL: t.databaseUrl!, GATEHOUSE_MASTER_KEY_FILE: keyFile };
    const audit = createAuditLog({
      clock: systemClock,
      ids: systemIds(),
      signer: createSigner(master),
      checkpointEvery: 10,
      checkpointMinutes: 10,
    });
    await t.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 25; i++) {
        await audit.append(tx, { actor: systemActor('cli-test'), action: 'test.happened', details: { i } });
      }
    });
    // sealed (checkpoints every 10) by the log that wrote them, as a server's sealer would
    await audit.sealWaiting(t.store.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('migrate reports a current store', async () => {
    const result = await gatehouse(['migrate', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).applied).toEqual([]);
  });

  it('audit verify exits 0 on an intact log', async () => {
    const result = await gatehouse(['audit', 'verify', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      checked: 25,
      checkpoints: { total: 2, verified: 2 },
    });
  });

  it('audit export writes every event with its hash, as JSON lines and CSV', async () => {
    const jsonl = await gatehouse(['audit', 'export', '--format', 'jsonl'], env);
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(25);
    expect(lines[24]).toMatchObject({ seq: 25, action: 'test.happened', details: { i: 24 } });
    expect(lines[24]!.prevHash).toBe(lines[23]!.hash);
    const csv = await gatehouse(['audit', 'export', '--format', 'csv'], env);
    expect(csv.stdout.trim().split('\n')).toHaveLength(26);
  });

  it('names a bad setting and exits 2', async () => {
    const result = await gatehouse(['migrate'], { ...env, GATEHOUSE_PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GATEHOUSE_PORT/);
  });

  it('audit verify exits 1 naming the first broken event after an edit', async () => {
    await t.store.db.transaction().execute(async (tx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(tx);
      await sql`UPDATE audit_events SET details = '{"i": 999}' WHERE seq = 7`.execute(tx);
    });
    const result = await gatehouse(['audit', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/BROKEN at event 7/);
  });
});

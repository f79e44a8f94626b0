import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/platform/clock.js';
import { openTestApp, type TestApp } from '../support/app.js';
import { startScramPostgres, type ScramPostgres } from '../support/scram-postgres.js';
import { createTestStore, type TestStore } from '../support/stores.js';
import {
  accessRunner,
  applyPolicies,
  auditActions,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  runToken,
  type RequestView,
} from './access-support.js';

/**
 * Crash and restore safety of the grant machine, with a real `gatehouse serve` process on a PostgreSQL
 * store and a PostgreSQL target (a throw-away cluster).
 *
 * The state a kill -9 leaves at each provisioning step is written deterministically (racing a SIGKILL
 * against millisecond-long steps would make the test flaky): a grant not yet started, one in
 * `provisioning` with and without its account on the target, one in `revoking` with its account still
 * there, one `active` past its not-after, one `active` and still valid, and an account no grant accounts
 * for (a store restored from a backup older than its grant). The grants' queued jobs are deleted, so
 * everything that happens after the start is the work `resume` re-arms. From the restarted node's point
 * of view this is the crash. Then the server is started, and within 5 s: no account of this run exists
 * without a live grant, overdue grants are revoked (account gone, audited), valid ones stay active.
 * The start-up sweep removes the unknown account in the same 5 s, without an admin asking. The server is
 * then killed with SIGKILL and started again: nothing changes, and no second start-up sweep runs so soon
 * after the first; `audit verify` passes.
 *
 * A kill -9 *while* a grant job runs leaves that job `running`, held by the dead worker, and `resume`
 * dedupes onto it: the `revoking` grant's revoke job is left that way, so the test also proves the
 * restarted runner takes over the jobs of a dead worker of its host at once rather than after the lease.
 */

const run = runToken();
const main = path.resolve('src/main.ts');
const execFileAsync = promisify(execFile);
const appDb = `app_${run}`;
const prefix = `gh_${run}_`;
const orphan = `${prefix}restored0`;
const RESUME_BUDGET_MS = 5_000;

let target: ScramPostgres;
let admin: pg.Client;
let testStore: TestStore;
let storeDb: pg.Client;
let t: TestApp;
let dana: string;
let keyDir: string;
let env: Record<string, string>;
let base: string;
let server: Running | undefined;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** When the server said it was running (ms since the epoch). */
  readyAt: number;
  spawnedAt: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error())));
    });
  });
}

async function startServer(): Promise<Running> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, output: () => output, exited, readyAt: Date.now(), spawnedAt };
}

async function kill9(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  await running.exited;
}

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'silent', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** An in-process Gatehouse on the test store, with the master key the server process will load. */
const openApp = (masterKey: Buffer): Promise<TestApp> =>
  openTestApp(testStore, { masterKey, config: { 'jobs.backoffBaseMs': 10, 'jobs.backoffMaxMs': 20 } });

const roleExists = async (name: string) =>
  (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;

async function runAccounts(): Promise<string[]> {
  const { rows } = await admin.query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname',
    [prefix],
  );
  return rows.map((r) => r.rolname);
}

interface GrantRow {
  id: string;
  account_name: string;
  status: string;
  not_after: Date | null;
  last_error: string | null;
}

async function grantRow(id: string): Promise<GrantRow> {
  const { rows } = await storeDb.query<GrantRow>(
    'SELECT id, account_name, status, not_after, last_error FROM access_grants WHERE id = $1',
    [id],
  );
  return rows[0]!;
}

const liveStatuses = ['pending', 'provisioning', 'active', 'revoking', 'revocation_failed'];

async function liveAccounts(): Promise<Set<string>> {
  const { rows } = await storeDb.query<{ account_name: string }>(
    'SELECT account_name FROM access_grants WHERE status = ANY($1::text[])',
    [liveStatuses],
  );
  return new Set(rows.map((r) => r.account_name));
}

/** An auto-approved read-only request on the staging asset: its grant is pending, provisioning queued. */
async function autoApproved(asset: string): Promise<string> {
  const created = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
    token: dana,
    body: { asset, level: 'read-only', duration: '1h', reason: 'crash drill' },
  });
  expect(created.autoApproved).toBe(true);
  expect(created.grant?.status).toBe('pending');
  return created.grant!.id;
}

const grants: Record<
  'pendingOverdue' | 'provNoAccount' | 'provAccount' | 'provOverdue' | 'revoking' | 'overdue' | 'valid',
  string
> = {} as never;
const accountOf: Record<string, string> = {};
let timings: { resumeMs: number; spawnToDoneMs: number; restartMs: number } | undefined;

beforeAll(async () => {
  target = await startScramPostgres();
  admin = new pg.Client({
    user: target.admin.username,
    password: target.admin.password,
    host: target.host,
    port: target.port,
    database: 'postgres',
  });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${appDb}`);

  testStore = await createTestStore('postgres');
  storeDb = new pg.Client({ connectionString: testStore.databaseUrl });
  await storeDb.connect();
  const masterKey = randomBytes(32);
  keyDir = mkdtempSync(path.join(tmpdir(), 'gh-crash-'));
  const keyFile = path.join(keyDir, 'master.key');
  writeFileSync(keyFile, masterKey.toString('base64'), { mode: 0o600 });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    DATABASE_URL: testStore.databaseUrl!,
    GATEHOUSE_MASTER_KEY_FILE: keyFile,
    GATEHOUSE_PORT: String(port),
    GATEHOUSE_DATA_DIR: keyDir,
  };

  t = await openApp(masterKey);
  const fleet = await createFleet(t, run);
  const asset = `${run}-pg-stg`;
  await createDatabaseAsset(t, fleet, {
    name: asset,
    engine: 'postgres',
    host: target.host,
    port: target.port,
    admin: target.admin,
    database: appDb,
    environment: 'staging',
  });
  await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
    body: { name: `${run}-jump`, region: fleet.region, address: '127.0.0.1', sourceCidrs: ['127.0.0.1/32'] },
  });
  await applyPolicies(t);
  dana = await t.operatorToken(`${run}.dana`, ['requester'], ['dev']);

  // grants that were active before the crash: provisioned for real, in process
  for (const key of ['revoking', 'overdue', 'valid'] as const) grants[key] = await autoApproved(asset);
  const runner = accessRunner(t, systemClock, `crash-setup-${run}`);
  // a retryable failure (concurrent role changes on the target) is retried after a short backoff
  for (let i = 0; i < 100; i++) {
    await runner.runDue();
    const rows: GrantRow[] = [];
    for (const key of ['revoking', 'overdue', 'valid'] as const) rows.push(await grantRow(grants[key]));
    if (rows.every((r) => r.status === 'active')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // grants caught mid-provisioning: pending, their provisioning job queued (not run here)
  for (const key of ['pendingOverdue', 'provNoAccount', 'provAccount', 'provOverdue'] as const) {
    grants[key] = await autoApproved(asset);
  }
  for (const id of Object.values(grants)) accountOf[id] = (await grantRow(id)).account_name;
  for (const key of ['revoking', 'overdue', 'valid'] as const) {
    const row = await grantRow(grants[key]);
    expect(row.status, row.last_error ?? '').toBe('active');
    expect(await roleExists(accountOf[grants[key]]!)).toBe(true);
  }

  // --- the state a kill -9 leaves behind, written as the dead node left it ---
  const past = new Date(Date.now() - 60_000);
  const set = (id: string, sql: string, values: unknown[] = []) =>
    storeDb.query(`UPDATE access_grants SET ${sql} WHERE id = $1`, [id, ...values]);
  const createRole = (name: string) =>
    admin.query(
      `CREATE ROLE ${admin.escapeIdentifier(name)} LOGIN PASSWORD '${randomBytes(8).toString('hex')}'`,
    );
  // killed after the approval, before the provisioning job started (and the lease ran out meanwhile)
  await set(grants.pendingOverdue, 'not_after = $2', [past]);
  // killed after `provisioning` was written, before the account was created
  await set(grants.provNoAccount, "status = 'provisioning', provision_attempts = 1");
  // killed after the account was created, before `active` was written
  await set(grants.provAccount, "status = 'provisioning', provision_attempts = 1");
  await createRole(accountOf[grants.provAccount]!);
  // the same, and the lease ran out while the node was down
  await set(grants.provOverdue, "status = 'provisioning', provision_attempts = 1, not_after = $2", [past]);
  await createRole(accountOf[grants.provOverdue]!);
  // killed after `revoking` was written, before the account was removed
  await set(
    grants.revoking,
    "status = 'revoking', end_reason = 'expired', revoke_attempts = 1, sealed_password = NULL, not_after = $2",
    [past],
  );
  // killed while active; the lease ran out while the node was down
  await set(grants.overdue, 'not_after = $2', [past]);
  // a store restored from a backup older than this account's grant: nothing in the store accounts for it
  await createRole(orphan);
  // every queued job of these grants is lost: all that happens after the start is what resume re-arms
  await storeDb.query("DELETE FROM jobs WHERE kind LIKE 'grant.%' AND state IN ('queued', 'running')");
  // …except the revoke job the dead node was running when it was killed: still `running`, held by that
  // worker (`<host>:<pid>` of a process that no longer exists) with most of its lease left
  const deadPid = spawnSync('true').pid;
  await storeDb.query(
    `INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, locked_by, locked_until,
       dedupe_key, created_at, updated_at)
     VALUES (gen_random_uuid(), 'grant.revoke', $1, 'running', 1, 20, now(), $2, now() + interval '10 minutes',
       $3, now(), now())`,
    [
      JSON.stringify({ grantId: grants.revoking }),
      `${hostname()}:${deadPid}`,
      `grant.revoke:${grants.revoking}`,
    ],
  );
}, 120_000);

afterAll(async () => {
  if (server) await kill9(server).catch(() => undefined);
  await t?.close().catch(() => undefined);
  await storeDb?.end().catch(() => undefined);
  if (admin) {
    for (const name of await runAccounts().catch(() => [] as string[])) {
      await admin.query(`DROP OWNED BY ${admin.escapeIdentifier(name)}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(name)}`).catch(() => undefined);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${appDb} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
  await testStore?.drop().catch(() => undefined);
  await target?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  if (timings) console.info(`access-crash timings: ${JSON.stringify(timings)}`);
});

/** Everything the restarted node must have done, or a description of what is still missing. */
async function settled(): Promise<string[]> {
  const missing: string[] = [];
  const expectState = async (key: keyof typeof grants, status: string, account: boolean) => {
    const row = await grantRow(grants[key]);
    if (row.status !== status) missing.push(`${key}: ${row.status}, not ${status}`);
    if ((await roleExists(row.account_name)) !== account)
      missing.push(`${key}: account ${account ? 'missing' : 'still there'}`);
  };
  await expectState('pendingOverdue', 'revoked', false);
  await expectState('provNoAccount', 'active', true);
  await expectState('provAccount', 'active', true);
  await expectState('provOverdue', 'revoked', false);
  await expectState('revoking', 'revoked', false);
  await expectState('overdue', 'revoked', false);
  await expectState('valid', 'active', true);
  return missing;
}

async function startupSweeps(): Promise<{ state: string }[]> {
  const { rows } = await storeDb.query<{ state: string }>(
    "SELECT state FROM jobs WHERE kind = 'access.sweep' AND dedupe_key = 'access.sweep.startup'",
  );
  return rows;
}

async function orphansOtherThan(known: string[]): Promise<string[]> {
  const live = await liveAccounts();
  return (await runAccounts()).filter((name) => !live.has(name) && !known.includes(name));
}

describe('kill -9 at each provisioning step, then a restart', () => {
  it('resumes within 5 s of start: overdue grants revoked, valid ones active, no account without a live grant', async () => {
    server = await startServer();
    // the restored store's unknown account goes too: the start-up sweep, nobody asked for it
    const pending = async () => [
      ...(await settled()),
      ...(await orphansOtherThan([])).map((name) => `${name}: no live grant, still there`),
    ];
    let missing = await pending();
    while (missing.length > 0 && Date.now() - server.readyAt < RESUME_BUDGET_MS) {
      await new Promise((r) => setTimeout(r, 50));
      missing = await pending();
    }
    const doneAt = Date.now();
    expect(missing, server.output()).toEqual([]);
    timings = { resumeMs: doneAt - server.readyAt, spawnToDoneMs: doneAt - server.spawnedAt, restartMs: 0 };
    expect(doneAt - server.readyAt).toBeLessThanOrEqual(RESUME_BUDGET_MS);
    expect(await roleExists(orphan)).toBe(false);

    for (const key of ['provOverdue', 'overdue'] as const) {
      const actions = await auditActions(t, 'grant', grants[key]);
      expect(actions).toEqual(expect.arrayContaining(['grant.revocation-started', 'grant.revoked']));
    }
    expect(await auditActions(t, 'grant', grants.revoking)).toContain('grant.revoked');
    expect(await auditActions(t, 'grant', grants.pendingOverdue)).toContain('grant.revoked');
    for (const key of ['provNoAccount', 'provAccount'] as const) {
      expect(await auditActions(t, 'grant', grants[key])).toContain('grant.activated');
    }
  }, 30_000);

  it('a second kill -9 and restart changes nothing: no resurrected account, no valid grant revoked', async () => {
    await kill9(server!);
    const before = await runAccounts();
    const started = Date.now();
    server = await startServer();
    timings!.restartMs = server.readyAt - started;
    // give resume and the first polls time to act, then check nothing moved
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await settled(), server.output()).toEqual([]);
    expect(await runAccounts()).toEqual(before);
    // one start-up sweep for both starts: the second came within a minute of the first one's end
    expect(await startupSweeps()).toEqual([{ state: 'succeeded' }]);
  }, 30_000);

  it('a store restored from an older backup: the start-up sweep removed the account it did not know, and only that', async () => {
    const page = await expectStatus<{
      items: { action: string; actorType: string; actorName: string; details: { account?: string } }[];
    }>(t, 200, 'GET', '/api/v1/audit/events?limit=500');
    const removals = page.items.filter((e) => e.action === 'access.orphan_removed');
    expect(removals.map((e) => [e.details.account, e.actorType, e.actorName])).toEqual([
      [orphan, 'system', 'orphan-sweeper'],
    ]);
    expect(await roleExists(orphan)).toBe(false);
    expect(await orphansOtherThan([])).toEqual([]);
    expect(await settled()).toEqual([]);
    // an admin's sweep now finds nothing more to remove
    const response = await fetch(`${base}/api/v1/access/sweep`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prefix }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const report = (await response.json()) as { removed: { account: string }[] };
    expect(report.removed).toEqual([]);
    expect(await settled()).toEqual([]);
  }, 30_000);

  it('stops, and the audit log verifies', async () => {
    server!.child.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    server = undefined;
    const verify = await cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout) as { ok: boolean }).ok).toBe(true);
  }, 30_000);
});

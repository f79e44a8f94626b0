import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { createGatehouse, type Gatehouse } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import type { Caller } from '../../src/modules/access/access.types.js';
import { grantStore } from '../../src/modules/access/grant.store.js';
import {
  createConnectorSet,
  defaultPoolSettings,
  type ConnectorSet,
} from '../../src/adapters/connectors/index.js';
import { levelRoleName } from '../../src/adapters/connectors/postgres/level-roles.js';
import { defaultPasswordPolicy, scramIterationsFor } from '../../src/modules/access/domain/password.js';
import type { ConnectorLookup } from '../../src/modules/access/targets.js';
import { jobKinds, revokeJobMaxAttempts } from '../../src/modules/access/transitions.js';
import type { RequestContext } from '../../src/modules/audit/audit.types.js';
import { loadConfig } from '../../src/platform/config.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createLogger } from '../../src/platform/logger.js';
import { assertLoopback, type BenchContext, type BenchGroup } from '../framework.js';

/**
 * Just-in-time access on the machine's PostgreSQL (store and target alike, loopback, trust), with the
 * job runner running as a server runs it (`startWorkers`, 16 jobs at once, the default poll interval;
 * jobs are picked up as they are queued, through NOTIFY on the store, or when due) and the target's admin
 * connections pooled as the access service pools them:
 *
 * - `grant_ms.p50` / `.p99`: an auto-approving policy, rounds of 50 requests at once by 50 distinct
 *   operators (after a warm-up); from the call creating the request (its approval, since it is
 *   auto-approved) to the grant being `active`, seen by polling the store every 5 ms; every account
 *   is then checked to exist on the target. Read against `one_at_a_time_p50` (no contention) and the
 *   parts: `create_request_*` (the API call itself) and `create_account_*` (the connector's work).
 *   `cpu_ms_per_grant` is the machine's CPU time (every process: Gatehouse, its store, the target,
 *   this polling) spent during the concurrent rounds per grant, and `cpu_floor_ms` that times 50 shared
 *   by the cores: the soonest the last of 50 grants at once could finish on this machine
 *   (`one_at_a_time_cpu_ms_per_grant` is the same for the grants made one at a time).
 * - `revoke_lag_ms.p99`: 10,000 live leases in the store, each with its reaper job queued. Real
 *   accounts exist only for a sample (REVOKE_SAMPLE, made through the real request → provision path);
 *   the rest are SQL clones of one of them (request, grant, reaper job; no account, no audit events)
 *   ending in about an hour. The sample's leases are moved to end 3 s from now, spread over 2 s, with
 *   their reaper jobs queued then (as an extension does), and each account's disappearance from
 *   pg_roles is polled every 10 ms: lag = gone − notAfter.
 *
 * Every account starts with `gh_bench<run>_` and is dropped at the end (or on Ctrl-C); the store is a
 * scratch database the runner drops. About a minute in all; every wait gives up after 30 s.
 */

const CONCURRENT = 50;
const GRANT_ROUNDS = 3;
const WARMUP = 5;
const SINGLES = 10;
const LIVE_LEASES = 10_000;
const REVOKE_SAMPLE = 200;
const EXPIRY_LEAD_MS = 3_000;
const EXPIRY_SPREAD_MS = 2_000;
const GRANT_POLL_MS = 5;
const ROLE_POLL_MS = 10;
const WAIT_LIMIT_MS = 30_000;
const SEED_BATCH = 2_000;

/**
 * CPU time spent by the whole machine so far, in ms (from /proc/stat: every state but idle and iowait,
 * in USER_HZ ticks of 10 ms); 0 where /proc/stat is missing.
 */
function machineBusyMs(): number {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  } catch {
    return 0;
  }
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) * 10;
}

/** A wall-clock time (Date.now()) on the performance.now() scale the connector spans use. */
const toPerf = (epochMs: number) => epochMs - (Date.now() - performance.now());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]! * 10) / 10;
}

/** The real connectors, timed: how long the target's own work takes, apart from the queue and store. */
/** When the connector's work on an account started and ended (performance.now()), by account name. */
type Spans = Map<string, { start: number; end: number }>;

function timedConnectors(
  set: ConnectorSet,
  createMs: number[],
  revokeMs: number[],
  spans: { create: Spans; revoke: Spans },
): ConnectorLookup {
  return (engine) => {
    const real = set.connectorFor(engine);
    return {
      ...real,
      createAccount: async (target, spec) => {
        const t0 = performance.now();
        const result = await real.createAccount(target, spec);
        const end = performance.now();
        createMs.push(end - t0);
        spans.create.set(spec.username, { start: t0, end });
        return result;
      },
      revokeAccount: async (target, username) => {
        const t0 = performance.now();
        const result = await real.revokeAccount(target, username);
        const end = performance.now();
        revokeMs.push(end - t0);
        spans.revoke.set(username, { start: t0, end });
        return result;
      },
    };
  };
}

/** The job runner's own duration histogram for a kind: seconds summed and runs counted so far. */
async function jobTotals(gh: Gatehouse, kind: string): Promise<{ sum: number; count: number }> {
  const metric = gh.metrics.getSingleMetric('gatehouse_job_duration_seconds');
  const totals = { sum: 0, count: 0 };
  if (!metric) return totals;
  // a histogram's values carry the series name (…_bucket, …_sum, …_count) beside the labels
  for (const value of (await metric.get()).values as {
    labels: { kind?: unknown };
    value: number;
    metricName?: string;
  }[]) {
    if (value.labels.kind !== kind) continue;
    if (value.metricName?.endsWith('_sum')) totals.sum += value.value;
    if (value.metricName?.endsWith('_count')) totals.count += value.value;
  }
  return totals;
}

/** Mean run time in ms of the jobs of a kind run between two readings of jobTotals. */
const meanMs = (before: { sum: number; count: number }, after: { sum: number; count: number }) =>
  after.count > before.count
    ? Math.round(((after.sum - before.sum) / (after.count - before.count)) * 10_000) / 10
    : NaN;

interface Setup {
  /** How long each createRequest call took (policy, request, grant and job rows, audit events). */
  requestMs: number[];
  createMs: number[];
  revokeMs: number[];
  spans: { create: Spans; revoke: Spans };
  /** Of each measured grant: before the connector's work began, and after it ended until seen active. */
  beforeCreateMs: number[];
  afterCreateMs: number[];
  gh: Gatehouse;
  app: App;
  runner: JobRunner;
  assetName: string;
  poller: pg.Client;
  admin: pg.Client;
}

async function createOperators(gh: Gatehouse, usernames: string[]): Promise<Caller[]> {
  const ctx: RequestContext = { actor: { type: 'system', id: null, name: 'bench' } };
  const callers: Caller[] = [];
  for (const username of usernames) {
    const op = await gh.identity.createOperator(ctx, {
      username,
      displayName: username,
      roles: ['requester'],
      groups: ['dev'],
    });
    callers.push({ operatorId: op.id, username, groups: ['dev'], permissions: new Set(['access:request']) });
  }
  return callers;
}

const ctxOf = (caller: Caller): RequestContext => ({
  actor: { type: 'operator', id: caller.operatorId, name: caller.username },
});

/** Creates one auto-approved request per caller at once; resolves with each grant's id and start. */
async function requestAll(s: Setup, callers: Caller[], onGrant: (id: string, t0: number) => void) {
  await Promise.all(
    callers.map(async (caller) => {
      const t0 = performance.now();
      const view = await s.gh.access.createRequest(ctxOf(caller), caller, {
        asset: s.assetName,
        level: 'read-only',
        duration: 3_600_000,
        reason: 'benchmark',
        fileTransfer: false,
        breakGlass: false,
      });
      s.requestMs.push(performance.now() - t0);
      if (!view.grant) throw new Error(`request ${view.id} was not auto-approved (${view.status})`);
      onGrant(view.grant.id, t0);
    }),
  );
}

/** Polls the store until every grant is active; returns the millisecond each one was first seen so. */
async function waitActive(s: Setup, started: Map<string, number>, expected: number, done: Promise<void>) {
  const activeAt = new Map<string, number>();
  let creating = true;
  void done.finally(() => (creating = false));
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (creating || activeAt.size < expected) {
    if (performance.now() > deadline) {
      throw new Error(`only ${activeAt.size}/${expected} grants became active within ${WAIT_LIMIT_MS} ms`);
    }
    const ids = [...started.keys()].filter((id) => !activeAt.has(id));
    if (ids.length) {
      const { rows } = await s.poller.query<{ id: string; status: string; last_error: string | null }>(
        'SELECT id, status, last_error FROM access_grants WHERE id = ANY($1::uuid[])',
        [ids],
      );
      const now = performance.now();
      for (const row of rows) {
        if (row.status === 'active') activeAt.set(row.id, now);
        else if (row.status === 'failed' || row.status.startsWith('revo')) {
          throw new Error(`grant ${row.id} went ${row.status}: ${row.last_error ?? ''}`);
        }
      }
    }
    await sleep(GRANT_POLL_MS);
  }
  return activeAt;
}

async function grantRound(s: Setup, callers: Caller[]): Promise<{ ms: number[]; accounts: string[] }> {
  const started = new Map<string, number>();
  const creating = requestAll(s, callers, (id, t0) => started.set(id, t0));
  const [activeAt] = await Promise.all([waitActive(s, started, callers.length, creating), creating]);
  const ms = [...activeAt].map(([id, at]) => at - started.get(id)!);
  const { rows } = await s.poller.query<{ id: string; account_name: string }>(
    'SELECT id, account_name FROM access_grants WHERE id = ANY($1::uuid[])',
    [[...started.keys()]],
  );
  const accounts = rows.map((r) => r.account_name);
  for (const { id, account_name } of rows) {
    const span = s.spans.create.get(account_name);
    if (!span) continue;
    s.beforeCreateMs.push(span.start - started.get(id)!);
    s.afterCreateMs.push(activeAt.get(id)! - span.end);
  }
  const present = await s.admin.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1::text[])', [accounts]);
  if (present.rowCount !== callers.length) {
    throw new Error(`${present.rowCount}/${callers.length} accounts exist for grants marked active`);
  }
  return { ms, accounts };
}

const columnsOf = async (client: pg.Client, table: string): Promise<string[]> =>
  (
    await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
  ).rows.map((r) => r.column_name);

/**
 * `count` more live grants, cloned in SQL from one real grant (its request, its row, its queued reaper
 * job), each with an account name of its own that exists nowhere: leases the reaper must keep track of.
 */
async function seedLeases(s: Setup, templateGrantId: string, count: number, run: string) {
  const client = s.poller;
  const select = (columns: string[], replace: Record<string, string>, alias: string) => ({
    into: columns.join(', '),
    values: columns.map((c) => replace[c] ?? `${alias}.${c}`).join(', '),
  });
  const requests = select(await columnsOf(client, 'access_requests'), { id: 'u.rid' }, 'r');
  const grants = select(
    await columnsOf(client, 'access_grants'),
    { id: 'u.gid', request_id: 'u.rid', account_name: 'u.account', sealed_password: 'NULL' },
    'g',
  );
  const jobs = select(
    await columnsOf(client, 'jobs'),
    {
      id: 'u.jid',
      payload: "jsonb_build_object('grantId', u.gid)",
      dedupe_key: "'grant.expire:' || u.gid || ':' || (extract(epoch FROM j.run_at) * 1000)::bigint",
    },
    'j',
  );
  const { rows: template } = await client.query(
    `SELECT g.request_id FROM access_grants g
       JOIN jobs j ON j.kind = $2 AND j.state = 'queued' AND j.payload->>'grantId' = g.id::text
      WHERE g.id = $1 AND g.status = 'active'`,
    [templateGrantId, jobKinds.revoke],
  );
  if (template.length !== 1) throw new Error('the template grant has no single queued reaper job');
  const templateRequestId = (template[0] as { request_id: string }).request_id;
  for (let done = 0; done < count; done += SEED_BATCH) {
    const size = Math.min(SEED_BATCH, count - done);
    const rids = Array.from({ length: size }, () => randomUUID());
    const gids = Array.from({ length: size }, () => randomUUID());
    const jids = Array.from({ length: size }, () => randomUUID());
    const accounts = Array.from({ length: size }, (_, i) => `gh_${run}_bg_${done + i}`);
    await client.query('BEGIN');
    try {
      await client.query(
        `INSERT INTO access_requests (${requests.into})
         SELECT ${requests.values} FROM access_requests r CROSS JOIN unnest($2::uuid[]) AS u(rid)
          WHERE r.id = $1`,
        [templateRequestId, rids],
      );
      await client.query(
        `INSERT INTO access_grants (${grants.into})
         SELECT ${grants.values} FROM access_grants g
          CROSS JOIN unnest($2::uuid[], $3::uuid[], $4::text[]) AS u(rid, gid, account)
          WHERE g.id = $1`,
        [templateGrantId, rids, gids, accounts],
      );
      await client.query(
        `INSERT INTO jobs (${jobs.into})
         SELECT ${jobs.values} FROM jobs j CROSS JOIN unnest($2::uuid[], $3::uuid[]) AS u(jid, gid)
          WHERE j.kind = $4 AND j.state = 'queued' AND j.payload->>'grantId' = $1`,
        [templateGrantId, jids, gids, jobKinds.revoke],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }
}

/** Moves each sample grant's lease end to `at(i)` and schedules its reaper then, as an extension would. */
async function expireSoon(s: Setup, grantIds: string[], at: (i: number) => Date) {
  const { db } = s.gh.store;
  await db.transaction().execute(async (tx) => {
    for (const [i, id] of grantIds.entries()) {
      const grant = await grantStore.byId(tx, id);
      if (!grant || grant.state.status !== 'active') throw new Error(`sample grant ${id} is not active`);
      const notAfter = at(i);
      await grantStore.update(tx, {
        ...grant,
        state: { ...grant.state, lease: { ...grant.state.lease, notAfter } as typeof grant.state.lease },
      });
      await s.gh.jobs.enqueue(tx, {
        kind: jobKinds.revoke,
        payload: { grantId: id },
        runAt: notAfter,
        dedupeKey: `grant.expire:${id}:${notAfter.getTime()}`,
        maxAttempts: revokeJobMaxAttempts,
      });
    }
  });
}

async function dropRoles(
  adminUrl: string,
  prefix: string,
  log: (m: string) => void,
  /** The connector's level roles on the scratch database (decision 0017), once it is dropped. */
  levelRoles: () => string[],
) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) OR rolname = ANY($2::text[])',
      [prefix, levelRoles()],
    );
    const failed: string[] = [];
    for (const { rolname } of rows) {
      const role = admin.escapeIdentifier(rolname);
      try {
        await admin.query(`DROP ROLE IF EXISTS ${role}`);
      } catch (error) {
        failed.push(`${rolname}: ${(error as Error).message}`);
      }
    }
    if (failed.length) {
      throw new Error(`${failed.length} accounts could not be dropped, e.g. ${failed[0]}`);
    }
    if (rows.length) log(`dropped ${rows.length} accounts ${prefix}…`);
  } finally {
    await admin.end();
  }
}

async function setUp(ctx: BenchContext, run: string): Promise<Setup> {
  const target = new URL(ctx.postgresUrl);
  assertLoopback(ctx.postgresUrl);
  const accountPrefix = `gh_${run}_`;
  // registered before the scratch database, so it runs after that is dropped: an account may hold
  // privileges in the store's database, and the drop takes them along
  const scratch: { name?: string } = {};
  const levelRoles = () =>
    (['read-only', 'read-write'] as const).flatMap((l) =>
      scratch.name ? [levelRoleName(l, scratch.name)] : [],
    );
  ctx.defer(() => dropRoles(ctx.postgresUrl, accountPrefix, (m) => ctx.log(m), levelRoles));
  const database = await ctx.scratchDatabase();
  scratch.name = new URL(database.url).pathname.slice(1);

  const store = await database.open({ maxConnections: 32 });
  const createMs: number[] = [];
  const revokeMs: number[] = [];
  const spans = { create: new Map(), revoke: new Map() } satisfies Setup['spans'];
  const config = loadConfig({
    env: {},
    overrides: {
      // the store's URL: its runner LISTENs there for jobs queued (NOTIFY), as a server's does
      databaseUrl: database.url,
      'jobs.concurrency': 16,
      'jobs.backoffBaseMs': 50,
      'jobs.backoffMaxMs': 500,
    },
  });
  // pooled admin connections to the target, as the service's own set (SCRAM iterations from the
  // password policy, as the service derives them); closed after the runner stopped
  const connectorSet = createConnectorSet(defaultPoolSettings, {
    postgres: {
      scramIterations: scramIterationsFor(defaultPasswordPolicy, config.connectors.postgresScramIterations),
    },
  });
  ctx.defer(() => connectorSet.close());
  const gh = await createGatehouse({
    config,
    store,
    masterKey: randomBytes(32),
    logger: createLogger({ level: 'silent' }),
    // the sweeper only ever looks at this run's accounts, and not during the run
    access: {
      sweep: { prefix: accountPrefix, intervalMs: 3_600_000 },
      connectors: timedConnectors(connectorSet, createMs, revokeMs, spans),
    },
  });
  const boot = await gh.identity.bootstrap();
  if (!boot) throw new Error('bootstrap did not create the first admin');
  const app = await gh.http();
  ctx.defer(() => app.close());
  const call = async (url: string, body: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${boot.token}` },
      payload: body as Record<string, unknown>,
    });
    if (response.statusCode >= 300) throw new Error(`POST ${url}: ${response.statusCode} ${response.body}`);
  };
  const region = `${run}-eu`;
  const customer = `${run}-acme`;
  await call('/regions', { name: region });
  await call('/customers', { name: customer });
  await call(`/customers/${customer}/environments`, { name: 'staging', tier: 'staging', region });
  await call('/jumpboxes', {
    name: `${run}-jump`,
    region,
    address: '127.0.0.1',
    sourceCidrs: ['127.0.0.1/32'],
  });
  const assetName = `${run}-pg`;
  await call('/assets', {
    kind: 'database',
    name: assetName,
    customer,
    environment: 'staging',
    engine: 'postgres',
    host: target.hostname,
    port: Number(target.port || 5432),
    adminCredential: {
      username: decodeURIComponent(target.username || 'postgres'),
      password: decodeURIComponent(target.password) || 'unused-trust',
    },
    labels: { 'access.database': new URL(database.url).pathname.slice(1) },
  });
  await call('/access/policies', {
    policies: [
      {
        name: 'bench-auto',
        requesterGroups: ['dev'],
        levels: ['read-only'],
        assets: { kinds: ['database'], tiers: ['staging'] },
        maxDuration: '2h',
        ticket: 'optional',
        approvals: { approverGroups: ['leads'] },
        autoApprove: [{ levels: ['read-only'], maxDuration: '2h', requireTicket: false }],
      },
    ],
  });

  const poller = new pg.Client({ connectionString: database.url });
  await poller.connect();
  ctx.defer(() => poller.end());
  const admin = new pg.Client({ connectionString: ctx.postgresUrl });
  await admin.connect();
  ctx.defer(() => admin.end());

  const runner = gh.startWorkers();
  ctx.defer(() => runner.stop());
  return {
    gh,
    app,
    runner,
    assetName,
    poller,
    admin,
    requestMs: [],
    createMs,
    revokeMs,
    spans,
    beforeCreateMs: [],
    afterCreateMs: [],
  };
}

const group: BenchGroup = {
  name: 'access',
  targets: {
    'grant_ms.p99': { atMost: 50 },
    'revoke_lag_ms.p99': { atMost: 1_000 },
  },

  async run(ctx) {
    const started = performance.now();
    const run = `bench${randomBytes(3).toString('hex')}`;
    ctx.log(`run ${run}: accounts gh_${run}_…`);
    const s = await setUp(ctx, run);
    const results: Record<string, number> = {};
    results.load_average_1m_at_start = Math.round(loadavg()[0]! * 100) / 100;

    // grants: a small warm-up, then rounds of 50 at once, each by 50 operators of their own
    const warm = await createOperators(
      s.gh,
      Array.from({ length: WARMUP }, (_, i) => `${run}.w${i}`),
    );
    await grantRound(s, warm);
    // one at a time: the latency without contention, to read the concurrent figure against
    const single: number[] = [];
    const singles = await createOperators(
      s.gh,
      Array.from({ length: SINGLES }, (_, i) => `${run}.s${i}`),
    );
    const singlesCpuBefore = machineBusyMs();
    for (const caller of singles) single.push(...(await grantRound(s, [caller])).ms);
    results['grant_ms.one_at_a_time_p50'] = percentile(single, 50);
    results['grant_ms.one_at_a_time_cpu_ms_per_grant'] =
      Math.round(((machineBusyMs() - singlesCpuBefore) / SINGLES) * 10) / 10;
    s.createMs.length = 0;
    s.requestMs.length = 0;
    s.beforeCreateMs.length = 0;
    s.afterCreateMs.length = 0;
    const grantMs: number[] = [];
    const cpuMsPerGrant: number[] = [];
    const provisionBefore = await jobTotals(s.gh, jobKinds.provision);
    for (let round = 0; round < GRANT_ROUNDS; round++) {
      const callers = await createOperators(
        s.gh,
        Array.from({ length: CONCURRENT }, (_, i) => `${run}.g${round}${String(i).padStart(2, '0')}`),
      );
      const cpuBefore = machineBusyMs();
      const { ms } = await grantRound(s, callers);
      cpuMsPerGrant.push((machineBusyMs() - cpuBefore) / CONCURRENT);
      grantMs.push(...ms);
      ctx.log(
        `grant round ${round + 1}: ${CONCURRENT} at once, p50 ${percentile(ms, 50)} ms, max ${percentile(ms, 100)} ms`,
      );
    }
    // a provisioning job from claim to outcome recorded: its two store transactions, the reads, the connector
    results['grant_ms.provision_job_mean'] = meanMs(
      provisionBefore,
      await jobTotals(s.gh, jobKinds.provision),
    );
    // the CPU a grant costs, all processes together (Gatehouse, its store, the target, the bench's own
    // polling); 50 grants at once cannot all finish sooner than 50 times that shared by the cores
    const perGrant = cpuMsPerGrant.reduce((a, b) => a + b, 0) / cpuMsPerGrant.length;
    results['grant_ms.cpu_ms_per_grant'] = Math.round(perGrant * 10) / 10;
    results['grant_ms.cpu_floor_ms'] = Math.round((perGrant * CONCURRENT) / cpus().length);
    results['grant_ms.p50'] = percentile(grantMs, 50);
    results['grant_ms.p99'] = percentile(grantMs, 99);
    results['grant_ms.max'] = percentile(grantMs, 100);
    results['grant_ms.samples'] = grantMs.length;
    results['grant_ms.concurrent'] = CONCURRENT;
    // of which the request call itself, and the connector's own work (a fresh admin connection, CREATE ROLE, GRANT)
    results['grant_ms.create_request_p50'] = percentile(s.requestMs, 50);
    results['grant_ms.create_request_p99'] = percentile(s.requestMs, 99);
    results['grant_ms.create_account_p50'] = percentile(s.createMs, 50);
    results['grant_ms.create_account_p99'] = percentile(s.createMs, 99);
    // where the rest goes: from the request to the connector's start (the request call, the job's pickup,
    // its first transaction, the asset and jumpbox reads), and from its end to the grant seen active
    results['grant_ms.before_create_account_p50'] = percentile(s.beforeCreateMs, 50);
    results['grant_ms.before_create_account_p99'] = percentile(s.beforeCreateMs, 99);
    results['grant_ms.after_create_account_p50'] = percentile(s.afterCreateMs, 50);
    results['grant_ms.after_create_account_p99'] = percentile(s.afterCreateMs, 99);

    // revocation: REVOKE_SAMPLE real accounts through the real path, in batches of 50
    const sample: { id: string; account: string }[] = [];
    const sampleCallers = await createOperators(
      s.gh,
      Array.from({ length: REVOKE_SAMPLE }, (_, i) => `${run}.r${String(i).padStart(3, '0')}`),
    );
    for (let i = 0; i < sampleCallers.length; i += CONCURRENT) {
      const batch = sampleCallers.slice(i, i + CONCURRENT);
      const { accounts } = await grantRound(s, batch);
      const { rows } = await s.poller.query<{ id: string; account_name: string }>(
        'SELECT id, account_name FROM access_grants WHERE account_name = ANY($1::text[])',
        [accounts],
      );
      for (const row of rows) sample.push({ id: row.id, account: row.account_name });
    }
    ctx.log(`revoke: ${sample.length} real accounts active`);

    const { rows: liveRows } = await s.poller.query<{ n: string }>(
      "SELECT count(*) AS n FROM access_grants WHERE status NOT IN ('revoked', 'failed')",
    );
    const seeded = Math.max(0, LIVE_LEASES - Number(liveRows[0]!.n));
    const seeding = performance.now();
    await seedLeases(s, sample[0]!.id, seeded, run);
    const { rows: liveAfter } = await s.poller.query<{ n: string }>(
      "SELECT count(*) AS n FROM access_grants WHERE status NOT IN ('revoked', 'failed')",
    );
    const live = Number(liveAfter[0]!.n);
    ctx.log(`revoke: ${seeded} leases seeded in ${Math.round(performance.now() - seeding)} ms; ${live} live`);

    const base = Date.now() + EXPIRY_LEAD_MS;
    const step = EXPIRY_SPREAD_MS / sample.length;
    const notAfter = new Map(sample.map((g, i) => [g.account, base + Math.round(i * step)]));
    await expireSoon(
      s,
      sample.map((g) => g.id),
      (i) => new Date(base + Math.round(i * step)),
    );

    s.revokeMs.length = 0;
    const revokeBefore = await jobTotals(s.gh, jobKinds.revoke);
    const goneAt = new Map<string, number>();
    const samplePrefix = `gh_${run}_r`;
    const deadline = base + EXPIRY_SPREAD_MS + WAIT_LIMIT_MS;
    while (goneAt.size < sample.length) {
      if (Date.now() > deadline) {
        throw new Error(`only ${goneAt.size}/${sample.length} sample accounts were gone in time`);
      }
      const { rows } = await s.admin.query<{ rolname: string }>(
        'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)',
        [samplePrefix],
      );
      const now = Date.now();
      const present = new Set(rows.map((r) => r.rolname));
      for (const { account } of sample) {
        if (!present.has(account) && !goneAt.has(account)) goneAt.set(account, now);
      }
      await sleep(ROLE_POLL_MS);
    }
    const lags = [...goneAt].map(([account, at]) => at - notAfter.get(account)!);
    const early = lags.filter((lag) => lag < 0).length;
    if (early > 0) throw new Error(`${early} sample accounts were removed before their lease ended`);
    results['revoke_lag_ms.p50'] = percentile(lags, 50);
    results['revoke_lag_ms.p99'] = percentile(lags, 99);
    results['revoke_lag_ms.max'] = percentile(lags, 100);
    results['revoke_lag_ms.revoke_job_mean'] = meanMs(revokeBefore, await jobTotals(s.gh, jobKinds.revoke));
    results['revoke_lag_ms.revoke_account_p50'] = percentile(s.revokeMs, 50);
    results['revoke_lag_ms.revoke_account_p99'] = percentile(s.revokeMs, 99);
    // from the lease's end to the connector's start: the reaper job's pickup and its first transaction
    const untilRevoke = sample
      .map(({ account }) => (s.spans.revoke.get(account)?.start ?? NaN) - toPerf(notAfter.get(account)!))
      .filter((lag) => !Number.isNaN(lag));
    results['revoke_lag_ms.until_revoke_account_p50'] = percentile(untilRevoke, 50);
    results['revoke_lag_ms.until_revoke_account_p99'] = percentile(untilRevoke, 99);
    results['revoke_lag_ms.real_accounts'] = sample.length;
    results['revoke_lag_ms.live_leases'] = live;
    ctx.log(
      `revoke: ${sample.length} real accounts among ${live} live leases: p50 ${results['revoke_lag_ms.p50']} ms, p99 ${results['revoke_lag_ms.p99']} ms`,
    );
    results.duration_ms = Math.round(performance.now() - started);
    return results;
  },
};

export default group;

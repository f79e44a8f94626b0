import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditAppender, AuditEvent, AuditEventInput } from '../../src/modules/audit/audit.types.js';
import { manualClock, systemIds } from '../../src/platform/clock.js';
import type { Config } from '../../src/platform/config.js';
import { openStore, type Store, type Tx } from '../../src/platform/db/store.js';
import { ConflictError, NotFoundError, TransientError, ValidationError } from '../../src/platform/errors.js';
import { createJobQueue, type EnqueueInput } from '../../src/platform/jobs/job-queue.js';
import { createJobRunner, type JobRunner } from '../../src/platform/jobs/job-runner.js';
import type { JobHandler } from '../../src/platform/jobs/job-types.js';
import { createLogger } from '../../src/platform/logger.js';
import { backends, createTestStore, serverOnly, type TestStore } from '../support/stores.js';

const logger = createLogger({ level: process.env.JOBS_TEST_LOG ?? 'silent' });
const LEASE_MS = 60_000;

function jobsConfig(overrides: Partial<Config['jobs']> = {}): Config['jobs'] {
  return {
    enabled: true,
    concurrency: 4,
    pollMs: 10,
    maxAttempts: 3,
    backoffBaseMs: 1000,
    backoffMaxMs: 60_000,
    leaseMs: LEASE_MS,
    ...overrides,
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits for the test to release a handler, or for the runner to abort it (so a failed test cannot hang). */
function released(release: Promise<void>, signal: AbortSignal): Promise<void> {
  return Promise.race([
    release,
    new Promise<void>((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted', { cause: signal.reason }))),
    ),
  ]);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface RecordedEvent {
  action: string;
  actor_name: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
}

/**
 * Stands in for the audit module: like the real appender it writes inside the transaction it is given
 * (into a scratch table), so an event survives only if the change it records commits. It can be told
 * to fail, as the real one does when the log cannot be written.
 */
function createFakeAudit(store: Store) {
  let failure: Error | undefined;
  let seq = 0;
  const appender: AuditAppender = {
    async append(tx: Tx, event: AuditEventInput): Promise<AuditEvent> {
      if (failure) throw failure;
      await sql`INSERT INTO test_audit (action, actor_name, target_type, target_id, details)
        VALUES (${event.action}, ${event.actor.name}, ${event.target?.type ?? null}, ${event.target?.id ?? null},
                ${JSON.stringify(event.details ?? {})}::jsonb)`.execute(tx);
      seq += 1;
      return {
        seq,
        id: `event-${seq}`,
        occurredAt: new Date(),
        actorType: event.actor.type,
        actorId: event.actor.id,
        actorName: event.actor.name,
        action: event.action,
        targetType: event.target?.type ?? null,
        targetId: event.target?.id ?? null,
        ticket: event.ticket ?? null,
        details: event.details ?? {},
        requestId: event.requestId ?? null,
        sourceIp: event.sourceIp ?? null,
        prevHash: '',
        hash: '',
      };
    },
  };
  return {
    appender,
    failWith(error: Error | undefined) {
      failure = error;
    },
    async events(): Promise<RecordedEvent[]> {
      const { rows } = await sql<RecordedEvent>`
        SELECT action, actor_name, target_type, target_id, details FROM test_audit ORDER BY seq`.execute(
        store.db,
      );
      return rows;
    },
  };
}

describe.each(backends)('job runner on %s', (backend) => {
  // One store per backend for the whole suite (creating one costs most of a second); each test starts
  // from empty tables.
  let t: TestStore;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    t = await createTestStore(backend);
    await t.store.exec(`CREATE TABLE test_audit (
      seq serial PRIMARY KEY, action text NOT NULL, actor_name text NOT NULL,
      target_type text, target_id text, details jsonb NOT NULL)`);
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await t.store.exec('TRUNCATE jobs, test_audit');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(options: { maxAttempts?: number } = {}) {
    const store = t.store;
    const clock = manualClock('2026-03-01T12:00:00.000Z');
    const ids = systemIds(clock);
    const audit = createFakeAudit(store);
    const queue = createJobQueue({
      clock,
      ids,
      maxAttempts: options.maxAttempts ?? 3,
      audit: audit.appender,
    });
    const runner = (
      handlers: Record<string, JobHandler>,
      extra: {
        workerId?: string;
        store?: Store;
        config?: Partial<Config['jobs']>;
        metrics?: Registry;
        isProcessAlive?: (pid: number) => boolean;
      } = {},
    ): JobRunner => {
      const r = createJobRunner({
        store: extra.store ?? store,
        clock,
        ids,
        logger,
        audit: audit.appender,
        handlers,
        config: jobsConfig(extra.config),
        workerId: extra.workerId ?? 'worker-a',
        random: () => 0.5,
        ...(extra.metrics ? { metrics: extra.metrics } : {}),
        ...(extra.isProcessAlive ? { isProcessAlive: extra.isProcessAlive } : {}),
      });
      cleanups.push(() => r.stop({ graceMs: 0 }));
      return r;
    };
    const enqueue = (input: EnqueueInput) =>
      store.db.transaction().execute(async (tx) => (await queue.enqueue(tx, input)).job);
    const job = (id: string) => queue.get(store.db, id);
    return { store, clock, audit, queue, runner, enqueue, job };
  }

  serverOnly(backend)('two runners on one database never run the same job twice', async () => {
    const { store, runner, enqueue } = await setUp();
    const second = await openStore({ databaseUrl: t.databaseUrl });
    cleanups.push(() => second.close());
    const total = 200;
    for (let i = 0; i < total; i++) await enqueue({ kind: 'work', payload: { i } });

    const runs: { id: string; worker: string }[] = [];
    const workers = new Set<string>();
    const bothWorking = deferred();
    const allRan = deferred();
    const handlerFor =
      (worker: string): JobHandler =>
      async (job) => {
        runs.push({ id: job.id, worker });
        workers.add(worker);
        if (workers.size === 2) bothWorking.resolve();
        if (runs.length >= total) allRan.resolve();
        // Hold the first jobs until the other runner has one too, so the two really overlap.
        await Promise.race([bothWorking.promise, sleep(5_000)]);
        await sleep(2);
      };
    const a = runner({ work: handlerFor('a') }, { workerId: 'worker-a' });
    const b = runner({ work: handlerFor('b') }, { workerId: 'worker-b', store: second });
    a.start();
    b.start();
    await Promise.race([allRan.promise, sleep(15_000)]);
    await Promise.all([a.stop(), b.stop()]);

    expect(workers).toEqual(new Set(['a', 'b']));
    const perJob = new Map<string, number>();
    for (const run of runs) perJob.set(run.id, (perJob.get(run.id) ?? 0) + 1);
    expect(perJob.size).toBe(total);
    expect([...perJob.values()].filter((n) => n !== 1)).toEqual([]);
    const states = await store.db
      .selectFrom('jobs')
      .select(['state', 'attempts', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['state', 'attempts'])
      .execute();
    expect(states.map((s) => ({ ...s, n: Number(s.n) }))).toEqual([
      { state: 'succeeded', attempts: 1, n: total },
    ]);
  });

  it('retries a throwing handler with backoff, then fails it with a job.failed event', async () => {
    const { clock, audit, runner, enqueue, job } = await setUp();
    const metrics = new Registry();
    const attempts: number[] = [];
    const r = runner(
      {
        flaky: async (_job, ctx) => {
          attempts.push(ctx.attempt);
          throw new Error('target refused the connection');
        },
      },
      { metrics },
    );
    const queued = await enqueue({ kind: 'flaky', payload: { asset: 'db-1' } });
    const t0 = clock.now().getTime();

    expect(await r.runDue()).toMatchObject({ claimed: 1, retried: 1 });
    let now = await job(queued.id);
    // backoff with random 0.5: attempt 1 → 0.5 × 1000 ms, attempt 2 → 0.5 × 2000 ms
    expect(now).toMatchObject({ state: 'queued', attempts: 1, lockedBy: null, lockedUntil: null });
    expect(now.runAt.getTime()).toBe(t0 + 500);
    expect(now.lastError).toBe('target refused the connection');

    clock.advance(499);
    expect((await r.runDue()).claimed).toBe(0);
    clock.advance(1);
    expect(await r.runDue()).toMatchObject({ claimed: 1, retried: 1 });
    now = await job(queued.id);
    expect(now).toMatchObject({ state: 'queued', attempts: 2, lastError: 'target refused the connection' });
    expect(now.runAt.getTime()).toBe(clock.now().getTime() + 1000);
    expect(await audit.events()).toEqual([]);

    clock.advance(1000);
    expect(await r.runDue()).toMatchObject({ claimed: 1, failed: 1 });
    now = await job(queued.id);
    expect(now).toMatchObject({ state: 'failed', attempts: 3, lastError: 'target refused the connection' });
    expect(now.finishedAt).toEqual(clock.now());
    expect(attempts).toEqual([1, 2, 3]);
    expect(await audit.events()).toEqual([
      {
        action: 'job.failed',
        actor_name: 'job-runner',
        target_type: 'job',
        target_id: queued.id,
        details: { kind: 'flaky', attempts: 3, error: 'target refused the connection' },
      },
    ]);

    clock.advance(3_600_000);
    expect((await r.runDue()).claimed).toBe(0);

    const processed = await metrics.getSingleMetricAsString('gatehouse_jobs_processed_total');
    expect(processed).toContain('gatehouse_jobs_processed_total{kind="flaky",outcome="retried"} 2');
    expect(processed).toContain('gatehouse_jobs_processed_total{kind="flaky",outcome="failed"} 1');
    expect(await metrics.getSingleMetricAsString('gatehouse_jobs')).toContain(
      'gatehouse_jobs{state="failed"} 1',
    );
    expect(await metrics.getSingleMetricAsString('gatehouse_job_duration_seconds')).toContain(
      'gatehouse_job_duration_seconds_count{kind="flaky"} 3',
    );
  });

  it('keeps only a bounded error message, never its cause', async () => {
    const { runner, enqueue, job } = await setUp();
    const r = runner({
      leaky: async () => {
        throw new ValidationError('x'.repeat(5000), {
          cause: new Error('postgres://admin:hunter2@db/prod'),
        });
      },
    });
    const queued = await enqueue({ kind: 'leaky' });
    await r.runDue();
    const failed = await job(queued.id);
    expect(failed.lastError).toHaveLength(2000);
    expect(failed.lastError).not.toContain('hunter2');
  });

  it('fails a non-retryable error at once, retries a retryable one', async () => {
    const { audit, runner, enqueue, job } = await setUp();
    const r = runner({
      strict: async () => {
        throw new ValidationError('payload lacks a grant id');
      },
      transient: async () => {
        throw new TransientError('target_unavailable', 'ssh: connection reset');
      },
    });
    const strict = await enqueue({ kind: 'strict' });
    const transient = await enqueue({ kind: 'transient' });
    expect(await r.runDue()).toMatchObject({ claimed: 2, failed: 1, retried: 1 });
    expect(await job(strict.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'payload lacks a grant id',
    });
    expect(await job(transient.id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect((await audit.events()).map((e) => [e.action, e.target_id])).toEqual([['job.failed', strict.id]]);
  });

  it('fails a job of an unknown kind terminally, saying why', async () => {
    const { audit, runner, enqueue, job } = await setUp();
    const queued = await enqueue({ kind: 'from.the.future', maxAttempts: 5 });
    expect(await runner({}).runDue()).toMatchObject({ failed: 1 });
    const failed = await job(queued.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed.lastError).toMatch(/No handler for job kind 'from\.the\.future'/);
    expect((await audit.events())[0]).toMatchObject({ action: 'job.failed', target_id: queued.id });
  });

  it('does not mark a job failed when its audit event cannot be written', async () => {
    const { clock, audit, runner, enqueue, job } = await setUp();
    const r = runner({
      once: async () => {
        throw new ValidationError('bad input');
      },
    });
    const queued = await enqueue({ kind: 'once', maxAttempts: 1 });
    audit.failWith(new Error('audit log unavailable'));
    expect(await r.runDue()).toMatchObject({ claimed: 1, lost: 1 });
    expect(await job(queued.id)).toMatchObject({ state: 'running', lockedBy: 'worker-a', finishedAt: null });
    expect(await audit.events()).toEqual([]);

    // The lease runs out and the job is taken again; having used its only attempt, it fails for good.
    audit.failWith(undefined);
    clock.advance(LEASE_MS + 1);
    expect(await r.runDue()).toMatchObject({ claimed: 1, failed: 1 });
    const failed = await job(queued.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, lockedBy: null });
    expect(failed.lastError).toMatch(/Gave up after 1 attempts/);
    expect((await audit.events()).map((e) => e.action)).toEqual(['job.failed']);
  });

  it('reclaims a running job whose lease expired, and leaves a live lease alone', async () => {
    const { store, clock, runner, enqueue, job } = await setUp();
    const ran: string[] = [];
    const r = runner({ work: async (j) => void ran.push(j.id) });
    const crashed = await enqueue({ kind: 'work' });
    const busy = await enqueue({ kind: 'work' });
    const now = clock.now().getTime();
    const hold = (id: string, until: number) =>
      store.db
        .updateTable('jobs')
        .set({ state: 'running', locked_by: 'dead-worker', locked_until: new Date(until), attempts: 1 })
        .where('id', '=', id)
        .execute();
    await hold(crashed.id, now - 1000);
    await hold(busy.id, now + 1000);

    expect(await r.runDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(ran).toEqual([crashed.id]);
    expect(await job(crashed.id)).toMatchObject({ state: 'succeeded', attempts: 2, lockedBy: null });
    expect(await job(busy.id)).toMatchObject({ state: 'running', lockedBy: 'dead-worker', attempts: 1 });
  });

  it('takes over at once the jobs of a dead worker of this host, and only those', async () => {
    const { store, clock, runner, enqueue, job } = await setUp();
    const ran: string[] = [];
    const stillLeased = clock.now().getTime() + 60_000;
    const held = async (worker: string) => {
      const queued = await enqueue({ kind: 'work' });
      await store.db
        .updateTable('jobs')
        .set({ state: 'running', locked_by: worker, locked_until: new Date(stillLeased), attempts: 1 })
        .where('id', '=', queued.id)
        .execute();
      return queued.id;
    };
    const ofDeadProcess = await held('host-a:4242');
    const ofLiveProcess = await held('host-a:77');
    const ofOtherHost = await held('host-b:4242');
    const r = runner(
      { work: async (j) => void ran.push(j.id) },
      { workerId: 'host-a:1', isProcessAlive: (pid) => pid === 77 },
    );

    expect(await r.runDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(ran).toEqual([ofDeadProcess]);
    expect(await job(ofDeadProcess)).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(await job(ofLiveProcess)).toMatchObject({ state: 'running', lockedBy: 'host-a:77' });
    expect(await job(ofOtherHost)).toMatchObject({ state: 'running', lockedBy: 'host-b:4242' });
  });

  it('discards the result of a worker whose lease was taken over', async () => {
    const { clock, audit, runner, enqueue, job } = await setUp();
    const slowStarted = deferred();
    const slowRelease = deferred();
    const fastStarted = deferred();
    const fastRelease = deferred();
    const slow = runner(
      {
        work: async (_job, { signal }) => {
          slowStarted.resolve();
          await released(slowRelease.promise, signal);
          throw new ValidationError('late failure from the first worker');
        },
      },
      { workerId: 'worker-slow' },
    );
    const fast = runner(
      {
        work: async (_job, { signal }) => {
          fastStarted.resolve();
          await released(fastRelease.promise, signal);
        },
      },
      { workerId: 'worker-fast' },
    );
    const queued = await enqueue({ kind: 'work' });

    const slowRun = slow.runDue();
    await slowStarted.promise;
    clock.advance(LEASE_MS + 1);
    const fastRun = fast.runDue();
    await fastStarted.promise;
    // The first worker finishes while the second one holds the job: its result must not land.
    slowRelease.resolve();
    expect(await slowRun).toMatchObject({ claimed: 1, lost: 1 });
    expect(await job(queued.id)).toMatchObject({
      state: 'running',
      lockedBy: 'worker-fast',
      lastError: null,
    });
    expect(await audit.events()).toEqual([]);

    fastRelease.resolve();
    expect(await fastRun).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(await job(queued.id)).toMatchObject({ state: 'succeeded', attempts: 2, lastError: null });
  });

  it('extends the lease while a handler runs, and aborts the handler once the job is lost', async () => {
    const { store, clock, runner, enqueue, job } = await setUp();
    const started = deferred();
    let aborted = false;
    // a 30 ms lease: the heartbeat runs every 10 ms of real time and stamps leases from the test clock
    const r = runner(
      {
        work: async (_job, { signal }) => {
          started.resolve();
          await released(new Promise<void>(() => undefined), signal).catch((error: unknown) => {
            aborted = true;
            throw error;
          });
        },
      },
      { config: { leaseMs: 30 } },
    );
    const queued = await enqueue({ kind: 'work' });
    const run = r.runDue();
    await started.promise;
    clock.advance(10_000);
    const extendedPast = clock.now().getTime();
    for (let i = 0; i < 400; i++) {
      if (((await job(queued.id)).lockedUntil?.getTime() ?? 0) > extendedPast) break;
      await sleep(5);
    }
    expect((await job(queued.id)).lockedUntil!.getTime()).toBe(extendedPast + 30);

    // Another worker takes the job over (as if this one had stalled past its lease).
    await store.db.updateTable('jobs').set({ locked_by: 'worker-b' }).where('id', '=', queued.id).execute();
    expect(await run).toMatchObject({ claimed: 1, lost: 1 });
    expect(aborted).toBe(true);
    expect(await job(queued.id)).toMatchObject({ state: 'running', lockedBy: 'worker-b' });
  });

  it('keeps one queued or running job per dedupe key', async () => {
    const { store, queue, runner, enqueue } = await setUp();
    const first = await store.db
      .transaction()
      .execute((tx) => queue.enqueue(tx, { kind: 'lease.expire', dedupeKey: 'expire:g1' }));
    const again = await store.db
      .transaction()
      .execute((tx) =>
        queue.enqueue(tx, { kind: 'lease.expire', dedupeKey: 'expire:g1', payload: { x: 1 } }),
      );
    const other = await enqueue({ kind: 'lease.expire', dedupeKey: 'expire:g2' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, job: { id: first.job.id } });
    expect(other.id).not.toBe(first.job.id);

    await runner({ 'lease.expire': async () => undefined }).runDue();
    const afterwards = await store.db
      .transaction()
      .execute((tx) => queue.enqueue(tx, { kind: 'lease.expire', dedupeKey: 'expire:g1' }));
    expect(afterwards.created).toBe(true);
    expect(afterwards.job.id).not.toBe(first.job.id);
    const count = await store.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    expect(Number(count?.n)).toBe(3);
  });

  serverOnly(backend)(
    'returns the job of a concurrent transaction holding the same dedupe key once it commits',
    async () => {
      const { store, queue } = await setUp();
      const second = await openStore({ databaseUrl: t.databaseUrl });
      cleanups.push(() => second.close());
      const enqueued = deferred();
      const commit = deferred();
      const first = store.db.transaction().execute(async (tx) => {
        const result = await queue.enqueue(tx, { kind: 'grant.provision', dedupeKey: 'provision:g1' });
        enqueued.resolve();
        await commit.promise;
        return result;
      });
      await enqueued.promise;
      const racing = second.db
        .transaction()
        .execute((tx) => queue.enqueue(tx, { kind: 'grant.provision', dedupeKey: 'provision:g1' }));
      // Commit the first only once the second is waiting on it, so the waiting path is what runs.
      for (let i = 0; i < 500; i++) {
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE NOT l.granted AND a.datname = current_database()`.execute(store.db);
        if (rows[0]!.n > 0) break;
        await sleep(5);
      }
      commit.resolve();
      const [a, b] = await Promise.all([first, racing]);
      expect(a.created).toBe(true);
      expect(b).toMatchObject({ created: false, job: { id: a.job.id } });
    },
  );

  it('enqueues inside the caller transaction: a rollback leaves no job', async () => {
    const { store, queue } = await setUp();
    await expect(
      store.db.transaction().execute(async (tx) => {
        await queue.enqueue(tx, { kind: 'grant.provision' });
        throw new Error('the grant could not be saved');
      }),
    ).rejects.toThrow(/could not be saved/);
    expect(await queue.list(store.db, { limit: 10 })).toEqual({ jobs: [], nextCursor: null });
  });

  it('runs a job again at the time its handler asks for', async () => {
    const { clock, runner, enqueue, job } = await setUp();
    const calls: number[] = [];
    const r = runner({
      reconcile: async (_j, ctx) => {
        calls.push(ctx.attempt);
        if (calls.length === 1) return { requeueAt: new Date(clock.now().getTime() + 300_000) };
      },
    });
    const queued = await enqueue({ kind: 'reconcile' });
    expect(await r.runDue()).toMatchObject({ claimed: 1, requeued: 1 });
    const waiting = await job(queued.id);
    expect(waiting).toMatchObject({ state: 'queued', attempts: 0, lockedBy: null, lastError: null });
    expect(waiting.runAt.getTime()).toBe(clock.now().getTime() + 300_000);

    clock.advance(299_999);
    expect((await r.runDue()).claimed).toBe(0);
    clock.advance(1);
    expect(await r.runDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(calls).toEqual([1, 1]);
  });

  it('retries a failed job on request, with an audit event, and refuses other states', async () => {
    const { store, audit, queue, runner, enqueue, job } = await setUp();
    let broken = true;
    const r = runner({
      provision: async () => {
        if (broken) throw new ValidationError('no admin credential for db-1');
      },
    });
    const queued = await enqueue({ kind: 'provision', dedupeKey: 'provision:db-1' });
    await r.runDue();
    expect((await job(queued.id)).state).toBe('failed');

    const ctx = { actor: { type: 'operator' as const, id: null, name: 'alice' }, requestId: 'req-1' };
    broken = false;
    const retried = await store.db.transaction().execute((tx) => queue.retry(tx, queued.id, ctx));
    expect(retried).toMatchObject({ state: 'queued', attempts: 0, finishedAt: null });
    expect((await audit.events()).map((e) => [e.action, e.actor_name, e.target_id])).toEqual([
      ['job.failed', 'job-runner', queued.id],
      ['job.retried', 'alice', queued.id],
    ]);
    expect(await r.runDue()).toMatchObject({ claimed: 1, succeeded: 1 });

    const retryAgain = store.db.transaction().execute((tx) => queue.retry(tx, queued.id, ctx));
    await expect(retryAgain).rejects.toBeInstanceOf(ConflictError);
    await expect(retryAgain).rejects.toThrow(/is succeeded, and only a failed job can be retried/);
    expect(await job(queued.id)).toMatchObject({ state: 'succeeded' });
    expect(await audit.events()).toHaveLength(2);

    const missing = '01890000-0000-7000-8000-000000000000';
    await expect(
      store.db.transaction().execute((tx) => queue.retry(tx, missing, ctx)),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('will not retry a failed job while another job holds its dedupe key', async () => {
    const { store, queue, runner, enqueue } = await setUp();
    const r = runner({
      provision: async () => {
        throw new ValidationError('broken');
      },
    });
    const failed = await enqueue({ kind: 'provision', dedupeKey: 'provision:db-2' });
    await r.runDue();
    const holder = await enqueue({ kind: 'provision', dedupeKey: 'provision:db-2' });
    const ctx = { actor: { type: 'operator' as const, id: null, name: 'alice' } };
    await expect(store.db.transaction().execute((tx) => queue.retry(tx, failed.id, ctx))).rejects.toThrow(
      new RegExp(`job ${holder.id} with the same dedupe key`),
    );
  });

  it('lists jobs newest first with a cursor, filtered by state and kind', async () => {
    const { store, clock, queue, enqueue } = await setUp();
    const ids: string[] = [];
    for (const kind of ['a', 'b', 'a', 'b', 'a']) {
      ids.push((await enqueue({ kind })).id);
      clock.advance(1);
    }
    const newestFirst = [...ids].reverse();
    const page1 = await queue.list(store.db, { limit: 2 });
    const page2 = await queue.list(store.db, { limit: 2, before: page1.nextCursor! });
    const page3 = await queue.list(store.db, { limit: 2, before: page2.nextCursor! });
    expect([page1, page2, page3].map((p) => p.jobs.map((j) => j.id))).toEqual([
      newestFirst.slice(0, 2),
      newestFirst.slice(2, 4),
      newestFirst.slice(4),
    ]);
    expect(page3.nextCursor).toBeNull();
    const onlyA = await queue.list(store.db, { kind: 'a', state: 'queued', limit: 10 });
    expect(onlyA.jobs.map((j) => j.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await queue.list(store.db, { state: 'failed', limit: 10 })).jobs).toEqual([]);
    await expect(queue.list(store.db, { limit: 10, before: 'nope' })).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.list(store.db, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.get(store.db, ids[0]!.replace(/^.{8}/, '00000000'))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(enqueue({ kind: 'Bad Kind; DROP TABLE jobs' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('stop() waits for a running handler to finish and record its result', async () => {
    const { runner, enqueue, job } = await setUp();
    const started = deferred();
    const release = deferred();
    const r = runner({
      work: async (_job, { signal }) => {
        started.resolve();
        await released(release.promise, signal);
      },
    });
    const queued = await enqueue({ kind: 'work' });
    r.start();
    await started.promise;

    let stopped = false;
    const stopping = r.stop({ graceMs: 60_000 }).then(() => {
      stopped = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect(await job(queued.id)).toMatchObject({ state: 'succeeded' });
  });

  it('stop() aborts handlers after the grace period and puts their jobs back untouched', async () => {
    const { runner, enqueue, job } = await setUp();
    const started = deferred();
    const r = runner({
      work: async (_job, { signal }) => {
        started.resolve();
        await new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted', { cause: signal.reason }))),
        );
      },
    });
    const queued = await enqueue({ kind: 'work' });
    r.start();
    await started.promise;
    await r.stop({ graceMs: 0 });
    expect(await job(queued.id)).toMatchObject({ state: 'queued', attempts: 0, lockedBy: null });
    // a stopped runner claims nothing more
    expect((await r.runDue()).claimed).toBe(0);
  });

  it('wakes before the next poll when a job finishes and more are due', async () => {
    const { runner, enqueue } = await setUp();
    const done: string[] = [];
    const allDone = deferred();
    const r = runner(
      {
        work: async (j) => {
          done.push(j.id);
          if (done.length === 3) allDone.resolve();
        },
      },
      { config: { concurrency: 1, pollMs: 600_000 } },
    );
    for (let i = 0; i < 3; i++) await enqueue({ kind: 'work' });
    r.start();
    // With a ten-minute poll interval only the early wake-up can get through three jobs in time.
    await Promise.race([allDone.promise, sleep(10_000)]);
    await r.stop();
    expect(done).toHaveLength(3);
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditAppender, AuditEvent } from '../../src/modules/audit/audit.types.js';
import { systemClock, systemIds } from '../../src/platform/clock.js';
import { openStore } from '../../src/platform/db/store.js';
import { createJobQueue, type EnqueueInput, type JobQueue } from '../../src/platform/jobs/job-queue.js';
import { createJobRunner } from '../../src/platform/jobs/job-runner.js';
import type { JobHandler } from '../../src/platform/jobs/job-types.js';
import { createJobBell, listenForJobs, type JobBell } from '../../src/platform/jobs/job-wakeup.js';
import { createLogger } from '../../src/platform/logger.js';
import { backends, createTestStore, serverOnly, type TestStore } from '../support/stores.js';

/**
 * Jobs are picked up when they are queued or due, not at the runner's next poll: every runner here polls
 * once a minute, so a job that runs within the test's time limit was woken for.
 */

const logger = createLogger({ level: 'silent' });
const MINUTE = 60_000;
const WAIT_MS = 10_000;

/** The runner writes audit events only for failed jobs, which these tests do not have. */
const noAudit: AuditAppender = {
  append: () => Promise.reject(new Error('no job should fail in these tests')),
} satisfies { append: (...args: never[]) => Promise<AuditEvent> };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with what `promise` gives, or with 'timed out' after WAIT_MS (a failed test cannot hang). */
const within = <T>(promise: Promise<T>) =>
  Promise.race([promise, sleep(WAIT_MS).then(() => 'timed out' as const)]);

describe.each(backends)('job wake-up on %s', (backend) => {
  let t: TestStore;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    t = await createTestStore(backend);
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await t.store.exec('TRUNCATE jobs');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A queue and a runner as the composition root wires them for this kind of store. */
  function node(handlers: Record<string, JobHandler>, store = t.store) {
    const bell: JobBell = createJobBell();
    const notify = backend === 'postgres';
    const queue: JobQueue = createJobQueue({
      clock: systemClock,
      ids: systemIds(systemClock),
      maxAttempts: 3,
      audit: noAudit,
      bell,
      notify,
    });
    const runner = createJobRunner({
      store,
      clock: systemClock,
      ids: systemIds(systemClock),
      logger,
      audit: noAudit,
      handlers,
      config: {
        enabled: true,
        concurrency: 4,
        pollMs: MINUTE,
        maxAttempts: 3,
        backoffBaseMs: 1000,
        backoffMaxMs: MINUTE,
        leaseMs: MINUTE,
      },
      workerId: `wake-${Math.random().toString(36).slice(2)}`,
      bell,
    });
    const listener = notify ? listenForJobs({ databaseUrl: t.databaseUrl!, bell, logger }) : undefined;
    cleanups.push(async () => {
      await runner.stop({ graceMs: 0 });
      await listener?.close();
    });
    const enqueue = (input: EnqueueInput) =>
      store.db.transaction().execute(async (tx) => (await queue.enqueue(tx, input)).job);
    return { queue, runner, enqueue };
  }

  /** A runner that has made its first claim and is now waiting (for up to a minute). */
  async function idleNode(handlers: Record<string, JobHandler>) {
    const first = deferred();
    const n = node({ ...handlers, first: async () => first.resolve() });
    await n.enqueue({ kind: 'first' });
    n.runner.start();
    expect(await within(first.promise)).toBeUndefined();
    return n;
  }

  it('a job queued while the runner waits for its next poll runs at once', async () => {
    const ran = deferred<string>();
    const { enqueue } = await idleNode({ work: async (job) => ran.resolve(job.id) });
    const job = await enqueue({ kind: 'work' });
    expect(await within(ran.promise)).toBe(job.id);
  });

  it('a job queued to run shortly runs when due: not before, and not at the next poll', async () => {
    const ran = deferred<number>();
    const { enqueue } = await idleNode({ work: async () => ran.resolve(Date.now()) });
    const runAt = new Date(Date.now() + 400);
    await enqueue({ kind: 'work', runAt });
    const at = await within(ran.promise);
    expect(at).not.toBe('timed out');
    expect(at as number).toBeGreaterThanOrEqual(runAt.getTime());
  });

  it('a job a handler asks to run again shortly is run again then', async () => {
    const runs: number[] = [];
    const twice = deferred();
    const { enqueue } = await idleNode({
      again: async () => {
        runs.push(Date.now());
        if (runs.length === 1) return { requeueAt: new Date(Date.now() + 300) };
        twice.resolve();
      },
    });
    await enqueue({ kind: 'again' });
    expect(await within(twice.promise)).toBeUndefined();
    expect(runs).toHaveLength(2);
  });

  it('a job whose transaction rolls back never runs; the next one does', async () => {
    const ran: string[] = [];
    const second = deferred();
    const { queue } = await idleNode({
      work: async (job) => {
        ran.push(String(job.payload.name));
        if (job.payload.name === 'kept') second.resolve();
      },
    });
    await t.store.db
      .transaction()
      .execute(async (tx) => {
        await queue.enqueue(tx, { kind: 'work', payload: { name: 'rolled back' } });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await t.store.db
      .transaction()
      .execute((tx) => queue.enqueue(tx, { kind: 'work', payload: { name: 'kept' } }));
    expect(await within(second.promise)).toBeUndefined();
    expect(ran).toEqual(['kept']);
  });

  serverOnly(backend)('another node hears a job queued here when it commits (NOTIFY)', async () => {
    const otherStore = await openStore({ databaseUrl: t.databaseUrl });
    cleanups.push(() => otherStore.close());
    const ran = deferred<string>();
    // the other node runs the jobs; this one only queues them (its runner is never started)
    const first = deferred();
    const other = node(
      { work: async (job) => ran.resolve(job.id), first: async () => first.resolve() },
      otherStore,
    );
    const here = node({});
    await here.enqueue({ kind: 'first' });
    other.runner.start();
    expect(await within(first.promise)).toBeUndefined();
    const job = await here.enqueue({ kind: 'work' });
    expect(await within(ran.promise)).toBe(job.id);
  });
});

describe('job bell', () => {
  it('rings every listener until it stops listening', () => {
    const bell = createJobBell();
    const heard: number[] = [];
    const stop = bell.listen((at) => heard.push(at.getTime()));
    bell.ring(new Date(5));
    stop();
    bell.ring(new Date(6));
    expect(heard).toEqual([5]);
  });
});

it('reads only run times from notifications', async () => {
  const { runAtOf } = await import('../../src/platform/jobs/job-wakeup.js');
  expect(runAtOf('1767225600000')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  expect(runAtOf('')).toBeUndefined();
  expect(runAtOf('12; DROP TABLE jobs')).toBeUndefined();
  expect(runAtOf(undefined)).toBeUndefined();
});

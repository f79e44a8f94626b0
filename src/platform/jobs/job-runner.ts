import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { systemActor, type AuditAppender } from '../../modules/audit/audit.types.js';
import type { Clock, Ids } from '../clock.js';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { ConfigError, isRetryable } from '../errors.js';
import type { Logger } from '../logger.js';
import { createBackoff, type JitterStrategy } from './backoff.js';
import {
  claimDue,
  countActive,
  extendLease,
  markFailed,
  markSucceeded,
  nextDueAt,
  releaseDeadLocalWorkers,
  requeue,
} from './job-leases.js';
import { createJobMetrics } from './job-metrics.js';
import { errorSummary, type Job, type JobHandler, type JobOutcome } from './job-types.js';
import type { JobBell } from './job-wakeup.js';

export interface JobRunnerDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  audit: AuditAppender;
  /** One handler per job kind. */
  handlers: Record<string, JobHandler>;
  config: Config['jobs'];
  /** Unique per process (e.g. `<hostname>:<pid>`): it marks the jobs this runner holds. */
  workerId: string;
  metrics?: Registry;
  /** Uniform numbers in [0, 1) for backoff jitter; Math.random unless a test pins it. */
  random?: () => number;
  jitter?: JitterStrategy;
  /** Whether a process of this host still runs (tests pin it); `process.kill(pid, 0)` otherwise. */
  isProcessAlive?: (pid: number) => boolean;
  /** How long `stop()` lets running handlers finish before aborting their signals (default 10 s). */
  stopGraceMs?: number;
  /** Rung when a job is queued (see job-wakeup.ts): the runner claims it then, not at its next poll. */
  bell?: Pick<JobBell, 'listen'>;
}

/** The shortest wait between claims when something is due but held by another worker. */
const MIN_PAUSE_MS = 10;

export type RunDueResult = { claimed: number } & Record<JobOutcome, number>;

export interface JobRunner {
  readonly workerId: string;
  /**
   * Claims due jobs and runs up to `concurrency` at once, until `stop()`. Between claims it waits until
   * the next job is due, a job is queued (the bell) or a slot frees up — at most `pollMs`.
   */
  start(): void;
  /**
   * Stops claiming, lets running handlers finish for the grace period, then aborts their signals (a
   * job whose handler gives up on abort goes back to the queue untouched) and waits for all of them.
   * A handler that ignores its signal holds `stop()` until it returns.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Claims and runs every job due now, each at most once, then returns what happened. */
  runDue(): Promise<RunDueResult>;
}

interface Running {
  controller: AbortController;
  /** Set when `stop()` aborted the handler. */
  interrupted: boolean;
}

const emptyCounts = (): RunDueResult => ({
  claimed: 0,
  succeeded: 0,
  retried: 0,
  requeued: 0,
  failed: 0,
  lost: 0,
  interrupted: 0,
});

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { store, clock, audit, handlers, config, workerId } = deps;
  if (workerId.trim() === '') throw new ConfigError('The job runner needs a non-empty worker id');
  const db = store.db;
  const logger = deps.logger.child({ component: 'job-runner', workerId });
  const backoff = createBackoff({
    baseMs: config.backoffBaseMs,
    maxMs: config.backoffMaxMs,
    jitter: deps.jitter ?? 'full',
    random: deps.random ?? Math.random,
  });
  const metrics = createJobMetrics(deps.metrics, () => countActive(db), logger);
  const heartbeatMs = Math.max(1, Math.floor(config.leaseMs / 3));

  const running = new Set<Running>();
  const inFlight = new Set<Promise<unknown>>();
  let loop: Promise<void> | undefined;
  let unlisten: (() => void) | undefined;
  let stopping = false;
  let moreDue = false;
  /** Ends the current pause early; set while the loop is paused. */
  let wake: (() => void) | undefined;
  let pauseTimer: NodeJS.Timeout | undefined;
  /** performance.now() at which the current pause ends. */
  let pauseEnds = Infinity;
  /** A wake-up heard while not paused (performance.now() time): the next pause ends by then. */
  let wakeBy: number | undefined;

  const claim = (limit: number, exclude?: string[]) =>
    claimDue(db, { workerId, now: clock.now(), leaseMs: config.leaseMs, limit, exclude });

  /** Extends the lease every leaseMs/3 while the handler runs; aborts the handler if the job was lost. */
  function keepLease(job: Job, run: Running, log: Logger): { stop(): Promise<void> } {
    let pending: Promise<void> | undefined;
    let done = false;
    const timer = setInterval(() => {
      if (pending) return;
      pending = extendLease(db, { id: job.id, workerId, now: clock.now(), leaseMs: config.leaseMs })
        .then(
          (ours) => {
            if (ours || done) return;
            log.warn('lost the lease on a running job (another worker took it over); aborting the handler');
            run.controller.abort(new Error('the job runner lost the lease on this job'));
          },
          (error: unknown) => log.warn({ err: errorSummary(error) }, 'could not extend a job lease'),
        )
        .finally(() => {
          pending = undefined;
        });
    }, heartbeatMs);
    return {
      async stop() {
        done = true;
        clearInterval(timer);
        await pending;
      },
    };
  }

  async function fail(job: Job, error: string, options: { undoAttempt?: boolean } = {}): Promise<JobOutcome> {
    const failed = await db.transaction().execute(async (tx) => {
      const row = await markFailed(tx, {
        id: job.id,
        workerId,
        now: clock.now(),
        lastError: error,
        ...options,
      });
      if (!row) return undefined;
      await audit.append(tx, {
        actor: systemActor('job-runner'),
        action: 'job.failed',
        target: { type: 'job', id: job.id },
        details: { kind: job.kind, attempts: row.attempts, error },
      });
      return row;
    });
    return failed ? 'failed' : 'lost';
  }

  async function afterHandler(
    job: Job,
    run: Running,
    result: unknown,
    thrown: { error: unknown } | undefined,
  ): Promise<JobOutcome> {
    const owner = { id: job.id, workerId, now: clock.now() };
    if (thrown) {
      const message = errorSummary(thrown.error);
      if (run.interrupted) {
        const released = await requeue(db, { ...owner, runAt: owner.now, attempts: 'undo', lastError: null });
        return released ? 'interrupted' : 'lost';
      }
      if (isRetryable(thrown.error) && job.attempts < job.maxAttempts) {
        const runAt = new Date(owner.now.getTime() + backoff(job.attempts));
        const retried = await requeue(db, { ...owner, runAt, attempts: 'keep', lastError: message });
        if (retried) wakeAt(runAt);
        return retried ? 'retried' : 'lost';
      }
      return fail(job, message);
    }
    if (result === undefined) return (await markSucceeded(db, owner)) ? 'succeeded' : 'lost';
    const requeueAt: unknown =
      typeof result === 'object' && result !== null && 'requeueAt' in result ? result.requeueAt : undefined;
    if (!(requeueAt instanceof Date) || Number.isNaN(requeueAt.getTime())) {
      return fail(
        job,
        `The '${job.kind}' handler returned something other than nothing or { requeueAt: Date }`,
      );
    }
    // A requeue is a success of this run: the next run starts a fresh series of attempts.
    const requeued = await requeue(db, { ...owner, runAt: requeueAt, attempts: 'reset', lastError: null });
    if (requeued) wakeAt(requeueAt);
    return requeued ? 'requeued' : 'lost';
  }

  async function runHandler(job: Job, handler: JobHandler, run: Running, log: Logger): Promise<JobOutcome> {
    const lease = keepLease(job, run, log);
    let result: unknown;
    let thrown: { error: unknown } | undefined;
    try {
      result = await handler(job, { signal: run.controller.signal, attempt: job.attempts });
    } catch (error) {
      thrown = { error };
    } finally {
      await lease.stop();
    }
    return afterHandler(job, run, result, thrown);
  }

  async function execute(job: Job): Promise<JobOutcome> {
    const started = performance.now();
    const log = logger.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    const run: Running = { controller: new AbortController(), interrupted: false };
    running.add(run);
    let outcome: JobOutcome;
    try {
      const handler = Object.hasOwn(handlers, job.kind) ? handlers[job.kind] : undefined;
      if (job.attempts > job.maxAttempts) {
        // Reclaimed after its last allowed attempt: that run's worker died mid-job. Do not run it again.
        outcome = await fail(
          job,
          `Gave up after ${job.maxAttempts} attempts: the worker running the last one stopped without finishing (crashed or lost the database). Retry the job once the cause is found.`,
          { undoAttempt: true },
        );
      } else if (!handler) {
        outcome = await fail(
          job,
          `No handler for job kind '${job.kind}' on worker ${workerId}: this build does not know that kind. Deploy a build that does, then retry the job.`,
        );
      } else {
        log.debug('job started');
        outcome = await runHandler(job, handler, run, log);
      }
    } catch (error) {
      // The outcome could not be written (the store is away): the lease runs out and the job is reclaimed.
      log.error(
        { err: errorSummary(error) },
        'could not record the outcome of a job; it runs again when its lease expires',
      );
      outcome = 'lost';
    } finally {
      running.delete(run);
    }
    metrics.observe(job.kind, outcome, (performance.now() - started) / 1000);
    if (outcome === 'failed') log.error('job failed for good');
    else if (outcome === 'retried') log.warn('job failed; it will be retried');
    else if (outcome === 'lost') log.warn('job result discarded: the job is no longer held by this worker');
    else log.debug({ outcome }, 'job finished');
    return outcome;
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    const settle = () => {
      inFlight.delete(work);
      if (moreDue && !stopping) wake?.();
    };
    work.then(settle, settle);
    return work;
  }

  function schedulePause(ms: number): void {
    clearTimeout(pauseTimer);
    pauseEnds = performance.now() + ms;
    pauseTimer = setTimeout(() => wake?.(), ms);
  }

  function pause(ms: number): Promise<void> {
    const heard = wakeBy;
    wakeBy = undefined;
    const wait = heard === undefined ? ms : Math.min(ms, Math.max(0, heard - performance.now()));
    return new Promise((resolve) => {
      // stop() may have been called while the next pause was being worked out
      if (stopping) return resolve();
      wake = () => {
        clearTimeout(pauseTimer);
        pauseTimer = undefined;
        pauseEnds = Infinity;
        wake = undefined;
        resolve();
      };
      schedulePause(wait);
    });
  }

  /** A job is due at `runAt`: make sure the loop claims by then. */
  function wakeAt(runAt: Date): void {
    if (stopping) return;
    const due = performance.now() + Math.max(0, runAt.getTime() - clock.now().getTime());
    if (!wake) {
      wakeBy = wakeBy === undefined ? due : Math.min(wakeBy, due);
    } else if (due <= performance.now()) {
      wake();
    } else if (due < pauseEnds) {
      schedulePause(due - performance.now());
    }
  }

  /** How long to wait before the next claim: until the next job is due, within [MIN_PAUSE_MS, pollMs]. */
  async function nextPause(): Promise<number> {
    if (moreDue) return config.pollMs; // a finishing job wakes the loop (track)
    try {
      const next = await nextDueAt(db);
      if (!next) return config.pollMs;
      return Math.min(config.pollMs, Math.max(MIN_PAUSE_MS, next.getTime() - clock.now().getTime()));
    } catch (error) {
      logger.error({ err: errorSummary(error) }, 'could not read when the next job is due');
      return config.pollMs;
    }
  }

  /** Once per runner: leases held by dead workers of this host end now (see releaseDeadLocalWorkers). */
  let releasedDead = false;
  async function releaseDead(): Promise<void> {
    const local = /^(.+):(\d+)$/.exec(workerId);
    if (releasedDead || !local) return;
    releasedDead = true;
    try {
      const dead = await releaseDeadLocalWorkers(db, {
        host: local[1]!,
        self: workerId,
        now: clock.now(),
        isAlive: deps.isProcessAlive ?? processIsAlive,
      });
      if (dead.length > 0)
        logger.warn({ workers: dead }, 'took back the jobs of workers of this host that died');
    } catch (error) {
      logger.error({ err: errorSummary(error) }, 'could not check for jobs held by dead workers');
    }
  }

  async function pollLoop(): Promise<void> {
    await releaseDead();
    while (!stopping) {
      const free = config.concurrency - inFlight.size;
      if (free > 0) {
        try {
          const jobs = await claim(free);
          moreDue = jobs.length === free;
          for (const job of jobs) void track(execute(job));
        } catch (error) {
          moreDue = false;
          logger.error({ err: errorSummary(error) }, 'could not claim jobs; trying again at the next poll');
        }
      }
      if (stopping) break;
      await pause(await nextPause());
    }
  }

  return {
    workerId,

    start() {
      if (loop) return;
      stopping = false;
      unlisten ??= deps.bell?.listen(wakeAt);
      loop = pollLoop();
    },

    async stop(options = {}) {
      stopping = true;
      unlisten?.();
      unlisten = undefined;
      wake?.();
      await loop;
      loop = undefined;
      if (inFlight.size === 0) return;
      const graceMs = options.graceMs ?? deps.stopGraceMs ?? 10_000;
      const abortTimer = setTimeout(() => {
        logger.warn({ running: running.size }, 'grace period over; aborting running job handlers');
        for (const run of running) {
          run.interrupted = true;
          run.controller.abort(new Error('the job runner is stopping'));
        }
      }, graceMs);
      try {
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      } finally {
        clearTimeout(abortTimer);
      }
    },

    async runDue() {
      await releaseDead();
      const counts = emptyCounts();
      const seen: string[] = [];
      while (!stopping) {
        const jobs = await claim(config.concurrency, seen);
        if (jobs.length === 0) break;
        counts.claimed += jobs.length;
        for (const job of jobs) seen.push(job.id);
        const outcomes = await Promise.all(jobs.map((job) => track(execute(job))));
        for (const outcome of outcomes) counts[outcome] += 1;
      }
      return counts;
    },
  };
}

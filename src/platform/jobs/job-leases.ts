import { sql } from 'kysely';
import type { Executor } from '../db/store.js';
import { toJob, type Job } from './job-types.js';
import { escapeLike } from '../paging.js';

/**
 * The runner's SQL. A worker owns a job while `state = 'running' AND locked_by = <worker>`; every write
 * after the claim is guarded by that condition, so a worker whose lease ran out (and whose job another
 * worker reclaimed) cannot complete, fail or extend it. `now` is always a parameter from the injected
 * clock, never the database's `now()`, so tests drive time and every node agrees with its own logs.
 */

export interface ClaimOptions {
  workerId: string;
  now: Date;
  leaseMs: number;
  limit: number;
  /** Jobs not to claim again (those `runDue` already ran in this pass). */
  exclude?: readonly string[];
}

/**
 * Takes up to `limit` jobs that are due, or whose runner's lease expired, in run_at order. SKIP LOCKED
 * makes concurrent claimers pass over each other's rows instead of waiting or taking the same ones.
 */
export async function claimDue(db: Executor, options: ClaimOptions): Promise<Job[]> {
  const { workerId, now, leaseMs, limit, exclude = [] } = options;
  const due = db
    .selectFrom('jobs')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('state', '=', 'running'), eb('locked_until', '<', now)]),
      ]),
    )
    .$if(exclude.length > 0, (qb) => qb.where(sql<boolean>`NOT (id = ANY(${exclude}::uuid[]))`))
    .orderBy('run_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  const rows = await db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      locked_by: workerId,
      locked_until: new Date(now.getTime() + leaseMs),
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.map(toJob).sort((a, b) => a.runAt.getTime() - b.runAt.getTime());
}

interface Owned {
  id: string;
  workerId: string;
  now: Date;
}

function owned(db: Executor, { id, workerId }: Owned) {
  return db
    .updateTable('jobs')
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('state', '=', 'running');
}

async function changed(result: Promise<{ numUpdatedRows: bigint }>): Promise<boolean> {
  return (await result).numUpdatedRows > 0n;
}

/** Pushes the lease forward; false when the job is no longer ours. */
export function extendLease(db: Executor, job: Owned & { leaseMs: number }): Promise<boolean> {
  return changed(
    owned(db, job)
      .set({ locked_until: new Date(job.now.getTime() + job.leaseMs), updated_at: job.now })
      .executeTakeFirst(),
  );
}

export function markSucceeded(db: Executor, job: Owned): Promise<boolean> {
  return changed(
    owned(db, job)
      .set({
        state: 'succeeded',
        locked_by: null,
        locked_until: null,
        finished_at: job.now,
        updated_at: job.now,
      })
      .executeTakeFirst(),
  );
}

export interface Requeue {
  runAt: Date;
  /** What happened to the attempt just made. */
  attempts: 'keep' | 'reset' | 'undo';
  lastError: string | null;
}

/** Back to the queue, to run at `runAt`; false when the job is no longer ours. */
export function requeue(db: Executor, job: Owned & Requeue): Promise<boolean> {
  return changed(
    owned(db, job)
      .set((eb) => ({
        state: 'queued',
        run_at: job.runAt,
        locked_by: null,
        locked_until: null,
        last_error: job.lastError,
        updated_at: job.now,
        attempts:
          job.attempts === 'reset'
            ? 0
            : job.attempts === 'undo'
              ? sql<number>`greatest(attempts - 1, 0)`
              : eb.ref('attempts'),
      }))
      .executeTakeFirst(),
  );
}

/** Terminal failure; returns the failed job, or undefined when it is no longer ours. */
export async function markFailed(
  db: Executor,
  job: Owned & { lastError: string; undoAttempt?: boolean },
): Promise<Job | undefined> {
  const row = await owned(db, job)
    .set((eb) => ({
      state: 'failed',
      locked_by: null,
      locked_until: null,
      last_error: job.lastError,
      finished_at: job.now,
      updated_at: job.now,
      attempts: job.undoAttempt ? sql<number>`greatest(attempts - 1, 0)` : eb.ref('attempts'),
    }))
    .returningAll()
    .executeTakeFirst();
  return row ? toJob(row) : undefined;
}

/** Job counts by state for the metrics gauge; succeeded jobs are left out (that count only grows). */
export async function countActive(db: Executor): Promise<Record<'queued' | 'running' | 'failed', number>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['state', sql<number>`count(*)::int`.as('n')])
    .where('state', 'in', ['queued', 'running', 'failed'])
    .groupBy('state')
    .execute();
  const counts = { queued: 0, running: 0, failed: 0 };
  for (const row of rows) {
    if (row.state === 'queued' || row.state === 'running' || row.state === 'failed')
      counts[row.state] = row.n;
  }
  return counts;
}

/**
 * Ends the leases of jobs held by workers of this host whose process is gone (a kill -9, a crash), so
 * they are taken over at once instead of when their lease would have run out. Worker ids are
 * `<host>:<pid>`; a worker on another host is never judged, only its lease can expire.
 */
export async function releaseDeadLocalWorkers(
  db: Executor,
  options: { host: string; self: string; now: Date; isAlive: (pid: number) => boolean },
): Promise<string[]> {
  const prefix = `${options.host}:`;
  const holders = await db
    .selectFrom('jobs')
    .select('locked_by')
    .distinct()
    .where('state', '=', 'running')
    .where('locked_by', 'like', `${escapeLike(prefix)}%`)
    .execute();
  const dead = holders
    .map((row) => row.locked_by!)
    .filter((worker) => {
      const pid = worker.slice(prefix.length);
      return worker !== options.self && /^[1-9][0-9]*$/.test(pid) && !options.isAlive(Number(pid));
    });
  if (dead.length === 0) return [];
  await db
    .updateTable('jobs')
    // a lease that ended a moment ago is one the next claim takes (it claims leases ended before now)
    .set({ locked_until: new Date(options.now.getTime() - 1), updated_at: options.now })
    .where('state', '=', 'running')
    .where('locked_by', 'in', dead)
    .execute();
  return dead;
}

/**
 * When the runner has something to do next: the earliest queued job's run time or running job's lease
 * end (both read from their partial indexes, jobs_claimable and jobs_running); undefined when neither.
 */
export async function nextDueAt(db: Executor): Promise<Date | undefined> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('jobs')
        .select((e) => e.fn.min('run_at').as('at'))
        .where('state', '=', 'queued')
        .as('queued'),
      eb
        .selectFrom('jobs')
        .select((e) => e.fn.min('locked_until').as('at'))
        .where('state', '=', 'running')
        .as('running'),
    ])
    .executeTakeFirst();
  const times = [row?.queued, row?.running]
    .map((value) => (value === null || value === undefined ? undefined : new Date(value as Date | string)))
    .filter((at): at is Date => at !== undefined && !Number.isNaN(at.getTime()));
  if (times.length === 0) return undefined;
  return new Date(Math.min(...times.map((at) => at.getTime())));
}

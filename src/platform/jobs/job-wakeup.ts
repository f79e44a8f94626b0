import pg from 'pg';
import type { Logger } from '../logger.js';
import { errorSummary } from './job-types.js';

/**
 * Waking job runners when a job is queued, instead of at their next poll.
 *
 * - In this process: the queue rings a `JobBell` as it adds a job. On the embedded store that is enough:
 *   PGlite has one connection and a transaction holds it until it commits, so the claim the runner makes
 *   when woken runs after the enqueuing transaction is committed (or rolled back).
 * - On a PostgreSQL server a claim could run before the enqueuing transaction commits and miss the
 *   job, so there the jobs table's trigger (migration 0007) sends `NOTIFY gatehouse_jobs` as a job is
 *   queued: PostgreSQL delivers it at commit (never for a rollback), to the runners of this process and
 *   of every other node, each of which LISTENs on a connection of its own (`listenForJobs`). Only a job
 *   due within a minute notifies (migration 0019): a later one is claimed on time by the runners' wait
 *   for the next due job, and a notifying commit holds the notification queue lock through its flush.
 *
 * The message is the job's run time (epoch milliseconds): a runner waits for the earliest one it heard
 * of, never longer than its poll interval, which stays the fallback for anything not heard.
 */

export const JOBS_CHANNEL = 'gatehouse_jobs';

export interface JobBell {
  /** A job is due at `runAt` (queued now, or requeued to then). */
  ring(runAt: Date): void;
  /** Called for every ring; returns the function that stops listening. */
  listen(listener: (runAt: Date) => void): () => void;
}

export function createJobBell(): JobBell {
  const listeners = new Set<(runAt: Date) => void>();
  return {
    ring(runAt) {
      for (const listener of listeners) listener(runAt);
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The run time a notification carries; undefined for anything else on the channel. */
export function runAtOf(payload: string | undefined): Date | undefined {
  if (!payload || !/^\d{1,15}$/.test(payload)) return undefined;
  return new Date(Number(payload));
}

export interface JobListener {
  close(): Promise<void>;
}

/**
 * LISTENs on `gatehouse_jobs` on its own connection to the server store and rings `bell` for every
 * notification. A lost connection is re-opened with a growing delay (up to 30 s); meanwhile the
 * runners' polls carry on, so nothing is lost, only later.
 */
export function listenForJobs(options: {
  databaseUrl: string;
  bell: Pick<JobBell, 'ring'>;
  logger: Logger;
}): JobListener {
  const { bell, logger } = options;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const retry = () => {
    if (closed || retryTimer) return;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: options.databaseUrl, application_name: 'gatehouse-jobs' });
    client = next;
    next.on('error', (error) => {
      logger.warn({ err: errorSummary(error) }, 'lost the job notification connection; reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      retry();
    });
    next.on('notification', (message) => {
      const runAt = runAtOf(message.payload);
      if (message.channel === JOBS_CHANNEL && runAt) bell.ring(runAt);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${JOBS_CHANNEL}`);
      failures = 0;
      // what was queued while nobody listened is due now: look once
      bell.ring(new Date());
      if (closed) await next.end().catch(() => undefined);
    } catch (error) {
      logger.warn({ err: errorSummary(error) }, 'could not listen for job notifications; polling meanwhile');
      await next.end().catch(() => undefined);
      if (client === next) client = undefined;
      retry();
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

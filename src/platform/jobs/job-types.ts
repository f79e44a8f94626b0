import type { JobState, Row } from '../db/schema.js';

export type { JobState };

/** A durable unit of background work, as handlers, services and the API see it. */
export interface Job {
  id: string;
  kind: string;
  /** Handlers validate it with their own zod schema: it was written by another version of the code. */
  payload: Record<string, unknown>;
  state: JobState;
  /** Runs started so far in the current series (reset by a requeue and by a manual retry). */
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface JobHandlerContext {
  /** Aborted when the runner stops (after its grace period) or loses the job's lease. */
  signal: AbortSignal;
  /** 1 for the first run, counting retries after failures. */
  attempt: number;
}

/**
 * Does the work a job names. Return nothing when done, or `{ requeueAt }` to be run again later
 * (level-based reconciliation: re-read the world, act, and ask to be called back). Throw to fail: a
 * GatehouseError with `retryable: false` fails the job at once, anything else is retried with backoff.
 */
export type JobHandler = (job: Job, context: JobHandlerContext) => Promise<void | { requeueAt: Date }>;

/** How one run of a job ended. */
export type JobOutcome =
  | 'succeeded'
  /** failed and will run again after a backoff */
  | 'retried'
  /** the handler asked to run again later */
  | 'requeued'
  | 'failed'
  /** another worker took the job over (our lease ran out): this run's result was discarded */
  | 'lost'
  /** the runner stopped and aborted the handler: the job went back to the queue untouched */
  | 'interrupted';

export const jobOutcomes: readonly JobOutcome[] = [
  'succeeded',
  'retried',
  'requeued',
  'failed',
  'lost',
  'interrupted',
];

export const MAX_ERROR_LENGTH = 2000;

/**
 * What of an error is kept on the job and in the audit log: the message only (never the stack, the
 * cause or details, which may carry connection strings or payloads), cut to a bounded length.
 */
export function errorSummary(error: unknown): string {
  let message: string;
  if (error instanceof Error) message = error.message || error.name;
  else if (typeof error === 'string') message = error;
  else message = 'non-error value thrown';
  // PostgreSQL text cannot hold NUL; a message carrying one would make the completion itself fail.
  message = message.replaceAll('\u0000', '');
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}

export function toJob(row: Row<'jobs'>): Job {
  const payload = row.payload;
  return {
    id: row.id,
    kind: row.kind,
    payload:
      typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? (payload as Record<string, unknown>)
        : {},
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    lastError: row.last_error,
    dedupeKey: row.dedupe_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

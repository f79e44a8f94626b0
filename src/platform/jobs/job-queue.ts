import { sql } from 'kysely';
import { z } from 'zod';
import type { AuditAppender, RequestContext } from '../../modules/audit/audit.types.js';
import type { Clock, Ids } from '../clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { JobState } from '../db/schema.js';
import { PgCode, pgConstraint, pgErrorCode, type Executor, type Tx } from '../db/store.js';
import { toJob, type Job } from './job-types.js';
import { pageOf } from '../paging.js';
import type { JobBell } from './job-wakeup.js';

const jobStates = ['queued', 'running', 'succeeded', 'failed'] as const satisfies readonly JobState[];

/** Kinds name handlers: `lease.expire`, `network.reconcile`, `grant:provision`. */
const kindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._:-]{0,99}$/, 'a job kind is lowercase letters, digits and . _ : - (at most 100)');
const jobIdSchema = z.guid('a job id is a UUID');

const enqueueSchema = z
  .object({
    kind: kindSchema,
    payload: z.record(z.string(), z.unknown()).default({}),
    runAt: z.date().optional(),
    dedupeKey: z.string().min(1).max(200).optional(),
    maxAttempts: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export type EnqueueInput = z.input<typeof enqueueSchema>;

const listSchema = z
  .object({
    state: z.enum(jobStates).optional(),
    kind: kindSchema.optional(),
    limit: z.number().int().min(1).max(500).default(50),
    /** The `nextCursor` of the previous page. */
    before: jobIdSchema.optional(),
  })
  .strict();

export type ListJobsInput = z.input<typeof listSchema>;

export interface JobPage {
  /** Newest first (ids are UUIDv7, so id order is creation order). */
  jobs: Job[];
  /** Pass as `before` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface EnqueueResult {
  job: Job;
  /** False when a queued or running job with the same dedupe key already existed and was returned. */
  created: boolean;
}

export interface JobQueueDeps {
  clock: Clock;
  ids: Ids;
  /** Default attempts for a job that does not set its own (config `jobs.maxAttempts`). */
  maxAttempts: number;
  audit: AuditAppender;
  /** Rung for every job added, so this process's runner claims it without waiting for its poll. */
  bell?: Pick<JobBell, 'ring'>;
  /**
   * On a PostgreSQL server store whose runners LISTEN: the store's trigger sends `NOTIFY gatehouse_jobs`
   * as a job is queued (migration 0007), delivered at commit to the runners of every node, this one's
   * included (see job-wakeup.ts), so the bell is not rung here as well.
   */
  notify?: boolean;
}

export interface JobQueue {
  /**
   * Adds a job inside the caller's transaction, so the state change that calls for it and the job
   * commit (or roll back) together. With a dedupe key, returns the queued or running job holding that
   * key instead of adding a second one.
   */
  enqueue(tx: Executor, input: EnqueueInput): Promise<EnqueueResult>;
  list(db: Executor, input: ListJobsInput): Promise<JobPage>;
  get(db: Executor, id: string): Promise<Job>;
  /** Puts a failed job back in the queue with a fresh series of attempts, and records who did so. */
  retry(tx: Tx, id: string, ctx: RequestContext): Promise<Job>;
}

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; ');
    throw new ValidationError(`Invalid ${what}: ${issues}`);
  }
  return result.data;
}

// The predicate of the partial unique index `jobs_dedupe`, written out literally so that PostgreSQL
// can infer that index as the ON CONFLICT arbiter (it has to be implied by this text, not by parameters).
const dedupeIndexPredicate = sql<boolean>`dedupe_key IS NOT NULL AND state IN ('queued', 'running')`;

function activeStateHint(state: JobState): string {
  switch (state) {
    case 'queued':
      return 'it is already queued and will run when due';
    case 'running':
      return 'it is running now';
    case 'succeeded':
      return 'it already succeeded; enqueue a new job to run that work again';
    case 'failed':
      return 'it failed';
  }
}

export function createJobQueue(deps: JobQueueDeps): JobQueue {
  const { clock, ids, audit } = deps;

  async function findActiveByKey(db: Executor, dedupeKey: string): Promise<Job | undefined> {
    const row = await db
      .selectFrom('jobs')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Wakes this process's runner for a job just added, unless the store's NOTIFY does (at commit). */
  function announce(job: Job): void {
    if (!deps.notify) deps.bell?.ring(job.runAt);
  }

  return {
    async enqueue(tx, input) {
      const job = parse(enqueueSchema, input, 'job');
      const now = clock.now();
      const values = {
        id: ids.uuid(),
        kind: job.kind,
        payload: JSON.stringify(job.payload),
        state: 'queued' as const,
        max_attempts: job.maxAttempts ?? deps.maxAttempts,
        run_at: job.runAt ?? now,
        dedupe_key: job.dedupeKey ?? null,
        created_at: now,
        updated_at: now,
      };
      if (job.dedupeKey === undefined) {
        const row = await tx.insertInto('jobs').values(values).returningAll().executeTakeFirstOrThrow();
        const added = toJob(row);
        announce(added);
        return { job: added, created: true };
      }
      // DO NOTHING waits for a concurrent transaction holding the key; if that one rolls back we insert,
      // if it commits we read its job. The job holding the key may also finish between the two
      // statements, hence the second round.
      for (let round = 0; round < 3; round++) {
        const row = await tx
          .insertInto('jobs')
          .values(values)
          .onConflict((oc) => oc.column('dedupe_key').where(dedupeIndexPredicate).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (row) {
          const added = toJob(row);
          announce(added);
          return { job: added, created: true };
        }
        const existing = await findActiveByKey(tx, job.dedupeKey);
        if (existing) return { job: existing, created: false };
      }
      throw new ConflictError(
        `Could not enqueue a '${job.kind}' job with dedupe key '${job.dedupeKey}': the key is changing hands quickly; try again`,
        { retryable: true },
      );
    },

    async list(db, input) {
      const query = parse(listSchema, input, 'job listing');
      let select = db.selectFrom('jobs').selectAll();
      if (query.state) select = select.where('state', '=', query.state);
      if (query.kind) select = select.where('kind', '=', query.kind);
      if (query.before) select = select.where('id', '<', query.before);
      const rows = await select
        .orderBy('id', 'desc')
        .limit(query.limit + 1)
        .execute();
      const page = pageOf(rows.map(toJob), query.limit, (last) => last.id);
      return { jobs: page.items, nextCursor: page.nextCursor };
    },

    async get(db, id) {
      parse(jobIdSchema, id, 'job id');
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFoundError('Job', id);
      return toJob(row);
    },

    async retry(tx, id, ctx) {
      parse(jobIdSchema, id, 'job id');
      const row = await tx.selectFrom('jobs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw new NotFoundError('Job', id);
      if (row.state !== 'failed') {
        throw new ConflictError(
          `Job ${id} is ${row.state}, and only a failed job can be retried: ${activeStateHint(row.state)}`,
          { details: { state: row.state } },
        );
      }
      if (row.dedupe_key !== null) {
        const holder = await findActiveByKey(tx, row.dedupe_key);
        if (holder) {
          throw new ConflictError(
            `Job ${id} cannot be retried: job ${holder.id} with the same dedupe key '${row.dedupe_key}' is ${holder.state}, and it does the same work`,
            { details: { holder: holder.id } },
          );
        }
      }
      const now = clock.now();
      let updated;
      try {
        updated = await tx
          .updateTable('jobs')
          .set({
            state: 'queued',
            attempts: 0,
            run_at: now,
            locked_by: null,
            locked_until: null,
            finished_at: null,
            updated_at: now,
          })
          .where('id', '=', id)
          .where('state', '=', 'failed')
          .returningAll()
          .executeTakeFirstOrThrow();
      } catch (error) {
        if (pgErrorCode(error) === PgCode.uniqueViolation && pgConstraint(error) === 'jobs_dedupe') {
          throw new ConflictError(
            `Job ${id} cannot be retried: another job with dedupe key '${row.dedupe_key}' was just queued`,
            { cause: error },
          );
        }
        throw error;
      }
      await audit.append(tx, {
        ...ctx,
        action: 'job.retried',
        target: { type: 'job', id },
        details: { kind: row.kind, previousAttempts: row.attempts },
      });
      const job = toJob(updated);
      announce(job);
      return job;
    },
  };
}

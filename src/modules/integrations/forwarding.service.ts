import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { createHecSink, createSyslogSink, type AuditSink } from '../../adapters/sinks/audit-sinks.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store } from '../../platform/db/store.js';
import { PgCode, pgErrorCode } from '../../platform/db/store.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { createBackoff } from '../../platform/jobs/backoff.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { errorSummary, type JobHandler } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { RequestContext } from '../audit/audit.types.js';
import {
  hecSettings,
  syslogSettings,
  type CreateSinkInput,
  type SinkView,
  type UpdateSinkInput,
} from './forwarding.schemas.js';
import { forwardingStore, type SinkRecord } from './forwarding.store.js';

export const forwardJobKind = 'audit.forward';
const forwardPayload = z.object({ sinkId: z.string().uuid() });

export interface ForwardingSettings {
  /** Wait between runs of a caught-up sink. */
  pollMs: number;
  /** Events per delivery. */
  batchSize: number;
  /** Backoff of a failing sink (the same shape as the job runner's). */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface ForwardingServiceDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  audit: Pick<AuditLog, 'append' | 'after'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  secrets: SecretBox;
  logger: Logger;
  metrics?: Registry;
  settings: ForwardingSettings;
  random?: () => number;
}

export interface ForwardResult {
  delivered: number;
  cursorSeq: number;
  error?: string;
  failures: number;
}

/** Batches per run: a sink far behind catches up over several runs, letting other jobs in between. */
const MAX_BATCHES_PER_RUN = 20;
const secretContext = (id: string) => `audit-sink:${id}`;

/**
 * Audit forwarding: each sink is a follower of the audit log with its own persisted cursor. A periodic
 * job per sink reads the events after the cursor in `seq` order, delivers them as a batch and moves the
 * cursor only once the receiver took the batch. A failing receiver stops its sink at the failed batch
 * (nothing skipped) and is retried with backoff; the lag metrics show how far behind it is.
 */
export function createForwardingService(deps: ForwardingServiceDeps) {
  const { store, clock, ids, audit, jobs, secrets, settings } = deps;
  const db = store.db;
  const logger = deps.logger.child({ component: 'audit-forwarding' });
  const backoff = createBackoff({
    baseMs: settings.backoffBaseMs,
    maxMs: settings.backoffMaxMs,
    random: deps.random ?? Math.random,
  });
  const registers = deps.metrics ? [deps.metrics] : [];
  new Gauge({
    name: 'gatehouse_audit_forward_lag_events',
    help: 'Audit events appended after the last one a sink acknowledged',
    labelNames: ['sink'],
    registers,
    async collect() {
      this.reset();
      for (const row of await forwardingStore.lag(db)) this.set({ sink: row.name }, row.events);
    },
  });
  new Gauge({
    name: 'gatehouse_audit_forward_lag_seconds',
    help: 'Age of the oldest audit event a sink has not acknowledged (0 when caught up)',
    labelNames: ['sink'],
    registers,
    async collect() {
      this.reset();
      const now = clock.now().getTime();
      for (const row of await forwardingStore.lag(db)) {
        this.set({ sink: row.name }, row.oldest ? Math.max(0, (now - row.oldest.getTime()) / 1000) : 0);
      }
    },
  });

  function sinkFor(record: SinkRecord): AuditSink {
    if (record.kind === 'syslog') {
      const s = syslogSettings.parse(record.settings);
      return createSyslogSink({
        host: s.host,
        port: s.port,
        hostname: s.hostname ?? (hostname() || '-'),
        ...(s.sdId ? { sdId: s.sdId } : {}),
        ...(s.tls ? { tls: { ca: s.ca } } : {}),
      });
    }
    const s = hecSettings.parse(record.settings);
    if (!record.secretSealed) throw new Error(`sink ${record.name} has no HEC token`);
    return createHecSink({
      url: s.url,
      token: secrets.open(record.secretSealed, secretContext(record.id)),
      host: s.host ?? (hostname() || 'gatehouse'),
      index: s.index,
      source: s.source,
      sourcetype: s.sourcetype,
    });
  }

  function view(record: SinkRecord, headSeq: number): SinkView {
    return {
      id: record.id,
      name: record.name,
      kind: record.kind,
      settings: record.settings,
      hasToken: record.secretSealed !== null,
      enabled: record.enabled,
      cursorSeq: record.cursorSeq,
      lagEvents: Math.max(0, headSeq - record.cursorSeq),
      deliveredAt: record.deliveredAt,
      failures: record.failures,
      lastError: record.lastError,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  const headSeq = () => forwardingStore.headSeq(db);

  async function find(name: string): Promise<SinkRecord> {
    const record = await forwardingStore.byName(db, name);
    if (!record) throw new NotFoundError('Audit sink', name);
    return record;
  }

  /** What the audit log says about a sink: never its token or CA bundle. */
  const described = (record: SinkRecord) => {
    const { ca, ...rest } = record.settings;
    return { name: record.name, kind: record.kind, settings: { ...rest, ...(ca ? { ca: 'set' } : {}) } };
  };

  const schedule = (tx: Parameters<JobQueue['enqueue']>[0], sinkId: string) =>
    jobs.enqueue(tx, {
      kind: forwardJobKind,
      payload: { sinkId },
      dedupeKey: `${forwardJobKind}:${sinkId}`,
      maxAttempts: 1000,
    });

  /** Delivers batches after the cursor until caught up, a batch fails, or the run's share is used. */
  async function forwardOnce(sinkId: string, signal?: AbortSignal): Promise<ForwardResult> {
    const record = await forwardingStore.byId(db, sinkId);
    if (!record) throw new NotFoundError('Audit sink', sinkId);
    let cursor = record.cursorSeq;
    let delivered = 0;
    try {
      const sink = sinkFor(record);
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
        const events = await audit.after(db, cursor, settings.batchSize);
        if (events.length === 0) break;
        await sink.deliver(events, signal);
        const last = events[events.length - 1]!.seq;
        await db.transaction().execute((tx) => forwardingStore.advance(tx, sinkId, last, clock.now()));
        cursor = last;
        delivered += events.length;
        if (events.length < settings.batchSize) break;
      }
      return { delivered, cursorSeq: cursor, failures: 0 };
    } catch (error) {
      const message = errorSummary(error);
      const failures = await forwardingStore.recordFailure(db, sinkId, message);
      logger.warn({ sink: record.name, cursorSeq: cursor, failures, error: message }, 'audit sink failing');
      return { delivered, cursorSeq: cursor, error: message, failures };
    }
  }

  const jobHandlers: Record<string, JobHandler> = {
    [forwardJobKind]: async (job, context) => {
      const { sinkId } = forwardPayload.parse(job.payload);
      const record = await forwardingStore.byId(db, sinkId);
      // a removed or disabled sink's job ends; enabling it again schedules a new one
      if (!record || !record.enabled) return;
      const result = await forwardOnce(sinkId, context.signal);
      const delay = result.error ? backoff(result.failures) : settings.pollMs;
      return { requeueAt: new Date(clock.now().getTime() + delay) };
    },
  };

  return {
    jobHandlers,
    forwardOnce,

    async list(): Promise<SinkView[]> {
      const head = await headSeq();
      return (await forwardingStore.list(db)).map((r) => view(r, head));
    },

    async get(name: string): Promise<SinkView> {
      return view(await find(name), await headSeq());
    },

    async create(ctx: RequestContext, input: CreateSinkInput): Promise<SinkView> {
      const now = clock.now();
      const id = ids.uuid();
      const record: SinkRecord = {
        id,
        name: input.name,
        kind: input.kind,
        settings: input.settings,
        secretSealed: input.kind === 'splunk-hec' ? secrets.seal(input.token, secretContext(id)) : null,
        enabled: input.enabled,
        cursorSeq: 0,
        deliveredAt: null,
        failures: 0,
        lastError: null,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await forwardingStore.insert(tx, record);
          await audit.append(tx, {
            ...ctx,
            action: 'audit-sink.created',
            target: { type: 'audit-sink', id },
            details: described(record),
          });
          if (record.enabled) await schedule(tx, id);
        });
      } catch (error) {
        if (pgErrorCode(error) === PgCode.uniqueViolation) {
          throw new ConflictError(`An audit sink named '${input.name}' already exists`);
        }
        throw error;
      }
      return this.get(input.name);
    },

    async update(ctx: RequestContext, name: string, input: UpdateSinkInput): Promise<SinkView> {
      await db.transaction().execute(async (tx) => {
        const record = await forwardingStore.byName(tx, name, true);
        if (!record) throw new NotFoundError('Audit sink', name);
        if (input.token !== undefined && record.kind !== 'splunk-hec') {
          throw new ConflictError(`Sink '${name}' is ${record.kind}: it has no token`);
        }
        await forwardingStore.update(tx, record.id, {
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(input.token !== undefined
            ? { secretSealed: secrets.seal(input.token, secretContext(record.id)) }
            : {}),
          at: clock.now(),
        });
        await audit.append(tx, {
          ...ctx,
          action: 'audit-sink.updated',
          target: { type: 'audit-sink', id: record.id },
          details: {
            name,
            ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
            ...(input.token !== undefined ? { tokenReplaced: true } : {}),
          },
        });
        if (input.enabled === true) await schedule(tx, record.id);
      });
      return this.get(name);
    },

    async remove(ctx: RequestContext, name: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const record = await forwardingStore.byName(tx, name, true);
        if (!record) throw new NotFoundError('Audit sink', name);
        await forwardingStore.remove(tx, record.id);
        await audit.append(tx, {
          ...ctx,
          action: 'audit-sink.deleted',
          target: { type: 'audit-sink', id: record.id },
          details: { ...described(record), cursorSeq: record.cursorSeq },
        });
      });
    },

    /** On start: every enabled sink has its job (one lost to a crash or a failure is re-armed). */
    async start(): Promise<void> {
      const sinks = (await forwardingStore.list(db)).filter((s) => s.enabled);
      if (sinks.length === 0) return;
      await db.transaction().execute(async (tx) => {
        for (const sink of sinks) await schedule(tx, sink.id);
      });
    },
  };
}

export type ForwardingService = ReturnType<typeof createForwardingService>;

import { Counter, Gauge, type Registry } from 'prom-client';
import { createConnectorSet, type PoolSettings } from '../../adapters/connectors/index.js';
import { z } from 'zod';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store } from '../../platform/db/store.js';
import { ValidationError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { Job, JobHandler } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import { systemActor, type AuditAppender, type RequestContext } from '../audit/audit.types.js';
import { defaultGrantLimits, type GrantLimits } from './domain/grant-machine.js';
import { defaultPasswordPolicy, scramIterationsFor, type PasswordPolicy } from './domain/password.js';
import { requestStore } from './access.store.js';
import { grantStore } from './grant.store.js';
import { createGrantJobs } from './grant.jobs.js';
import { createExtensionService } from './extension.service.js';
import { createGrantService } from './grant.service.js';
import { createPolicyService } from './policy.service.js';
import { createRequestService } from './request.service.js';
import { createSweeper } from './sweep.js';
import type { AccessInventory, ConnectorLookup } from './targets.js';
import { noTickets, type AccessTickets } from './tickets.js';
import { createTransitions, jobKinds, type AlertKind } from './transitions.js';
import { createPresenter } from './views.js';

/**
 * Just-in-time access: policies, requests and reviews, grants and their credentials, the lease
 * reaper, the orphan sweeper. One service for callers, built from one part per concern; the job
 * handlers it returns are registered by the composition root.
 */

export interface AccessServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  jobs: Pick<JobQueue, 'enqueue' | 'list'>;
  secrets: Pick<SecretBox, 'seal' | 'open'>;
  inventory: AccessInventory;
  logger: Logger;
  metrics?: Registry;
  tickets?: AccessTickets;
  /** Stand-in connectors (tests); otherwise a connector set pooling admin connections per target. */
  connectors?: ConnectorLookup;
  /** Bounds of those pools (default: defaultPoolSettings). */
  connectorPools?: PoolSettings;
  /** Configured SCRAM iterations of PostgreSQL verifiers; checked against the password policy. */
  postgresScramIterations?: number | undefined;
  limits?: GrantLimits;
  passwordPolicy?: PasswordPolicy;
  sweep?: {
    /** Only accounts starting with this are swept (default `gh_`, every Gatehouse account). */
    prefix?: string;
    /** How often the orphan sweeper runs (default 10 minutes). */
    intervalMs?: number;
    /** A start within this long of the last start-up sweep's end sweeps no more (default 1 minute). */
    startupGapMs?: number;
  };
}

const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;
const DEFAULT_STARTUP_SWEEP_GAP_MS = 60_000;

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

function accessMetrics(
  registry: Registry | undefined,
  countRevocationFailed: () => Promise<number>,
  logger: Logger,
) {
  if (!registry) return { alerts: undefined };
  const alerts =
    existing<Counter<'alert'>>(registry, 'gatehouse_access_alerts_total') ??
    new Counter({
      name: 'gatehouse_access_alerts_total',
      help: 'Access alerts raised: break-glass opened, credentials without approval, revocation failed',
      labelNames: ['alert'],
      registers: [registry],
    });
  if (!existing(registry, 'gatehouse_access_revocation_failed')) {
    new Gauge({
      name: 'gatehouse_access_revocation_failed',
      help: 'Grants whose account could not be revoked within the retry limit; still being retried (alert above 0)',
      registers: [registry],
      async collect() {
        try {
          this.set(await countRevocationFailed());
        } catch (error) {
          logger.warn({ err: error }, 'could not count failed revocations for metrics');
        }
      },
    });
  }
  return { alerts };
}

const grantPayload = z.object({ grantId: z.guid() });
const requestPayload = z.object({ requestId: z.guid() });
const extensionPayload = z.object({ extensionId: z.guid() });
const sweepPayload = z.object({
  prefix: z
    .string()
    .regex(/^gh_[a-z0-9_]{0,60}$/)
    .optional(),
  periodic: z.boolean().optional(),
  startup: z.boolean().optional(),
});

function payloadOf<S extends z.ZodType>(schema: S, job: Job): z.output<S> {
  const result = schema.safeParse(job.payload);
  if (!result.success)
    throw new ValidationError(`The ${job.kind} job's payload is malformed; it cannot be run`);
  return result.data;
}

export function createAccessService(deps: AccessServiceDeps) {
  const { db } = deps.store;
  const { clock, logger } = deps;
  const tickets = deps.tickets ?? noTickets;
  // pooled admin connections per target, closed by close(); injected connectors are the caller's own
  const scramIterations = scramIterationsFor(
    deps.passwordPolicy ?? defaultPasswordPolicy,
    deps.postgresScramIterations,
  );
  const connectorSet = deps.connectors
    ? undefined
    : createConnectorSet(deps.connectorPools, { postgres: { scramIterations } });
  const connectors: ConnectorLookup = deps.connectors ?? ((engine) => connectorSet!.connectorFor(engine));
  const limits = deps.limits ?? defaultGrantLimits;
  const sweepPrefix = deps.sweep?.prefix ?? 'gh_';
  const sweepInterval = deps.sweep?.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const startupGap = deps.sweep?.startupGapMs ?? DEFAULT_STARTUP_SWEEP_GAP_MS;

  const { alerts } = accessMetrics(deps.metrics, () => grantStore.countRevocationFailed(db), logger);
  const alert = (kind: AlertKind, details: Record<string, unknown>) => {
    alerts?.inc({ alert: kind });
    logger.warn({ alert: kind, ...details }, 'access alert');
  };

  const transitions = createTransitions({
    clock,
    ids: deps.ids,
    audit: deps.audit,
    jobs: deps.jobs,
    limits,
    logger,
    alert,
  });
  const policies = createPolicyService({ store: deps.store, clock, audit: deps.audit });
  const present = createPresenter({
    inventory: deps.inventory,
    requestOf: (id) => requestStore.byId(db, id),
    grantOf: (id) => grantStore.byRequest(db, id),
  });
  const requests = createRequestService({
    store: deps.store,
    clock,
    ids: deps.ids,
    inventory: deps.inventory,
    tickets,
    policies,
    transitions,
    present,
  });
  const grants = createGrantService({
    store: deps.store,
    clock,
    secrets: deps.secrets,
    inventory: deps.inventory,
    transitions,
    present,
  });
  const extensions = createExtensionService({
    store: deps.store,
    clock,
    ids: deps.ids,
    audit: deps.audit,
    inventory: deps.inventory,
    tickets,
    policies,
    transitions,
    present,
    logger,
    alert,
  });
  const grantJobs = createGrantJobs({
    store: deps.store,
    clock,
    secrets: deps.secrets,
    inventory: deps.inventory,
    connectors,
    transitions,
    limits,
    ...(deps.passwordPolicy ? { passwordPolicy: deps.passwordPolicy } : {}),
    logger,
  });
  const sweeper = createSweeper({
    store: deps.store,
    audit: deps.audit,
    inventory: deps.inventory,
    connectors,
    logger,
  });
  const sweeperCtx: RequestContext = { actor: systemActor('orphan-sweeper') };

  tickets.onClosed((tx, ticket, ctx) => grants.onTicketClosed(tx, ticket, ctx));

  /** Not when a start-up sweep ended moments ago: a node restarting in a loop must not sweep each time. */
  async function startupSweepDue(): Promise<boolean> {
    const { jobs } = await deps.jobs.list(db, { kind: jobKinds.sweep, state: 'succeeded', limit: 1 });
    const finishedAt = jobs[0]?.finishedAt;
    return !finishedAt || clock.now().getTime() - finishedAt.getTime() >= startupGap;
  }

  const jobHandlers: Record<string, JobHandler> = {
    [jobKinds.provision]: (job) => grantJobs.provision(payloadOf(grantPayload, job).grantId),
    [jobKinds.revoke]: (job) => grantJobs.revoke(payloadOf(grantPayload, job).grantId),
    [jobKinds.setExpiry]: (job) => grantJobs.setExpiry(payloadOf(grantPayload, job).grantId),
    [jobKinds.expireRequest]: (job) => requests.expireRequest(payloadOf(requestPayload, job).requestId),
    [jobKinds.expireExtension]: (job) =>
      extensions.expireExtension(payloadOf(extensionPayload, job).extensionId),
    [jobKinds.sweep]: async (job) => {
      const { prefix, periodic } = payloadOf(sweepPayload, job);
      // the periodic run also re-arms work in flight whose job was lost (failed for good, or deleted)
      if (periodic) {
        await grantJobs.resume();
        await extensions.resume();
      }
      await sweeper(sweeperCtx, prefix ?? sweepPrefix);
      return periodic ? { requeueAt: new Date(clock.now().getTime() + sweepInterval) } : undefined;
    },
  };

  return {
    policies,
    ...requests,
    ...grants,
    ...extensions,
    /** Runs the orphan sweeper now, for an admin (API, CLI). */
    sweep: (ctx: RequestContext, prefix?: string) => sweeper(ctx, prefix ?? sweepPrefix),
    async resume() {
      const resumed = await grantJobs.resume();
      await extensions.resume();
      return resumed;
    },
    /**
     * On start: resume work in flight, sweep once now (a restored store's unknown accounts must not wait
     * for the periodic run), and make sure the periodic sweep is scheduled.
     */
    async start(): Promise<void> {
      await grantJobs.resume();
      await extensions.resume();
      const startupSweep = await startupSweepDue();
      await db.transaction().execute(async (tx) => {
        if (startupSweep) {
          // nodes starting together share one queued start-up sweep through its dedupe key
          await deps.jobs.enqueue(tx, {
            kind: jobKinds.sweep,
            payload: { startup: true },
            dedupeKey: 'access.sweep.startup',
            maxAttempts: 5,
          });
        }
        await deps.jobs.enqueue(tx, {
          kind: jobKinds.sweep,
          payload: { periodic: true },
          runAt: new Date(clock.now().getTime() + sweepInterval),
          dedupeKey: 'access.sweep',
          maxAttempts: 1000,
        });
      });
    },
    jobHandlers,
    /** Closes the admin connections to targets (after the job runner stopped). */
    close: async (): Promise<void> => {
      await connectorSet?.close();
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;

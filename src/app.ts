import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createAuditLog, type AuditLog } from './modules/audit/audit.service.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { startAuditSealer } from './modules/audit/audit.sealer.js';
import { accessRoutes } from './modules/access/access.routes.js';
import {
  createAccessService,
  type AccessService,
  type AccessServiceDeps,
} from './modules/access/access.service.js';
import { createIdentityService, type IdentityService } from './modules/identity/identity.service.js';
import { identityRoutes } from './modules/identity/identity.routes.js';
import { authRoutes } from './modules/identity/auth.routes.js';
import { createOperatorAdminService } from './modules/identity/operator-admin.service.js';
import { createPasswordAdminService } from './modules/identity/password-admin.service.js';
import { createWhereFromService } from './modules/identity/where-from.service.js';
import { createOidcService } from './modules/identity/oidc.service.js';
import { oidcRoutes } from './modules/identity/oidc.routes.js';
import { createSignInService, type SignInService } from './modules/identity/sign-in.service.js';
import { createInventoryService, type InventoryService } from './modules/inventory/inventory.service.js';
import { inventoryRoutes } from './modules/inventory/inventory.routes.js';
import { hardeningRoutes } from './modules/hardening/hardening.routes.js';
import { defaultTransports } from './modules/hardening/transports.js';
import {
  createHardeningService,
  type HardeningService,
  type HardeningServiceDeps,
} from './modules/hardening/hardening.service.js';
import {
  anyRefRoute,
  createBuiltinTracker,
  createTicketRegistry,
} from './modules/tickets/ticket-registry.js';
import { ticketRoutes } from './modules/tickets/tickets.routes.js';
import { loadCatalog } from './modules/compliance/catalog.js';
import { complianceRoutes } from './modules/compliance/compliance.routes.js';
import { createComplianceService, type ComplianceService } from './modules/compliance/compliance.service.js';
import {
  createThreatModelService,
  type ThreatModelService,
} from './modules/compliance/threat-model.service.js';
import { createEvidenceService, type EvidenceService } from './modules/compliance/evidence.service.js';
import { evidenceRoutes } from './modules/compliance/evidence.routes.js';
import { createTicketService, type TicketService } from './modules/tickets/tickets.service.js';
import type { TicketRegistry } from './modules/tickets/tickets.types.js';
import {
  createForwardingService,
  type ForwardingService,
} from './modules/integrations/forwarding.service.js';
import { forwardingRoutes } from './modules/integrations/forwarding.routes.js';
import { createNotifyService, type NotifyService } from './modules/integrations/notify.service.js';
import { notifyRoutes } from './modules/integrations/notify.routes.js';
import { createTrackerPoller, remoteTrackersFrom } from './modules/integrations/trackers.js';
import { createTrackerAdmin, type TrackerAdmin } from './modules/integrations/tracker-admin.service.js';
import { trackerAdminRoutes } from './modules/integrations/tracker-admin.routes.js';
import { identityStore } from './modules/identity/identity.store.js';
import { permissionsOf } from './modules/identity/domain/roles.js';
import { jobsRoutes } from './http/jobs.routes.js';
import { opsRoutes } from './http/ops.routes.js';
import { buildServer } from './http/server.js';
import { createCustomerScope, scopeLookups } from './http/customer-scope.js';
import type { App } from './http/types.js';
import { systemClock, systemIds, type Clock, type Ids } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { createSecretBox, createSigner, loadMasterKey, type SecretBox } from './platform/crypto.js';
import { migrate } from './platform/db/migrate.js';
import { openStore, type Store } from './platform/db/store.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createJobQueue, type JobQueue } from './platform/jobs/job-queue.js';
import { createJobRunner, type JobRunner } from './platform/jobs/job-runner.js';
import { createJobBell, listenForJobs } from './platform/jobs/job-wakeup.js';
import type { JobHandler } from './platform/jobs/job-types.js';
import { packageRoot } from './platform/paths.js';
import { createDefaultEnforcerProvider } from './adapters/enforcers/provider.js';
import { sshHostTarget } from './adapters/enforcers/nftables/ssh-host.js';
import { networkRoutes } from './modules/network/network.routes.js';
import { createNetworkService, type NetworkService } from './modules/network/network.service.js';
import { networkSettings, systemRulesFor } from './modules/network/network.settings.js';
import type { EnforcerProvider } from './modules/network/plan.service.js';

export const version = (
  JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

export interface GatehouseOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  ids?: Ids;
  /** An already-open store (tests); otherwise one is opened from the config. */
  store?: Store;
  /** The master key itself (tests); otherwise loaded or generated per the config. */
  masterKey?: Buffer;
  /** Access settings and stand-ins (tests): connectors, retry limits, sweep prefix, a ticket tracker. */
  access?: Pick<AccessServiceDeps, 'connectors' | 'limits' | 'sweep' | 'tickets' | 'passwordPolicy'>;
  /** Hardening stand-ins (tests, bench): baselines and how to reach a host. */
  hardening?: Partial<Pick<HardeningServiceDeps, 'baselines' | 'transports' | 'concurrency'>>;
  /** Network stand-ins (tests, bench): how each asset's layers are reached. */
  network?: { enforcers?: EnforcerProvider };
  /** The built web back-office; defaults to web/dist in the installation, null serves the API only. */
  webDir?: string | null;
}

export interface Gatehouse {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  metrics: Registry;
  secrets: SecretBox;
  audit: AuditLog;
  identity: IdentityService;
  signIn: SignInService;
  inventory: InventoryService;
  hardening: HardeningService;
  access: AccessService;
  network: NetworkService;
  tickets: TicketService;
  /** The SOC 2 workbench: matrix, threat models. */
  compliance: ComplianceService;
  threatModels: ThreatModelService;
  /** Automated control tests, evidence packs and reports computed from the audit log. */
  evidence: EvidenceService;
  /** Routes a ticket ref to its tracker (built-in today); access looks tickets up and hears closes here. */
  ticketRegistry: TicketRegistry;
  /** Audit forwarding to syslog and Splunk HEC: followers of the audit log with their own cursors. */
  forwarding: ForwardingService;
  /** Jira / ServiceNow trackers stored in the database (admin API), routed before the built-in one. */
  trackers: TrackerAdmin;
  /** Notifications (email, chat, signed webhooks) with retries and a dead-letter list. */
  notify: NotifyService;
  jobs: JobQueue;
  /** Starts this process's job workers (every node may run them; jobs are claimed with SKIP LOCKED). */
  startWorkers(): JobRunner;
  /** Builds the HTTP server with every module's routes (not listening yet). */
  http(): Promise<App>;
  close(): Promise<void>;
}

/** The composition root: every service is built here, by hand, from explicit dependencies. */
export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? systemIds(clock);
  const embedded = !config.databaseUrl;

  const masterKey =
    options.masterKey ??
    (() => {
      const loaded = loadMasterKey({
        masterKey: config.masterKey,
        masterKeyFile: config.masterKeyFile,
        generateAt: embedded && !config.masterKeyFile ? path.join(config.dataDir, 'master.key') : undefined,
      });
      if (loaded.generatedAt)
        logger.warn({ file: loaded.generatedAt }, 'generated a new master key; back it up');
      return loaded.key;
    })();

  const store =
    options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  try {
    const applied = await migrate(store, {
      onApply: (m) => logger.info({ version: m.version, name: m.name }, 'applying migration'),
    });
    if (applied.length > 0) logger.info({ applied }, 'store migrated');
  } catch (error) {
    if (!options.store) await store.close();
    throw error;
  }

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'gatehouse_' });
  const secrets = createSecretBox(masterKey);
  const audit = createAuditLog({
    clock,
    ids,
    signer: createSigner(masterKey),
    checkpointEvery: config.audit.checkpointEvery,
    checkpointMinutes: config.audit.checkpointMinutes,
    metrics,
  });
  const identity = createIdentityService({ store, clock, ids, audit });
  const signIn = createSignInService({
    store,
    clock,
    ids,
    audit,
    secrets,
    settings: {
      idleMinutes: config.auth.sessionIdleMinutes,
      absoluteHours: config.auth.sessionAbsoluteHours,
      lockout: { threshold: config.auth.lockoutThreshold },
    },
  });
  const inventory = createInventoryService({ store, clock, ids, audit, secrets });
  const hardening = createHardeningService({
    store,
    clock,
    ids,
    audit,
    inventory,
    operators: identity,
    transports: defaultTransports(inventory),
    ...options.hardening,
  });
  const tickets = createTicketService({ store, clock, ids, audit, operators: identity });
  // Jira / ServiceNow routes (from the configuration, then the stored ones) come before the built-in one
  const remoteTrackers = remoteTrackersFrom(config.integrations);
  const trackers = createTrackerAdmin({ store, clock, ids, audit, secrets, logger });
  await trackers.start();
  const ticketRegistry = createTicketRegistry([
    ...remoteTrackers.routes,
    trackers.route,
    anyRefRoute(createBuiltinTracker({ tickets })),
  ]);
  // a queued job wakes the runners at once: through NOTIFY on a server store (every node, at commit),
  // through an in-process bell on PGlite (see platform/jobs/job-wakeup.ts)
  const jobBell = createJobBell();
  const notifyUrl = store.kind === 'postgres' ? config.databaseUrl : undefined;
  const jobs = createJobQueue({
    clock,
    ids,
    maxAttempts: config.jobs.maxAttempts,
    audit,
    bell: jobBell,
    notify: notifyUrl !== undefined,
  });
  const access = createAccessService({
    store,
    clock,
    ids,
    audit,
    jobs,
    secrets,
    inventory,
    logger,
    metrics,
    // ticket lookups and closes go through the registry, so any tracker it routes to counts
    tickets: ticketRegistry,
    connectorPools: { maxConnections: config.connectors.poolMax, idleMs: config.connectors.poolIdleMs },
    postgresScramIterations: config.connectors.postgresScramIterations,
    ...options.access,
  });
  const compliance = createComplianceService({ store, clock, audit, catalog: loadCatalog() });
  const threatModels = createThreatModelService({ store, clock, audit });
  const evidence = createEvidenceService({
    store,
    clock,
    audit,
    // the audit checkpoint key signs pack manifests too: one public key checks both
    signer: createSigner(masterKey),
    inventory,
    compliance,
    settings: {
      removalToleranceMs: config.compliance.removalToleranceMinutes * 60_000,
      scanFrequencyMs: config.compliance.scanFrequencyHours * 3_600_000,
    },
  });
  // each module that does background work adds its handlers here, by job kind
  const network = createNetworkService({
    store,
    clock,
    ids,
    audit,
    jobs,
    inventory,
    systemRules: systemRulesFor(config.network),
    settings: networkSettings(config.network),
    enforcers:
      options.network?.enforcers ??
      createDefaultEnforcerProvider({
        quota: config.network.securityGroupRuleQuota,
        requestsPerSecond: config.network.cloudRequestsPerSecond,
        sshTarget: sshHostTarget(inventory),
      }),
  });
  const forwarding = createForwardingService({
    store,
    clock,
    ids,
    audit,
    jobs,
    secrets,
    logger,
    metrics,
    settings: {
      pollMs: config.integrations.forwardPollMs,
      batchSize: config.integrations.forwardBatchSize,
      backoffBaseMs: config.jobs.backoffBaseMs,
      backoffMaxMs: config.jobs.backoffMaxMs,
    },
  });
  const notify = createNotifyService({
    store,
    clock,
    ids,
    audit,
    jobs,
    secrets,
    logger,
    access,
    tickets: ticketRegistry,
    // recipients: operators with the permissions their roles give (read-only, for addressing)
    operators: async () =>
      (await identityStore.listOperators(store.db)).map((o) => ({
        ...o,
        permissions: permissionsOf(o.roles),
      })),
    settings: {
      pollMs: config.integrations.forwardPollMs,
      batchSize: config.integrations.forwardBatchSize,
      maxAttempts: config.integrations.notifyMaxAttempts,
      expiryLeadMinutes: config.integrations.expiryLeadMinutes,
      publicUrl: config.integrations.publicUrl,
    },
  });
  const trackerPoller = createTrackerPoller({
    store,
    clock,
    logger,
    jobs,
    registry: ticketRegistry,
    remote: [...remoteTrackers.trackers, trackers.tracker],
    access,
    pollMinutes: config.integrations.trackerPollMinutes,
  });
  const jobHandlers: Record<string, JobHandler> = {
    ...access.jobHandlers,
    ...network.jobHandlers,
    ...forwarding.jobHandlers,
    ...notify.jobHandlers,
    ...trackerPoller.jobHandlers,
  };

  return {
    config,
    logger,
    clock,
    store,
    metrics,
    secrets,
    audit,
    identity,
    signIn,
    inventory,
    hardening,
    access,
    network,
    tickets,
    compliance,
    threatModels,
    evidence,
    ticketRegistry,
    forwarding,
    trackers,
    notify,
    jobs,
    startWorkers: () => {
      const runner = createJobRunner({
        store,
        clock,
        ids,
        logger,
        audit,
        handlers: jobHandlers,
        config: config.jobs,
        workerId: `${hostname()}:${process.pid}`,
        metrics,
        bell: jobBell,
      });
      const listener = notifyUrl
        ? listenForJobs({ databaseUrl: notifyUrl, bell: jobBell, logger })
        : undefined;
      const sealer = startAuditSealer({
        store,
        audit,
        logger,
        intervalMs: config.audit.sealIntervalMs,
      });
      // grants in flight resume (and the orphan sweep is scheduled) before the first poll
      let stopped = false;
      const resumed = Promise.all([access.start(), forwarding.start(), notify.start(), trackerPoller.start()])
        .catch((error: unknown) => logger.error({ err: error }, 'could not resume access work in flight'))
        .then(() => {
          if (!stopped) runner.start();
        });
      return {
        workerId: runner.workerId,
        start: () => runner.start(),
        stop: async (stopOptions) => {
          stopped = true;
          await resumed;
          await runner.stop(stopOptions);
          await listener?.close();
          await sealer.stop();
        },
        runDue: async () => {
          await resumed;
          return runner.runDue();
        },
      };
    },
    http: () =>
      buildServer({
        logger,
        metrics,
        authenticate: (token, where) => identity.authenticate(token, where),
        authenticateSession: (secret, check) => signIn.authenticateSession(secret, check),
        rateLimitPerMinute: config.auth.rateLimitPerMinute,
        customerScope: createCustomerScope(scopeLookups(inventory, access)),
        whereFrom: createWhereFromService({
          store,
          audit,
          jumpboxes: inventory,
          allowedNetworks: config.auth.allowedNetworks,
          metricsNetworks: config.auth.metricsNetworks,
        }),
        bodyLimitBytes: config.bodyLimitBytes,
        trustedProxies: config.trustedProxies,
        version,
        ...(options.webDir === null
          ? {}
          : { webDir: options.webDir ?? path.join(packageRoot, 'web', 'dist') }),
        routes: [
          opsRoutes({ store, metrics }),
          identityRoutes({
            identity,
            operatorAdmin: createOperatorAdminService({
              store,
              clock,
              audit,
              customers: inventory,
              grants: access,
            }),
          }),
          authRoutes({
            signIn,
            passwords: createPasswordAdminService({ store, clock, audit }),
            cookies: { secure: config.auth.cookieSecure },
            oidcEnabled: config.auth.oidc !== undefined,
          }),
          ...(config.auth.oidc
            ? [
                oidcRoutes({
                  oidc: createOidcService({
                    store,
                    clock,
                    ids,
                    audit,
                    secrets,
                    settings: config.auth.oidc,
                    sessionHours: config.auth.sessionAbsoluteHours,
                  }),
                  cookies: { secure: config.auth.cookieSecure },
                }),
              ]
            : []),
          auditRoutes({ store, audit }),
          inventoryRoutes({ inventory }),
          hardeningRoutes({ hardening }),
          accessRoutes({ access }),
          networkRoutes({ network }),
          ticketRoutes({ tickets }),
          complianceRoutes({ compliance, threatModels }),
          evidenceRoutes({ evidence, compliance }),
          jobsRoutes({ store, jobs }),
          forwardingRoutes({ forwarding }),
          trackerAdminRoutes({ trackers }),
          notifyRoutes({ notify }),
        ],
      }),
    close: async () => {
      // admin connections to database targets first (they wait for calls still running)
      await access.close();
      if (!options.store) await store.close();
    },
  };
}

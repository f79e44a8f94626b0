import {
  createJiraTracker,
  createServiceNowTracker,
  type RemoteTracker,
} from '../../adapters/trackers/remote-trackers.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Executor, Store } from '../../platform/db/store.js';
import { PgCode, pgErrorCode } from '../../platform/db/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { errorSummary } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { RequestContext } from '../audit/audit.types.js';
import type { TicketClosedListener, TrackerRoute } from '../tickets/tickets.types.js';
import { claimsRef, refKeyProblem } from './domain/tracker-routes.js';
import type { CreateTrackerInput, TrackerView, UpdateTrackerInput } from './tracker-admin.schemas.js';
import { trackerStore, type TrackerRecord } from './tracker-admin.store.js';

export interface TrackerAdminDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  audit: Pick<AuditLog, 'append'>;
  secrets: SecretBox;
  logger: Logger;
  /** How old this instance's copy of the table may get before a claim reloads it (other nodes' changes). */
  refreshMs?: number;
}

const secretContext = (id: string) => `ticket-tracker:${id}`;

interface Loaded {
  record: TrackerRecord;
  tracker: RemoteTracker;
}

/**
 * Jira and ServiceNow trackers stored in the database and managed by admins. The credential is sealed
 * with the SecretBox bound to the tracker's id and never leaves the service except to the tracker's
 * own API. The ticket registry routes through `route`: it claims the refs of the stored trackers from
 * an in-memory copy of the table, reloaded after every change made here and, for changes made on another
 * node, once it is older than `refreshMs`.
 */
export function createTrackerAdmin(deps: TrackerAdminDeps) {
  const { store, clock, ids, audit, secrets } = deps;
  const db = store.db;
  const logger = deps.logger.child({ component: 'ticket-trackers' });
  const refreshMs = deps.refreshMs ?? 30_000;
  const listeners = new Set<TicketClosedListener>();
  let loaded: Loaded[] = [];
  let loadedAt = -Infinity;
  let reloading: Promise<void> | null = null;

  function build(record: TrackerRecord): RemoteTracker {
    const secret = secrets.open(record.secretSealed, secretContext(record.id));
    const tracker =
      record.kind === 'jira'
        ? createJiraTracker({
            baseUrl: record.baseUrl,
            apiVersion: record.options.apiVersion === 3 ? 3 : 2,
            credentials: record.username
              ? { email: record.username, apiToken: secret }
              : { personalAccessToken: secret },
          })
        : createServiceNowTracker({ baseUrl: record.baseUrl, user: record.username ?? '', password: secret });
    // closes seen by this tracker's poll reach whoever listens to the stored trackers
    tracker.onClosed?.(async (tx, ticket, ctx) => {
      for (const listener of listeners) await listener(tx, ticket, ctx);
    });
    return tracker;
  }

  async function reload(): Promise<void> {
    const records = await trackerStore.list(db);
    const next: Loaded[] = [];
    for (const record of records) {
      try {
        next.push({ record, tracker: build(record) });
      } catch (error) {
        logger.error({ tracker: record.name, error: errorSummary(error) }, 'stored ticket tracker unusable');
      }
    }
    loaded = next;
    loadedAt = clock.now().getTime();
  }

  function refreshIfStale(): void {
    if (reloading || clock.now().getTime() - loadedAt < refreshMs) return;
    reloading = reload()
      .catch((error: unknown) => logger.warn({ error: errorSummary(error) }, 'ticket trackers reload failed'))
      .finally(() => (reloading = null));
  }

  const owner = (ref: string) => {
    refreshIfStale();
    return loaded.find((l) => claimsRef(l.record.kind, l.record.refKeys, ref));
  };

  /** One tracker in the registry standing for every stored one. */
  const tracker: RemoteTracker = {
    name: 'stored-trackers',
    lookup: async (ref) => (await owner(ref)?.tracker.lookup(ref)) ?? null,
    comment: async (ref, text) => {
      await owner(ref)?.tracker.comment?.(ref, text);
    },
    onClosed: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async pollClosed(pollStore, refs, ctx) {
      const byTracker = new Map<RemoteTracker, string[]>();
      for (const ref of refs) {
        const found = owner(ref);
        if (found) byTracker.set(found.tracker, [...(byTracker.get(found.tracker) ?? []), ref]);
      }
      const closed: string[] = [];
      for (const [remote, mine] of byTracker) closed.push(...(await remote.pollClosed(pollStore, mine, ctx)));
      return closed;
    },
  };
  const route: TrackerRoute = { tracker, claim: (ref) => (owner(ref) ? ref : null) };

  function view(record: TrackerRecord): TrackerView {
    return {
      id: record.id,
      name: record.name,
      kind: record.kind,
      baseUrl: record.baseUrl,
      username: record.username,
      refKeys: record.refKeys,
      apiVersion: record.kind === 'jira' ? (record.options.apiVersion === 3 ? 3 : 2) : null,
      hasSecret: record.secretSealed.length > 0,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  /** What the audit log says about a tracker: never its secret. */
  const described = (record: TrackerRecord) => ({
    name: record.name,
    kind: record.kind,
    baseUrl: record.baseUrl,
    username: record.username,
    refKeys: record.refKeys,
    ...(record.kind === 'jira' ? { apiVersion: view(record).apiVersion } : {}),
  });

  /** Two trackers of a kind may not both claim a key (which one owned OPS-42 would depend on names). */
  async function checkOverlap(tx: Executor, record: TrackerRecord): Promise<void> {
    await trackerStore.lockKeys(tx);
    for (const other of await trackerStore.list(tx)) {
      if (other.id === record.id || other.kind !== record.kind) continue;
      const shared = record.refKeys.filter((k) => other.refKeys.includes(k));
      if (shared.length > 0) {
        throw new ConflictError(`Tracker '${other.name}' already routes ${shared.join(', ')}`);
      }
    }
  }

  async function find(name: string): Promise<TrackerRecord> {
    const record = await trackerStore.byName(db, name);
    if (!record) throw new NotFoundError('Ticket tracker', name);
    return record;
  }

  return {
    route,
    tracker,
    /** Loads the table (on start; afterwards every change here reloads it). */
    start: reload,

    async list(): Promise<TrackerView[]> {
      return (await trackerStore.list(db)).map(view);
    },

    async get(name: string): Promise<TrackerView> {
      return view(await find(name));
    },

    async create(ctx: RequestContext, input: CreateTrackerInput): Promise<TrackerView> {
      const now = clock.now();
      const id = ids.uuid();
      const record: TrackerRecord = {
        id,
        name: input.name,
        kind: input.kind,
        baseUrl: input.baseUrl,
        username: input.username ?? null,
        secretSealed: secrets.seal(input.secret, secretContext(id)),
        refKeys: [...new Set(input.refKeys)],
        options: input.kind === 'jira' ? { apiVersion: input.apiVersion } : {},
        createdAt: now,
        updatedAt: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await checkOverlap(tx, record);
          await trackerStore.insert(tx, record);
          await audit.append(tx, {
            ...ctx,
            action: 'ticket-tracker.created',
            target: { type: 'ticket-tracker', id },
            details: described(record),
          });
        });
      } catch (error) {
        if (pgErrorCode(error) === PgCode.uniqueViolation) {
          throw new ConflictError(`A ticket tracker named '${input.name}' already exists`);
        }
        throw error;
      }
      await reload();
      return view(record);
    },

    async update(ctx: RequestContext, name: string, input: UpdateTrackerInput): Promise<TrackerView> {
      const updated = await db.transaction().execute(async (tx) => {
        const record = await trackerStore.byName(tx, name, true);
        if (!record) throw new NotFoundError('Ticket tracker', name);
        if (record.kind === 'servicenow' && input.apiVersion !== undefined) {
          throw new ValidationError('apiVersion is a Jira setting; this tracker is ServiceNow');
        }
        if (record.kind === 'servicenow' && input.username === null) {
          throw new ValidationError('a ServiceNow tracker needs its username');
        }
        for (const key of input.refKeys ?? []) {
          const problem = refKeyProblem(record.kind, key);
          if (problem) throw new ValidationError(`refKeys: ${problem}`);
        }
        const next: TrackerRecord = {
          ...record,
          ...(input.baseUrl !== undefined ? { baseUrl: input.baseUrl } : {}),
          ...(input.username !== undefined ? { username: input.username } : {}),
          ...(input.refKeys !== undefined ? { refKeys: [...new Set(input.refKeys)] } : {}),
          ...(input.secret !== undefined
            ? { secretSealed: secrets.seal(input.secret, secretContext(record.id)) }
            : {}),
          options:
            input.apiVersion !== undefined
              ? { ...record.options, apiVersion: input.apiVersion }
              : record.options,
          updatedAt: clock.now(),
        };
        if (input.refKeys !== undefined) await checkOverlap(tx, next);
        await trackerStore.update(tx, next);
        const { secret, ...changed } = input;
        await audit.append(tx, {
          ...ctx,
          action: 'ticket-tracker.updated',
          target: { type: 'ticket-tracker', id: record.id },
          details: { name, ...changed, ...(secret !== undefined ? { secretReplaced: true } : {}) },
        });
        return next;
      });
      await reload();
      return view(updated);
    },

    async remove(ctx: RequestContext, name: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const record = await trackerStore.byName(tx, name, true);
        if (!record) throw new NotFoundError('Ticket tracker', name);
        await trackerStore.remove(tx, record.id);
        await audit.append(tx, {
          ...ctx,
          action: 'ticket-tracker.deleted',
          target: { type: 'ticket-tracker', id: record.id },
          details: described(record),
        });
      });
      await reload();
    },
  };
}

export type TrackerAdmin = ReturnType<typeof createTrackerAdmin>;

import { readFileSync } from 'node:fs';
import {
  createJiraTracker,
  createServiceNowTracker,
  type RemoteTracker,
} from '../../adapters/trackers/remote-trackers.js';
import type { Clock } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { ConfigError } from '../../platform/errors.js';
import { errorSummary, type JobHandler } from '../../platform/jobs/job-types.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { Logger } from '../../platform/logger.js';
import type { AccessService } from '../access/access.service.js';
import type { Caller } from '../access/access.types.js';
import { projectKeyRoute } from '../tickets/ticket-registry.js';
import type { TicketRegistry, TrackerRoute } from '../tickets/tickets.types.js';
import { SERVICENOW_NUMBER } from './domain/tracker-facts.js';

export interface TrackerSettings {
  jira?:
    | {
        baseUrl: string;
        apiVersion: number;
        projects: string[];
        email?: string | undefined;
        apiTokenFile?: string | undefined;
        personalAccessTokenFile?: string | undefined;
      }
    | undefined;
  servicenow?: { baseUrl: string; user: string; passwordFile: string } | undefined;
}

function secretFile(file: string, what: string): string {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${file} (${(error as Error).message})`);
  }
  if (!value) throw new ConfigError(`${what}: ${file} is empty`);
  return value;
}

/** The remote trackers the configuration names, and their routes (placed before the built-in one). */
export function remoteTrackersFrom(settings: TrackerSettings): {
  trackers: RemoteTracker[];
  routes: TrackerRoute[];
} {
  const trackers: RemoteTracker[] = [];
  const routes: TrackerRoute[] = [];
  if (settings.jira) {
    const j = settings.jira;
    const credentials = j.personalAccessTokenFile
      ? {
          personalAccessToken: secretFile(
            j.personalAccessTokenFile,
            'integrations.jira.personalAccessTokenFile',
          ),
        }
      : j.email && j.apiTokenFile
        ? { email: j.email, apiToken: secretFile(j.apiTokenFile, 'integrations.jira.apiTokenFile') }
        : undefined;
    if (!credentials) {
      throw new ConfigError(
        'integrations.jira needs email and apiTokenFile (Cloud) or personalAccessTokenFile',
      );
    }
    const jira = createJiraTracker({
      baseUrl: j.baseUrl,
      apiVersion: j.apiVersion === 3 ? 3 : 2,
      credentials,
    });
    trackers.push(jira);
    routes.push(projectKeyRoute(jira, j.projects));
  }
  if (settings.servicenow) {
    const s = settings.servicenow;
    const servicenow = createServiceNowTracker({
      baseUrl: s.baseUrl,
      user: s.user,
      password: secretFile(s.passwordFile, 'integrations.servicenow.passwordFile'),
    });
    trackers.push(servicenow);
    routes.push({ tracker: servicenow, claim: (ref) => (SERVICENOW_NUMBER.test(ref) ? ref : null) });
  }
  return { trackers, routes };
}

export const trackerPollKind = 'tickets.poll';

const pollerCaller: Caller = {
  operatorId: '00000000-0000-0000-0000-000000000000',
  username: 'ticket-poller',
  groups: [],
  permissions: new Set(['access:read']),
};

/**
 * Polls the remote tickets that active grants name; a closed one is reported to the close listeners
 * (access revokes per policy). Trackers that can call a webhook would make this faster, not different.
 */
export function createTrackerPoller(deps: {
  store: Store;
  clock: Clock;
  logger: Logger;
  jobs: Pick<JobQueue, 'enqueue'>;
  registry: Pick<TicketRegistry, 'resolve'>;
  remote: readonly RemoteTracker[];
  access: Pick<AccessService, 'listGrants'>;
  pollMinutes: number;
}) {
  const logger = deps.logger.child({ component: 'ticket-poller' });

  async function pollOnce(): Promise<string[]> {
    const refs = new Map<RemoteTracker, Set<string>>();
    let cursor: string | undefined;
    do {
      const page = await deps.access.listGrants(pollerCaller, {
        status: 'active',
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const grant of page.items) {
        if (!grant.ticket) continue;
        const owner = deps.registry.resolve(grant.ticket);
        const remote = deps.remote.find((r) => r === owner?.tracker);
        if (!remote || !owner) continue;
        const set = refs.get(remote) ?? new Set<string>();
        set.add(owner.ref);
        refs.set(remote, set);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const closed: string[] = [];
    for (const [tracker, set] of refs) {
      try {
        closed.push(
          ...(await tracker.pollClosed(deps.store, [...set], {
            actor: { type: 'system', id: null, name: `${tracker.name}-poll` },
          })),
        );
      } catch (error) {
        logger.warn({ tracker: tracker.name, error: errorSummary(error) }, 'ticket poll failed');
      }
    }
    return closed;
  }

  const jobHandlers: Record<string, JobHandler> =
    deps.remote.length === 0
      ? {}
      : {
          [trackerPollKind]: async () => {
            await pollOnce();
            return { requeueAt: new Date(deps.clock.now().getTime() + deps.pollMinutes * 60_000) };
          },
        };

  return {
    pollOnce,
    jobHandlers,
    async start(): Promise<void> {
      if (deps.remote.length === 0) return;
      await deps.store.db
        .transaction()
        .execute((tx) =>
          deps.jobs.enqueue(tx, { kind: trackerPollKind, dedupeKey: trackerPollKind, maxAttempts: 1000 }),
        );
    },
  };
}

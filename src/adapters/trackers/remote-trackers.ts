import type { TicketFacts } from '../../modules/access/domain/policy.js';
import type { RequestContext } from '../../modules/audit/audit.types.js';
import {
  JIRA_KEY,
  jiraCommentBody,
  jiraFacts,
  serviceNowFacts,
  serviceNowTable,
  type JiraIssue,
  type ServiceNowRecord,
} from '../../modules/integrations/domain/tracker-facts.js';
import type {
  TicketClosedListener,
  TicketTracker,
  Unsubscribe,
} from '../../modules/tickets/tickets.types.js';
import type { Store } from '../../platform/db/store.js';
import { GatehouseError, TransientError } from '../../platform/errors.js';

/**
 * Jira (REST v2/v3) and ServiceNow (Table API) behind the ticket tracker interface. Lookups answer
 * null only when the tracker says there is no such ticket; a refused credential is a permanent error
 * (fix the configuration), a rate limit or an outage a retryable one.
 */
export interface RemoteTracker extends TicketTracker {
  /**
   * Looks the given refs up and reports those now closed to the close listeners, each in its own
   * transaction (polling, for trackers whose webhooks cannot reach Gatehouse). Returns the closed refs.
   */
  pollClosed(store: Store, refs: readonly string[], ctx: RequestContext): Promise<string[]>;
}

interface HttpOptions {
  baseUrl: string;
  authorization: string;
  timeoutMs?: number;
}

async function call(
  what: string,
  options: HttpOptions,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: options.authorization,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      redirect: 'error',
    });
  } catch (error) {
    throw new TransientError('target_unavailable', `${what} unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.status === 401 || response.status === 403) {
    throw new GatehouseError(
      'target_unavailable',
      `${what} refused Gatehouse's credentials (${response.status}); check the tracker's user and token`,
      { retryable: false },
    );
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfter = response.headers.get('retry-after');
    throw new TransientError(
      'target_unavailable',
      `${what} answered ${response.status}${response.status === 429 ? ' (rate limited)' : ''}${retryAfter ? `; retry after ${retryAfter} s` : ''}`,
      { details: { status: response.status, ...(retryAfter ? { retryAfter } : {}) } },
    );
  }
  return { status: response.status, json };
}

function listeners() {
  const all = new Set<TicketClosedListener>();
  return {
    add(listener: TicketClosedListener): Unsubscribe {
      all.add(listener);
      return () => all.delete(listener);
    },
    async pollClosed(
      tracker: TicketTracker,
      store: Store,
      refs: readonly string[],
      ctx: RequestContext,
    ): Promise<string[]> {
      const closed: string[] = [];
      for (const ref of new Set(refs)) {
        const facts = await tracker.lookup(ref);
        if (facts?.state !== 'closed') continue;
        await store.db.transaction().execute(async (tx) => {
          for (const listener of all) {
            await listener(
              tx,
              { ...facts, state: 'closed', tracker: tracker.name, closedAt: new Date(), closedBy: null },
              ctx,
            );
          }
        });
        closed.push(ref);
      }
      return closed;
    },
  };
}

export interface JiraOptions {
  baseUrl: string;
  /** 2 (Server/Data Center, Cloud) or 3 (Cloud; comments in Atlassian Document Format). */
  apiVersion: 2 | 3;
  /** Cloud: the account's email and an API token (Basic); Server/DC: a personal access token (Bearer). */
  credentials: { email: string; apiToken: string } | { personalAccessToken: string };
}

export function createJiraTracker(options: JiraOptions): RemoteTracker {
  const http: HttpOptions = {
    baseUrl: options.baseUrl,
    authorization:
      'personalAccessToken' in options.credentials
        ? `Bearer ${options.credentials.personalAccessToken}`
        : `Basic ${Buffer.from(`${options.credentials.email}:${options.credentials.apiToken}`).toString('base64')}`,
  };
  const api = `/rest/api/${options.apiVersion}`;
  const hooks = listeners();
  const tracker: RemoteTracker = {
    name: 'jira',
    async lookup(ref): Promise<TicketFacts | null> {
      if (!JIRA_KEY.test(ref)) return null;
      const { status, json } = await call(
        'Jira',
        http,
        'GET',
        `${api}/issue/${encodeURIComponent(ref)}?fields=status,assignee`,
      );
      if (status === 404) return null;
      if (status !== 200)
        throw new TransientError('target_unavailable', `Jira answered ${status} for ${ref}`);
      return jiraFacts(ref, json as JiraIssue);
    },
    async comment(ref, text) {
      const { status } = await call(
        'Jira',
        http,
        'POST',
        `${api}/issue/${encodeURIComponent(ref)}/comment`,
        jiraCommentBody(options.apiVersion, text),
      );
      if (status !== 201 && status !== 200)
        throw new TransientError('target_unavailable', `Jira answered ${status} to a comment on ${ref}`);
    },
    onClosed: (listener) => hooks.add(listener),
    pollClosed: (store, refs, ctx) => hooks.pollClosed(tracker, store, refs, ctx),
  };
  return tracker;
}

export interface ServiceNowOptions {
  baseUrl: string;
  user: string;
  password: string;
}

export function createServiceNowTracker(options: ServiceNowOptions): RemoteTracker {
  const http: HttpOptions = {
    baseUrl: options.baseUrl,
    authorization: `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`,
  };
  const hooks = listeners();

  async function find(ref: string) {
    const table = serviceNowTable(ref);
    if (!table) return null;
    const query = new URLSearchParams({
      sysparm_query: `number=${ref}`,
      sysparm_fields: 'sys_id,number,state,active,assigned_to.user_name',
      sysparm_limit: '1',
    });
    const { status, json } = await call(
      'ServiceNow',
      http,
      'GET',
      `/api/now/table/${table}?${query.toString()}`,
    );
    if (status === 404) return null;
    if (status !== 200)
      throw new TransientError('target_unavailable', `ServiceNow answered ${status} for ${ref}`);
    const record = (json as { result?: ServiceNowRecord[] } | null)?.result?.[0];
    return record ? { table, record } : null;
  }

  const tracker: RemoteTracker = {
    name: 'servicenow',
    async lookup(ref) {
      const found = await find(ref);
      return found ? serviceNowFacts(ref, found.table, found.record) : null;
    },
    async comment(ref, text) {
      const found = await find(ref);
      if (!found?.record.sys_id) return;
      const { status } = await call(
        'ServiceNow',
        http,
        'PATCH',
        `/api/now/table/${found.table}/${encodeURIComponent(found.record.sys_id)}`,
        { work_notes: text },
      );
      if (status !== 200)
        throw new TransientError(
          'target_unavailable',
          `ServiceNow answered ${status} to work notes on ${ref}`,
        );
    },
    onClosed: (listener) => hooks.add(listener),
    pollClosed: (store, refs, ctx) => hooks.pollClosed(tracker, store, refs, ctx),
  };
  return tracker;
}

import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { DatabaseTarget } from '../../src/adapters/connectors/index.js';
import type { AccessConnector } from '../../src/modules/access/targets.js';
import { assertManagedUsername } from '../../src/adapters/connectors/index.js';
import { systemIds, type Clock } from '../../src/platform/clock.js';
import { TransientError, ValidationError } from '../../src/platform/errors.js';
import { createJobRunner, type JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createLogger } from '../../src/platform/logger.js';
import type { TicketFacts } from '../../src/modules/access/domain/policy.js';
import type { AccessTickets, TicketClosedListener } from '../../src/modules/access/tickets.js';
import type { RequestContext } from '../../src/modules/audit/audit.types.js';
import type { Store } from '../../src/platform/db/store.js';
import type { TestApp } from '../support/app.js';

/**
 * Shared by the access suites: a ticket tracker that keeps the registry's rules (a ref is found only
 * once opened; closes run their listeners inside one transaction, which fails the close if a listener
 * throws), a fleet to request access to, and a few API helpers.
 */

export function fakeTickets() {
  const tickets = new Map<string, TicketFacts>();
  const listeners: TicketClosedListener[] = [];
  const source: AccessTickets = {
    lookup: async (ref) => {
      const found = tickets.get(ref);
      return found ? { ...found } : null;
    },
    onClosed: (listener) => {
      listeners.push(listener);
    },
  };
  return {
    source,
    open(ref: string, assignee: string | null) {
      tickets.set(ref, { id: ref, state: 'open', assignee });
    },
    async close(store: Store, ref: string, ctx: RequestContext) {
      const ticket = tickets.get(ref);
      if (!ticket || ticket.state === 'closed') throw new Error(`ticket ${ref} is not open`);
      await store.db.transaction().execute(async (tx) => {
        for (const listener of listeners) await listener(tx, { ...ticket, state: 'closed' }, ctx);
      });
      ticket.state = 'closed';
    },
  };
}

/**
 * A connector that keeps accounts in memory and honours the interface's rules: create converges an
 * existing account, revoke succeeds (existed: false) when there is nothing left, names are checked,
 * a target that is down fails with a retryable error.
 */
export function fakeConnector() {
  const accounts = new Map<string, { level: string; validUntil: Date; sourceCidrs: string[] }>();
  let down = false;
  /** Account creation alone fails: retryably (the target is busy) or for good (a bad configuration). */
  let createFails: 'transient' | 'invalid' | null = null;
  const unreachable = () =>
    new TransientError(
      'target_unavailable',
      'the fake target is unreachable (ECONNREFUSED); it will be retried',
    );
  const connector: AccessConnector = {
    engines: ['postgres', 'mysql', 'mariadb'],
    validateConfig: (target) => target as DatabaseTarget,
    testConnection: async () => ({ serverVersion: 'fake' }),
    createAccount: async (target, spec) => {
      if (down || createFails === 'transient') throw unreachable();
      if (createFails === 'invalid') {
        throw new ValidationError(
          "the fake target has no role mapping for this level; check the asset's settings",
        );
      }
      assertManagedUsername(target.engine, spec.username);
      const created = !accounts.has(spec.username);
      accounts.set(spec.username, {
        level: spec.level,
        validUntil: spec.validUntil,
        sourceCidrs: spec.sourceCidrs,
      });
      return { created };
    },
    revokeAccount: async (_target, username) => {
      if (down) throw unreachable();
      return { existed: accounts.delete(username) };
    },
    accountExists: async (_target, username) => accounts.has(username),
    setAccountExpiry: async (_target, username, at) => {
      if (down) throw unreachable();
      const account = accounts.get(username);
      if (account) account.validUntil = at;
    },
    listManagedAccounts: async (_target, prefix = 'gh_') =>
      [...accounts.keys()].filter((u) => u.startsWith(prefix)).map((username) => ({ username })),
  };
  return {
    connector,
    accounts,
    setDown(value: boolean) {
      down = value;
    },
    failCreate(mode: 'transient' | 'invalid' | null) {
      createFails = mode;
    },
  };
}

/** A job runner for the access jobs that runs only when told (runDue), on the test's clock. */
export function accessRunner(t: TestApp, clock: Clock, name: string): JobRunner {
  return createJobRunner({
    store: t.gh.store,
    clock,
    ids: systemIds(clock),
    logger: createLogger({ level: 'silent' }),
    audit: t.gh.audit,
    handlers: t.gh.access.jobHandlers,
    config: t.gh.config.jobs,
    workerId: name,
    metrics: t.gh.metrics,
  });
}

/** A per-run token: test operators start with it, so their accounts start with `gh_<run>_`. */
export function runToken(): string {
  return `z${randomBytes(3).toString('hex')}`;
}

/** Calls the API and insists on the status, showing the body when it differs. */
export async function expectStatus<T = Record<string, unknown>>(
  t: TestApp,
  status: number,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<T> {
  const response = await t.call(method, url, options);
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
  return response.json<T>();
}

export interface Fleet {
  region: string;
  customer: string;
}

/** A region, a customer with a production and a staging environment. */
export async function createFleet(t: TestApp, run: string): Promise<Fleet> {
  const region = `${run}-eu`;
  const customer = `${run}-acme`;
  await expectStatus(t, 201, 'POST', '/api/v1/regions', { body: { name: region } });
  await expectStatus(t, 201, 'POST', '/api/v1/customers', { body: { name: customer } });
  for (const tier of ['production', 'staging'] as const) {
    await expectStatus(t, 201, 'POST', `/api/v1/customers/${customer}/environments`, {
      body: { name: tier, tier, region },
    });
  }
  return { region, customer };
}

export interface DatabaseAssetInput {
  name: string;
  engine: 'postgres' | 'mariadb' | 'mysql';
  host: string;
  port: number;
  admin: { username: string; password: string };
  database?: string;
  environment?: 'production' | 'staging';
}

export async function createDatabaseAsset(t: TestApp, fleet: Fleet, input: DatabaseAssetInput) {
  return expectStatus<{ id: string; name: string }>(t, 201, 'POST', '/api/v1/assets', {
    body: {
      kind: 'database',
      name: input.name,
      customer: fleet.customer,
      environment: input.environment ?? 'production',
      engine: input.engine,
      host: input.host,
      port: input.port,
      adminCredential: input.admin,
      labels: input.database ? { 'access.database': input.database } : {},
    },
  });
}

/** Dev requests, leads approve; DBAs need one dba and one security approver (quorum 2). */
export function policySet(options: { maxDuration?: string; claimOnReveal?: string } = {}) {
  const claim = options.claimOnReveal
    ? [
        {
          name: 'claim-on-reveal',
          requesterGroups: ['dev'],
          levels: ['read-only'],
          assets: { names: [options.claimOnReveal] },
          maxDuration: '2h',
          ticket: 'optional',
          approvals: { approverGroups: ['leads'] },
          autoApprove: [{ levels: ['read-only'], maxDuration: '2h', requireTicket: false }],
          clockStart: { mode: 'at-first-reveal', claimWindow: '30m' },
        },
      ]
    : [];
  return {
    policies: [
      ...claim,
      {
        name: 'dev-databases',
        requesterGroups: ['dev'],
        levels: ['read-only', 'read-write'],
        assets: { kinds: ['database'] },
        maxDuration: options.maxDuration ?? '4h',
        ticket: 'optional',
        approvals: { approverGroups: ['leads'], reviewWindow: '2h' },
        breakGlass: { allowed: true, maxDuration: '1h' },
      },
      {
        name: 'dba-production',
        requesterGroups: ['dba'],
        levels: ['read-only', 'read-write'],
        assets: { kinds: ['database'], tiers: ['production'] },
        maxDuration: '2h',
        ticket: 'required',
        approvals: { requiredGroups: ['dba', 'security'], quorum: 2 },
      },
      {
        name: 'dev-staging-auto',
        requesterGroups: ['dev'],
        levels: ['read-only'],
        assets: { kinds: ['database'], tiers: ['staging'] },
        maxDuration: '2h',
        ticket: 'optional',
        approvals: { approverGroups: ['leads'] },
        autoApprove: [{ levels: ['read-only'], maxDuration: '2h', requireTicket: false }],
      },
    ],
  };
}

export async function applyPolicies(t: TestApp, document: unknown = policySet()) {
  return expectStatus(t, 200, 'POST', '/api/v1/access/policies', { body: document });
}

export interface RequestView {
  id: string;
  status: string;
  grant: GrantView | null;
  reviews: { reviewer: string; verdict: string }[];
  tally: { approvers: number; quorum: number; satisfied: boolean; missingGroups: string[] };
  postReview: string | null;
  autoApproved: boolean;
}

export interface GrantView {
  id: string;
  status: string;
  account: string;
  notAfter: string | null;
  revealedAt: string | null;
  revealedBy: string | null;
  revocationFailed: boolean;
  attempts: { provision: number; revoke: number };
  lastError: string | null;
  endReason: string | null;
  connection: string | null;
}

export interface ExtensionView {
  id: string;
  grantId: string;
  status: string;
  requester: string;
  reason: string;
  fromNotAfter: string;
  notAfter: string;
  extendBy: string;
  capped: boolean;
  reviewDeadline: string | null;
  reviews: { reviewer: string; verdict: string; comment: string }[];
  tally: { approvers: number; quorum: number; satisfied: boolean; missingGroups: string[] };
  autoApproved: boolean;
  grant: GrantView;
}

export interface Credential {
  account: string;
  password: string;
  host: string;
  port: number;
  database: string | null;
  connection: string;
}

/** Audit actions recorded for a target, in order. */
export async function auditActions(t: TestApp, targetType: string, targetId: string): Promise<string[]> {
  const page = await expectStatus<{ items: { action: string }[] }>(
    t,
    200,
    'GET',
    `/api/v1/audit/events?targetType=${targetType}&targetId=${targetId}&limit=500`,
  );
  return page.items.map((e) => e.action).reverse();
}

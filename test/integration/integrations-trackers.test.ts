import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraTracker, createServiceNowTracker } from '../../src/adapters/trackers/remote-trackers.js';
import { identityStore } from '../../src/modules/identity/identity.store.js';
import { createTicketRegistry, projectKeyRoute } from '../../src/modules/tickets/ticket-registry.js';
import type { GatehouseError } from '../../src/platform/errors.js';
import { generateToken, hashToken } from '../../src/platform/crypto.js';
import { systemClock, systemIds } from '../../src/platform/clock.js';
import { createJobRunner } from '../../src/platform/jobs/job-runner.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  runToken,
} from './access-support.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(handler: Handler) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Jira Cloud's REST API as documented: issue with status category, 404 with errorMessages, 401, 429. */
function fakeJira() {
  const issues = new Map<string, { category: 'new' | 'indeterminate' | 'done'; assignee: string | null }>();
  const comments: { key: string; body: unknown; version: string }[] = [];
  let rateLimited = 0;
  const handler: Handler = (req, body, res) => {
    if (req.headers.authorization !== basic('bot@example.com', 'jira-api-token')) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="protected-area"' });
      return res.end('Basic authentication with passwords is deprecated.');
    }
    if (rateLimited > 0) {
      rateLimited--;
      return json(res, 429, { errorMessages: ['Rate limit exceeded.'] }, { 'retry-after': '7' });
    }
    const match = /^\/rest\/api\/(2|3)\/issue\/([^/?]+)(\/comment)?/.exec(req.url ?? '');
    const issue = match ? issues.get(decodeURIComponent(match[2]!)) : undefined;
    if (!match || !issue) {
      return json(res, 404, {
        errorMessages: ['Issue does not exist or you do not have permission to see it.'],
        errors: {},
      });
    }
    if (match[3] && req.method === 'POST') {
      comments.push({ key: match[2]!, body: JSON.parse(body), version: match[1]! });
      return json(res, 201, { id: '10000' });
    }
    json(res, 200, {
      key: match[2],
      fields: {
        status: {
          name: issue.category === 'done' ? 'Done' : 'In Progress',
          statusCategory: { key: issue.category },
        },
        assignee: issue.assignee ? { accountId: '5b10a2844c20165700ede21g', name: issue.assignee } : null,
      },
    });
  };
  return { issues, comments, handler, rateLimit: (n: number) => (rateLimited = n) };
}

/** ServiceNow's Table API: `result` arrays, dot-walked fields, 401 with an error object, 429. */
function fakeServiceNow() {
  const records = new Map<string, { sys_id: string; state: string; active: string; assignee: string }>();
  const notes: { table: string; sysId: string; body: unknown }[] = [];
  let rateLimited = 0;
  const handler: Handler = (req, body, res) => {
    if (req.headers.authorization !== basic('gatehouse.integration', 'snow-password')) {
      return json(res, 401, {
        error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
        status: 'failure',
      });
    }
    if (rateLimited > 0) {
      rateLimited--;
      return json(
        res,
        429,
        { error: { message: 'Rate limit exceeded' }, status: 'failure' },
        { 'retry-after': '3' },
      );
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const patch = /^\/api\/now\/table\/(incident|change_request)\/([0-9a-f]+)$/.exec(url.pathname);
    if (patch && req.method === 'PATCH') {
      notes.push({ table: patch[1]!, sysId: patch[2]!, body: JSON.parse(body) });
      return json(res, 200, { result: {} });
    }
    const list = /^\/api\/now\/table\/(incident|change_request)$/.exec(url.pathname);
    if (!list) return json(res, 400, { error: { message: 'Invalid table' }, status: 'failure' });
    const number = /^number=(.+)$/.exec(url.searchParams.get('sysparm_query') ?? '')?.[1] ?? '';
    const record = records.get(number);
    expect(url.searchParams.get('sysparm_fields')).toBe('sys_id,number,state,active,assigned_to.user_name');
    json(res, 200, {
      result: record
        ? [
            {
              sys_id: record.sys_id,
              number,
              state: record.state,
              active: record.active,
              'assigned_to.user_name': record.assignee,
            },
          ]
        : [],
    });
  };
  return { records, notes, handler, rateLimit: (n: number) => (rateLimited = n) };
}

async function failure(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (error) {
    return error as GatehouseError;
  }
  throw new Error('expected a failure');
}

describe('Jira and ServiceNow behind the ticket tracker interface', () => {
  const jira = fakeJira();
  const snow = fakeServiceNow();
  let jiraServer: Awaited<ReturnType<typeof serve>>;
  let snowServer: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    jiraServer = await serve(jira.handler);
    snowServer = await serve(snow.handler);
  });
  afterAll(async () => {
    await jiraServer?.close();
    await snowServer?.close();
  });

  it('Jira: status category and assignee, 404 as no ticket, 401 permanent, 429 retryable, v3 comments in ADF', async () => {
    const tracker = createJiraTracker({
      baseUrl: jiraServer.url,
      apiVersion: 3,
      credentials: { email: 'bot@example.com', apiToken: 'jira-api-token' },
    });
    jira.issues.set('OPS-1', { category: 'indeterminate', assignee: 'dana' });
    jira.issues.set('OPS-2', { category: 'done', assignee: null });
    expect(await tracker.lookup('OPS-1')).toEqual({ id: 'OPS-1', state: 'open', assignee: 'dana' });
    expect(await tracker.lookup('OPS-2')).toEqual({ id: 'OPS-2', state: 'closed', assignee: null });
    expect(await tracker.lookup('OPS-404')).toBeNull();
    expect(await tracker.lookup('not a key')).toBeNull();

    jira.rateLimit(1);
    const limited = await failure(tracker.lookup('OPS-1'));
    expect(limited.retryable).toBe(true);
    expect(limited.message).toBe('Jira answered 429 (rate limited); retry after 7 s');

    const wrong = createJiraTracker({
      baseUrl: jiraServer.url,
      apiVersion: 2,
      credentials: { email: 'bot@example.com', apiToken: 'expired' },
    });
    const refused = await failure(wrong.lookup('OPS-1'));
    expect(refused.retryable).toBe(false);
    expect(refused.message).toMatch(/Jira refused Gatehouse's credentials \(401\)/);
    expect(refused.message).not.toContain('expired');

    await tracker.comment!('OPS-1', 'Access granted: read-only on acme-db until 12:00');
    expect(jira.comments).toEqual([
      {
        key: 'OPS-1',
        version: '3',
        body: {
          body: {
            type: 'doc',
            version: 1,
            content: [
              {
                type: 'paragraph',
                content: [{ type: 'text', text: 'Access granted: read-only on acme-db until 12:00' }],
              },
            ],
          },
        },
      },
    ]);
  });

  it('ServiceNow: incident and change states, dot-walked assignee, unknown number, 401, 429, work notes', async () => {
    const tracker = createServiceNowTracker({
      baseUrl: snowServer.url,
      user: 'gatehouse.integration',
      password: 'snow-password',
    });
    snow.records.set('INC0010001', { sys_id: 'a1b2c3', state: '2', active: 'true', assignee: 'dana' });
    snow.records.set('INC0010002', { sys_id: 'a1b2c4', state: '7', active: 'false', assignee: '' });
    snow.records.set('CHG0030001', { sys_id: 'c1c2c3', state: '3', active: 'true', assignee: 'lee' });
    expect(await tracker.lookup('INC0010001')).toEqual({ id: 'INC0010001', state: 'open', assignee: 'dana' });
    expect(await tracker.lookup('INC0010002')).toEqual({ id: 'INC0010002', state: 'closed', assignee: null });
    expect(await tracker.lookup('CHG0030001')).toEqual({
      id: 'CHG0030001',
      state: 'closed',
      assignee: 'lee',
    });
    expect(await tracker.lookup('INC0099999')).toBeNull();
    expect(await tracker.lookup('PRB0000001')).toBeNull();

    snow.rateLimit(1);
    expect((await failure(tracker.lookup('INC0010001'))).retryable).toBe(true);
    const wrong = createServiceNowTracker({
      baseUrl: snowServer.url,
      user: 'gatehouse.integration',
      password: 'nope',
    });
    const refused = await failure(wrong.lookup('INC0010001'));
    expect(refused.retryable).toBe(false);
    expect(refused.message).toMatch(/ServiceNow refused Gatehouse's credentials \(401\)/);

    await tracker.comment!('INC0010001', 'Access ended');
    expect(snow.notes).toEqual([
      { table: 'incident', sysId: 'a1b2c3', body: { work_notes: 'Access ended' } },
    ]);
  });

  describe('with access', () => {
    const run = runToken();
    const target = fakeConnector();
    let t: TestApp;
    let jiraTracker: ReturnType<typeof createJiraTracker>;
    const tokens: Record<string, string> = {};

    async function operator(name: string, roles: string[], groups: string[]) {
      const created = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/operators', {
        body: { username: name, displayName: name, roles, groups },
      });
      const secret = generateToken();
      const now = new Date();
      await identityStore.insertToken(
        t.gh.store.db,
        {
          id: randomUUID(),
          operatorId: created.id,
          name: 'test',
          prefix: secret.slice(0, 10),
          roles: [],
          createdAt: now,
          expiresAt: new Date(now.getTime() + 86_400_000),
          revokedAt: null,
          lastUsedAt: null,
        },
        hashToken(secret),
      );
      return secret;
    }

    beforeAll(async () => {
      jiraTracker = createJiraTracker({
        baseUrl: jiraServer.url,
        apiVersion: 2,
        credentials: { email: 'bot@example.com', apiToken: 'jira-api-token' },
      });
      const registry = createTicketRegistry([projectKeyRoute(jiraTracker, ['JRA'])]);
      t = await createTestApp('postgres', {
        access: { tickets: registry, connectors: () => target.connector, sweep: { prefix: `gh_${run}_` } },
      });
      const fleet = await createFleet(t, run);
      await createDatabaseAsset(t, fleet, {
        name: `${run}-db`,
        engine: 'postgres',
        host: '192.0.2.10',
        port: 5432,
        admin: { username: 'postgres', password: 'x' },
      });
      await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
        body: {
          name: `${run}-jump`,
          region: fleet.region,
          address: '192.0.2.254',
          sourceCidrs: ['192.0.2.254/32'],
        },
      });
      await applyPolicies(t);
      tokens.dana = await operator(`${run}-dana`, ['requester'], ['dev']);
      tokens.lee = await operator(`${run}-lee`, ['approver'], ['leads']);
    }, 120_000);

    afterAll(async () => {
      await t?.close();
    });

    it('refuses a request citing a done Jira issue, and revokes the grant when its issue closes', async () => {
      jira.issues.set('JRA-7', { category: 'done', assignee: `${run}-dana` });
      jira.issues.set('JRA-8', { category: 'indeterminate', assignee: `${run}-dana` });
      const ask = (ticket: string) =>
        t.call('POST', '/api/v1/access/requests', {
          token: tokens.dana,
          body: { asset: `${run}-db`, level: 'read-only', duration: '1h', reason: 'fix a report', ticket },
        });
      const refused = await ask('JRA-7');
      expect(refused.statusCode).toBe(400);
      expect(refused.json<{ message: string }>().message).toMatch(
        /ticket JRA-7 is closed; link an open ticket/,
      );

      const request = await ask('JRA-8');
      expect(request.statusCode, request.body).toBe(201);
      const id = request.json<{ id: string }>().id;
      await expectStatus(t, 200, 'POST', `/api/v1/access/requests/${id}/approve`, {
        token: tokens.lee,
        body: {},
      });
      const runner = createJobRunner({
        store: t.gh.store,
        clock: systemClock,
        ids: systemIds(systemClock),
        logger: createLogger({ level: 'silent' }),
        audit: t.gh.audit,
        handlers: t.gh.access.jobHandlers,
        config: t.gh.config.jobs,
        workerId: `trackers-${run}`,
      });
      await runner.runDue();
      expect(await expectStatus(t, 200, 'GET', `/api/v1/access/requests/${id}`)).toMatchObject({
        grant: { status: 'active' },
      });

      // still open: polling changes nothing; done: the grant is revoked
      const ctx = { actor: { type: 'system' as const, id: null, name: 'jira-poll' } };
      expect(await jiraTracker.pollClosed(t.gh.store, ['JRA-8'], ctx)).toEqual([]);
      jira.issues.set('JRA-8', { category: 'done', assignee: `${run}-dana` });
      expect(await jiraTracker.pollClosed(t.gh.store, ['JRA-8'], ctx)).toEqual(['JRA-8']);
      await runner.runDue();
      expect(await expectStatus(t, 200, 'GET', `/api/v1/access/requests/${id}`)).toMatchObject({
        grant: { status: 'revoked', endReason: 'ticket-closed' },
      });
    });
  });
  describe('configured for gatehouse', () => {
    const run = runToken();
    const target = fakeConnector();
    let t: TestApp;
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-trackers-'));

    beforeAll(async () => {
      const tokenFile = path.join(dir, 'jira.token');
      writeFileSync(tokenFile, 'jira-api-token\n', { mode: 0o600 });
      t = await createTestApp('pglite', {
        config: {
          'integrations.jira': {
            baseUrl: jiraServer.url,
            projects: ['GHX'],
            email: 'bot@example.com',
            apiTokenFile: tokenFile,
          },
        },
        access: { connectors: () => target.connector, sweep: { prefix: `gh_${run}_` } },
      });
      const fleet = await createFleet(t, run);
      await createDatabaseAsset(t, fleet, {
        name: `${run}-db`,
        engine: 'postgres',
        host: '192.0.2.10',
        port: 5432,
        admin: { username: 'postgres', password: 'x' },
      });
      await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
        body: {
          name: `${run}-jump`,
          region: fleet.region,
          address: '192.0.2.254',
          sourceCidrs: ['192.0.2.254/32'],
        },
      });
      await applyPolicies(t);
    }, 120_000);

    afterAll(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('routes the project keys to Jira and the periodic poll revokes a grant whose issue is done', async () => {
      expect(t.gh.ticketRegistry.trackers()).toEqual(['jira', 'stored-trackers', 'builtin']);
      const dana = await t.operatorToken(`${run}-dana`, ['requester'], ['dev']);
      const lee = await t.operatorToken(`${run}-lee`, ['approver'], ['leads']);
      jira.issues.set('GHX-1', { category: 'done', assignee: null });
      jira.issues.set('GHX-2', { category: 'new', assignee: null });
      const ask = (ticket: string) =>
        t.call('POST', '/api/v1/access/requests', {
          token: dana,
          body: { asset: `${run}-db`, level: 'read-only', duration: '1h', reason: 'fix a report', ticket },
        });
      expect((await ask('GHX-1')).json<{ message: string }>().message).toMatch(/ticket GHX-1 is closed/);
      expect((await ask('GHX-404')).json<{ message: string }>().message).toMatch(
        /ticket GHX-404 was not found/,
      );
      const request = await ask('GHX-2');
      expect(request.statusCode, request.body).toBe(201);
      const id = request.json<{ id: string }>().id;
      await expectStatus(t, 200, 'POST', `/api/v1/access/requests/${id}/approve`, { token: lee, body: {} });
      const workers = t.gh.startWorkers();
      try {
        await workers.runDue();
        expect(await expectStatus(t, 200, 'GET', `/api/v1/access/requests/${id}`)).toMatchObject({
          grant: { status: 'active' },
        });
        // startWorkers also runs its loop: periodic jobs (the notifier, the poll) are made due now, and the
        // test waits for what they do
        const dueNow = (kind: string) =>
          t.gh.store.db
            .updateTable('jobs')
            .set({ run_at: new Date() })
            .where('kind', '=', kind)
            .where('state', '=', 'queued')
            .execute();
        const comments = () =>
          jira.comments.filter((c) => c.key === 'GHX-2').map((c) => (c.body as { body: string }).body);
        const waitFor = async (what: string, done: () => boolean | Promise<boolean>) => {
          for (let i = 0; i < 200 && !(await done()); i++) {
            await workers.runDue();
            await new Promise((r) => setTimeout(r, 25));
          }
          expect(await done(), what).toBe(true);
        };
        await dueNow('notify.follow');
        await waitFor('a comment when access is granted', () => comments().length === 1);
        expect(comments()[0]).toMatch(
          /^Gatehouse: access granted — read-only on .*-db for .*-dana until \d{4}-/,
        );

        jira.issues.set('GHX-2', { category: 'done', assignee: null });
        await dueNow('tickets.poll');
        const grantStatus = async () =>
          (await expectStatus<{ grant: { status: string } }>(t, 200, 'GET', `/api/v1/access/requests/${id}`))
            .grant.status;
        await waitFor('the grant revoked', async () => (await grantStatus()) === 'revoked');
        await dueNow('notify.follow');
        await waitFor('a comment when access ends', () => comments().length === 2);
        expect(comments()[1]).toMatch(/^Gatehouse: access ended — read-only on/);
      } finally {
        await workers.stop();
      }
      expect(await expectStatus(t, 200, 'GET', `/api/v1/access/requests/${id}`)).toMatchObject({
        grant: { status: 'revoked', endReason: 'ticket-closed' },
      });
    });
  });
});

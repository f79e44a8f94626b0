import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackerAdmin } from '../../src/modules/integrations/tracker-admin.service.js';
import { manualClock, systemIds } from '../../src/platform/clock.js';
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

/**
 * Jira's issue API on loopback: answers only to the credential it is told to expect, so a lookup that
 * succeeds proves Gatehouse opened the sealed secret and sent it.
 */
async function jiraStandIn() {
  const issues = new Map<string, 'new' | 'done'>();
  let expected = '';
  const server = createServer((req, res) => {
    if (
      req.headers.authorization !== `Basic ${Buffer.from(`bot@example.com:${expected}`).toString('base64')}`
    ) {
      res.writeHead(401);
      return res.end();
    }
    const key = /^\/rest\/api\/2\/issue\/([^/?]+)/.exec(req.url ?? '')?.[1];
    const category = key ? issues.get(decodeURIComponent(key)) : undefined;
    res.writeHead(category ? 200 : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        category
          ? { key, fields: { status: { statusCategory: { key: category } }, assignee: null } }
          : { errorMessages: ['Issue does not exist or you do not have permission to see it.'] },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issues,
    expect: (secret: string) => (expected = secret),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('ticket trackers managed through the API', () => {
  const run = runToken();
  const target = fakeConnector();
  const secret = `jira-${run}-Secr3t!`;
  const rotated = `jira-${run}-r0tated`;
  const lines: string[] = [];
  let t: TestApp;
  let jira: Awaited<ReturnType<typeof jiraStandIn>>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    jira = await jiraStandIn();
    jira.expect(secret);
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await createTestApp('postgres', {
      logger: createLogger({ level: 'trace', destination }),
      access: { connectors: () => target.connector, sweep: { prefix: `gh_${run}_` } },
    });
    const fleet = await createFleet(t, run);
    await createDatabaseAsset(t, fleet, {
      name: `${run}-db`,
      engine: 'postgres',
      host: '198.51.100.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
    });
    await applyPolicies(t);
    tokens.dana = await t.operatorToken(`${run}-dana`, ['requester'], ['dev']);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await jira?.close();
  });

  const ask = (ticket: string) =>
    t.call('POST', '/api/v1/access/requests', {
      token: tokens.dana,
      body: { asset: `${run}-db`, level: 'read-only', duration: '1h', reason: 'fix a report', ticket },
    });
  const trackerEvents = async () => {
    // in sequence order: sealed first, as the audit service's own reads are (decision 0015)
    await t.gh.audit.sealWaiting(t.gh.store.db);
    return t.gh.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', 'like', 'ticket-tracker.%')
      .orderBy('seq')
      .execute();
  };

  it('refuses bad input with 400 and non-admins with 403, changing nothing', async () => {
    const good = {
      name: 'jira-cloud',
      kind: 'jira',
      baseUrl: jira.url,
      username: 'bot@example.com',
      secret,
      refKeys: ['GHT'],
    };
    const bad: Record<string, unknown>[] = [
      { ...good, name: 'Jira Cloud' },
      { ...good, kind: 'bugzilla' },
      { ...good, baseUrl: 'ftp://jira.example' },
      { ...good, baseUrl: `http://bot:${secret}@127.0.0.1/` },
      { ...good, refKeys: ['ght'] },
      { ...good, refKeys: ['GHT; DROP TABLE ticket_trackers'] },
      { ...good, refKeys: [] },
      { ...good, secret: 'has a space' },
      { ...good, secret: undefined },
      { ...good, apiVersion: 4 },
      { ...good, extra: true },
      { ...good, kind: 'servicenow', refKeys: ['PRB'] },
      { ...good, kind: 'servicenow', username: undefined },
    ];
    for (const body of bad) {
      const res = await t.call('POST', '/api/v1/integrations/trackers', { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', requestId: expect.any(String) });
      expect(res.body).not.toContain(secret);
    }
    const created = await t.call('POST', '/api/v1/integrations/trackers', {
      token: tokens.dana,
      body: good,
    });
    expect(created.statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/integrations/trackers', { token: tokens.dana })).statusCode).toBe(
      403,
    );
    expect(await expectStatus(t, 200, 'GET', '/api/v1/integrations/trackers')).toEqual({ trackers: [] });
    expect(await trackerEvents()).toEqual([]);
  });

  it('uses a tracker at once, keeps its secret sealed and out of every answer, event and log', async () => {
    jira.issues.set('GHT-1', 'done');
    jira.issues.set('GHT-2', 'new');
    // before the tracker exists, GHT-2 is nobody's ticket (the built-in tracker has no such ticket)
    expect((await ask('GHT-2')).json<{ message: string }>().message).toMatch(/ticket GHT-2 was not found/);

    const created = await t.call('POST', '/api/v1/integrations/trackers', {
      body: {
        name: 'jira-cloud',
        kind: 'jira',
        baseUrl: jira.url,
        username: 'bot@example.com',
        secret,
        refKeys: ['GHT'],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'jira-cloud',
      kind: 'jira',
      username: 'bot@example.com',
      refKeys: ['GHT'],
      apiVersion: 2,
      hasSecret: true,
    });
    expect(created.body).not.toContain(secret);

    expect((await ask('GHT-1')).json<{ message: string }>().message).toMatch(/ticket GHT-1 is closed/);
    const request = await ask('GHT-2');
    expect(request.statusCode, request.body).toBe(201);

    // the stored column is not the secret, in any common encoding
    const { rows } = await sql<{ secret_sealed: string }>`
      SELECT secret_sealed FROM ticket_trackers WHERE name = 'jira-cloud'`.execute(t.gh.store.db);
    expect(rows).toHaveLength(1);
    const stored = rows[0]!.secret_sealed;
    for (const form of [
      secret,
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('hex'),
    ]) {
      expect(stored).not.toContain(form);
    }

    // a rotation: the old secret stops working, the new one is used at once
    const patched = await t.call('PATCH', '/api/v1/integrations/trackers/jira-cloud', {
      body: { secret: rotated },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.body).not.toContain(rotated);
    jira.expect(rotated);
    expect((await ask('GHT-1')).json<{ message: string }>().message).toMatch(/ticket GHT-1 is closed/);

    // bad changes are refused and change nothing
    for (const body of [{ refKeys: ['ops'] }, { apiVersion: 5 }, { secret: '' }, { kind: 'servicenow' }]) {
      const res = await t.call('PATCH', '/api/v1/integrations/trackers/jira-cloud', { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await t.call('PATCH', '/api/v1/integrations/trackers/nope', { body: {} })).statusCode).toBe(404);
    const duplicate = await t.call('POST', '/api/v1/integrations/trackers', {
      body: { name: 'jira-cloud', kind: 'jira', baseUrl: jira.url, secret, refKeys: ['OTHER'] },
    });
    expect(duplicate.statusCode).toBe(409);
    const overlap = await t.call('POST', '/api/v1/integrations/trackers', {
      body: { name: 'jira-two', kind: 'jira', baseUrl: jira.url, secret, refKeys: ['GHT'] },
    });
    expect(overlap.statusCode).toBe(409);

    // the periodic poll reaches stored trackers: only their closed tickets, to whoever listens
    const heard: string[] = [];
    const unsubscribe = t.gh.trackers.tracker.onClosed!(async (_tx, ticket) => {
      heard.push(`${ticket.tracker}:${ticket.id}`);
      return Promise.resolve();
    });
    const ctx = { actor: { type: 'system' as const, id: null, name: 'jira-poll' } };
    expect(await t.gh.trackers.tracker.pollClosed(t.gh.store, ['GHT-1', 'GHT-2', 'OTHER-1'], ctx)).toEqual([
      'GHT-1',
    ]);
    unsubscribe();
    expect(heard).toEqual(['jira:GHT-1']);

    // another node on the same database sees the tracker once its copy is older than refreshMs
    const clock = manualClock();
    const other = createTrackerAdmin({
      store: t.gh.store,
      clock,
      ids: systemIds(clock),
      audit: t.gh.audit,
      secrets: t.gh.secrets,
      logger: createLogger({ level: 'silent' }),
      refreshMs: 60_000,
    });
    await expectStatus(t, 201, 'POST', '/api/v1/integrations/trackers', {
      body: { name: 'jira-late', kind: 'jira', baseUrl: jira.url, secret, refKeys: ['LATE'] },
    });
    expect(other.route.claim('LATE-1')).toBeNull(); // loads for the first time, in the background
    for (let i = 0; i < 100 && other.route.claim('LATE-1') === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(other.route.claim('LATE-1')).toBe('LATE-1');
    expect((await t.call('DELETE', '/api/v1/integrations/trackers/jira-late')).statusCode).toBe(204);
    expect(other.route.claim('LATE-1')).toBe('LATE-1'); // a fresh copy is kept until refreshMs
    clock.advance(60_000);
    for (let i = 0; i < 100 && other.route.claim('LATE-1') !== null; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(other.route.claim('LATE-1')).toBeNull();

    const shown = await t.call('GET', '/api/v1/integrations/trackers/jira-cloud');
    const listed = await t.call('GET', '/api/v1/integrations/trackers');
    expect(shown.json()).toMatchObject({ refKeys: ['GHT'], apiVersion: 2, hasSecret: true });
    expect(listed.json<{ trackers: unknown[] }>().trackers).toHaveLength(1);

    const removed = await t.call('DELETE', '/api/v1/integrations/trackers/jira-cloud');
    expect(removed.statusCode).toBe(204);
    expect((await ask('GHT-1')).json<{ message: string }>().message).toMatch(/ticket GHT-1 was not found/);

    const events = await trackerEvents();
    expect(events.map((e) => e.action)).toEqual([
      'ticket-tracker.created',
      'ticket-tracker.updated',
      'ticket-tracker.created',
      'ticket-tracker.deleted',
      'ticket-tracker.deleted',
    ]);
    expect(events[1]).toMatchObject({ details: { name: 'jira-cloud', secretReplaced: true } });
    for (const text of [JSON.stringify(events), shown.body, listed.body, lines.join('')]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(rotated);
    }
    expect(lines.join('')).toContain('/api/v1/integrations/trackers');
  });
});

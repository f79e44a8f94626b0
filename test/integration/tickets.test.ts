import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/modules/audit/audit.types.js';
import { ConflictError } from '../../src/platform/errors.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

const TABLES = ['tickets', 'ticket_projects', 'audit_events'] as const;

interface AuditItem {
  seq: number;
  action: string;
  ticket: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}

describe.each(backends)('tickets API on %s', (backend) => {
  let t: TestApp;
  let aliceToken: string;

  /** A fingerprint of the ticket tables and the audit log: equal fingerprints, nothing changed. */
  async function fingerprint(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await sql<{ n: number; digest: string }>`
        SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
        FROM ${sql.table(table)} x`.execute(t.gh.store.db);
      out[table] = `${rows[0]!.n}:${rows[0]!.digest}`;
    }
    return out;
  }

  /** Calls the API and returns the body of a 2xx answer; anything else fails the test with the body. */
  async function ok(
    method: 'POST' | 'PATCH' | 'GET',
    url: string,
    body?: unknown,
    token?: string,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
  ): Promise<any> {
    const response = await t.call(method, url, { body, ...(token ? { token } : {}) });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    return response.json();
  }

  async function events(ticket: string): Promise<AuditItem[]> {
    const page = await ok('GET', `/api/v1/audit/events?ticket=${ticket}&limit=500`);
    return (page.items as AuditItem[]).sort((a, b) => a.seq - b.seq);
  }

  beforeAll(async () => {
    t = await createTestApp(backend);
    aliceToken = await t.operatorToken('alice', ['requester']);
    await t.operatorToken('bob', ['approver']);
  });
  afterAll(async () => {
    await t.close();
  });

  it('numbers tickets per project, takes a given ref, and never hands out a number already used', async () => {
    const first = await ok('POST', '/api/v1/tickets', { title: 'Rotate certificates' }, aliceToken);
    expect(first).toMatchObject({
      ref: 'OPS-1',
      project: 'OPS',
      number: 1,
      title: 'Rotate certificates',
      description: '',
      state: 'open',
      assignee: null,
      reporter: 'alice',
      closedAt: null,
      closedBy: null,
    });
    expect((await ok('POST', '/api/v1/tickets', { title: 'Second' })).ref).toBe('OPS-2');
    expect((await ok('POST', '/api/v1/tickets', { title: 'Security', project: 'SEC' })).ref).toBe('SEC-1');
    const given = await ok('POST', '/api/v1/tickets', {
      ref: 'OPS-100',
      title: '  Imported from the old tracker  ',
      description: 'line one\nline two',
      assignee: 'alice',
    });
    expect(given).toMatchObject({ ref: 'OPS-100', number: 100, assignee: 'alice' });
    expect(given.title).toBe('Imported from the old tracker');
    expect((await ok('POST', '/api/v1/tickets', { title: 'After the import' })).ref).toBe('OPS-101');
    // a lower given number leaves the counter where it is
    expect((await ok('POST', '/api/v1/tickets', { ref: 'OPS-50', title: 'Older' })).ref).toBe('OPS-50');
    expect((await ok('POST', '/api/v1/tickets', { title: 'Next' })).ref).toBe('OPS-102');
  });

  it('refuses a ref that exists with 409 and changes nothing', async () => {
    await ok('POST', '/api/v1/tickets', { ref: 'DUP-7', title: 'Original' });
    const before = await fingerprint();
    const response = await t.call('POST', '/api/v1/tickets', { body: { ref: 'DUP-7', title: 'Copy' } });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('conflict');
    expect(response.json().message).toContain('DUP-7 already exists');
    expect(await fingerprint()).toEqual(before);
  });

  it('refuses bad refs, titles, assignees and fields with 400 naming the field, and changes nothing', async () => {
    await t.gh.store.db
      .updateTable('operators')
      .set({ active: false })
      .where('username', '=', 'bob')
      .execute();
    const before = await fingerprint();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ref: 'ops-1', title: 'x' }, /body\.ref.*like "OPS-42"/],
      [{ ref: 'OPS-042', title: 'x' }, /body\.ref/],
      [{ ref: 'O-1', title: 'x' }, /body\.ref/],
      [{ ref: 'OPS-1234567890', title: 'x' }, /body\.ref/],
      [{ ref: "OPS-1'; DROP TABLE tickets; --", title: 'x' }, /body\.ref/],
      [{ project: 'ops', title: 'x' }, /body\.project/],
      [{ title: '' }, /body\.title.*blank/],
      [{ title: '   ' }, /body\.title.*blank/],
      [{ title: 'x'.repeat(201) }, /body\.title.*at most 200/],
      [{ title: 'two\nlines' }, /body\.title/],
      [{}, /body\.title/],
      [{ title: 'x', description: 'd'.repeat(4001) }, /body\.description.*at most 4000/],
      [{ title: 'x', assignee: 'Not A User' }, /body\.assignee/],
      [{ title: 'x', assignee: 'nobody' }, /^assignee: there is no operator named 'nobody'/],
      [{ title: 'x', assignee: 'bob' }, /^assignee: operator 'bob' is deactivated/],
      [{ title: 'x', ref: 'OPS-9', project: 'OPS' }, /^project: send either ref/],
      [{ title: 'x', state: 'closed' }, /unknown field 'state'/],
    ];
    for (const [body, message] of cases) {
      const response = await t.call('POST', '/api/v1/tickets', { body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().code).toBe('validation_failed');
      expect(response.json().message, JSON.stringify(body)).toMatch(message);
    }
    const patch = await t.call('PATCH', '/api/v1/tickets/OPS-1', { body: { assignee: 'nobody' } });
    expect(patch.statusCode).toBe(400);
    expect(patch.json().details).toEqual({ field: 'assignee' });
    const empty = await t.call('PATCH', '/api/v1/tickets/OPS-1', { body: {} });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/at least one field/);
    const badPath = await t.call('GET', '/api/v1/tickets/not-a-ticket');
    expect(badPath.statusCode).toBe(400);
    expect(badPath.json().message).toMatch(/^ticket: 'not-a-ticket' is neither/);
    const badCursor = await t.call('GET', '/api/v1/tickets?cursor=garbage');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().message).toMatch(/^cursor:/);
    expect(await fingerprint()).toEqual(before);
    await t.gh.store.db
      .updateTable('operators')
      .set({ active: true })
      .where('username', '=', 'bob')
      .execute();
  });

  it('shows a ticket by ref or id, and says 404 for one that does not exist', async () => {
    const byRef = await ok('GET', '/api/v1/tickets/OPS-1');
    expect(await ok('GET', `/api/v1/tickets/${byRef.id}`)).toEqual(byRef);
    const missing = await t.call('GET', '/api/v1/tickets/OPS-9999');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toContain("Ticket 'OPS-9999' does not exist");
  });

  it('changes only the fields sent, audits the names of the changed ones, and ignores a no-op', async () => {
    const created = await ok('POST', '/api/v1/tickets', { ref: 'UPD-1', title: 'Before' });
    const updated = await ok('PATCH', '/api/v1/tickets/UPD-1', {
      title: 'After',
      description: 'more words',
      assignee: 'alice',
    });
    expect(updated).toMatchObject({ title: 'After', description: 'more words', assignee: 'alice' });
    expect(await ok('GET', '/api/v1/tickets/UPD-1')).toEqual(updated);
    const noop = await ok('PATCH', '/api/v1/tickets/UPD-1', { title: 'After', assignee: 'alice' });
    expect(noop).toEqual(updated);
    const unassigned = await ok('PATCH', '/api/v1/tickets/UPD-1', { assignee: null });
    expect(unassigned.assignee).toBeNull();

    const log = await events('UPD-1');
    expect(log.map((e) => e.action)).toEqual(['ticket.created', 'ticket.updated', 'ticket.updated']);
    expect(log.every((e) => e.ticket === 'UPD-1' && e.targetId === created.id)).toBe(true);
    expect(log[1]!.details).toMatchObject({
      changed: ['title', 'description', 'assignee'],
      from: { title: 'Before', assignee: null },
      to: { title: 'After', assignee: 'alice' },
    });
    expect(log[2]!.details).toMatchObject({ changed: ['assignee'], from: { assignee: 'alice' } });
  });

  it('closes and reopens, refuses a repeated transition with 409, and audits each with the ref', async () => {
    await ok('POST', '/api/v1/tickets', { ref: 'CLS-1', title: 'Close me', assignee: 'alice' });
    const closed = await ok('POST', '/api/v1/tickets/CLS-1/close', { reason: 'done' }, aliceToken);
    expect(closed).toMatchObject({ state: 'closed', closedBy: 'alice' });
    expect(closed.closedAt).toEqual(expect.any(String));
    const before = await fingerprint();
    const again = await t.call('POST', '/api/v1/tickets/CLS-1/close', { body: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/^Ticket CLS-1 is already closed \(by alice at .*\); nothing to do/);
    expect(await fingerprint()).toEqual(before);

    // the body may be left out
    const reopened = await ok('POST', '/api/v1/tickets/CLS-1/reopen');
    expect(reopened).toMatchObject({ state: 'open', closedAt: null, closedBy: null });
    const reopenAgain = await t.call('POST', '/api/v1/tickets/CLS-1/reopen');
    expect(reopenAgain.statusCode).toBe(409);
    expect(reopenAgain.json().message).toMatch(/already open/);

    const log = await events('CLS-1');
    expect(log.map((e) => e.action)).toEqual(['ticket.created', 'ticket.closed', 'ticket.reopened']);
    expect(log[1]!.details).toMatchObject({ ref: 'CLS-1', reason: 'done', assignee: 'alice' });
    expect((await ok('GET', '/api/v1/audit/verify')).ok).toBe(true);
  });

  it('runs close listeners inside the close transaction: their writes commit with it', async () => {
    await ok('POST', '/api/v1/tickets', { ref: 'LSN-1', title: 'Listened to', assignee: 'alice' });
    const heard: unknown[] = [];
    const unsubscribe = t.gh.ticketRegistry.onClosed(async (tx, ticket, ctx) => {
      // the close is visible inside the transaction, and what the listener writes joins it
      const row = await tx
        .withTables<{ tickets: { ref: string; state: string } }>()
        .selectFrom('tickets')
        .select('state')
        .where('ref', '=', ticket.id)
        .executeTakeFirstOrThrow();
      heard.push({ ticket, state: row.state, actor: ctx.actor.name });
      await t.gh.audit.append(tx, {
        actor: systemActor('test-listener'),
        action: 'grant.revoked',
        ticket: ticket.id,
      });
    });
    try {
      await ok('POST', '/api/v1/tickets/LSN-1/close', {}, aliceToken);
    } finally {
      unsubscribe();
    }
    expect(heard).toEqual([
      {
        ticket: {
          id: 'LSN-1',
          state: 'closed',
          assignee: 'alice',
          tracker: 'builtin',
          closedAt: expect.any(Date),
          closedBy: 'alice',
        },
        state: 'closed',
        actor: 'alice',
      },
    ]);
    expect((await events('LSN-1')).map((e) => e.action)).toEqual([
      'ticket.created',
      'ticket.closed',
      'grant.revoked',
    ]);
  });

  it('rolls the close back when a listener throws: the ticket stays open, nothing is recorded', async () => {
    await ok('POST', '/api/v1/tickets', { ref: 'LSN-2', title: 'Refused close' });
    const unsubscribe = t.gh.tickets.onClosed(async (tx, ticket) => {
      await t.gh.audit.append(tx, {
        actor: systemActor('test-listener'),
        action: 'grant.revoked',
        ticket: ticket.id,
      });
      throw new ConflictError(`Cannot revoke the grants of ${ticket.id} now; try again`);
    });
    const before = await fingerprint();
    let response;
    try {
      response = await t.call('POST', '/api/v1/tickets/LSN-2/close');
    } finally {
      unsubscribe();
    }
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toBe('Cannot revoke the grants of LSN-2 now; try again');
    expect(await fingerprint()).toEqual(before);
    expect((await ok('GET', '/api/v1/tickets/LSN-2')).state).toBe('open');
    // unsubscribed: the next close goes through
    expect((await ok('POST', '/api/v1/tickets/LSN-2/close')).state).toBe('closed');
  });

  it('lists newest first with filters and cursor pages', async () => {
    await ok('POST', '/api/v1/tickets', { ref: 'LST-1', title: 'Alpha disk', assignee: 'alice' });
    await ok('POST', '/api/v1/tickets', { ref: 'LST-2', title: 'Beta 100% disk_usage' });
    await ok('POST', '/api/v1/tickets', { ref: 'LST-3', title: 'Gamma', assignee: 'alice' });
    await ok('POST', '/api/v1/tickets/LST-3/close');

    const refs = (page: { items: { ref: string }[] }) => page.items.map((i) => i.ref);
    expect(refs(await ok('GET', '/api/v1/tickets?q=LST-'))).toEqual(['LST-3', 'LST-2', 'LST-1']);
    expect(refs(await ok('GET', '/api/v1/tickets?q=lst&state=open'))).toEqual(['LST-2', 'LST-1']);
    expect(refs(await ok('GET', '/api/v1/tickets?q=LST&assignee=alice'))).toEqual(['LST-3', 'LST-1']);
    expect(refs(await ok('GET', '/api/v1/tickets?q=disk'))).toEqual(['LST-2', 'LST-1']);
    // LIKE wildcards in q are literal
    expect(refs(await ok('GET', `/api/v1/tickets?q=${encodeURIComponent('0% disk_')}`))).toEqual(['LST-2']);

    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await ok('GET', `/api/v1/tickets?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...refs(page));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    const everything = await ok('GET', '/api/v1/tickets?limit=500');
    expect(all).toEqual(refs(everything));
    expect(new Set(all).size).toBe(all.length);
    expect(pages).toBe(Math.ceil(all.length / 4) + (all.length % 4 === 0 ? 1 : 0));
  });

  it('lets every role read tickets, and refuses changes to an auditor-only token with 403', async () => {
    const auditorOwn = await t.operatorToken('audrey', ['auditor']);
    const scoped = await ok('POST', '/api/v1/tokens', { name: 'audit', roles: ['auditor'] }, auditorOwn);
    const auditor = scoped.token as string;
    expect((await t.call('GET', '/api/v1/tickets', { token: auditor })).statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/tickets/OPS-1', { token: auditor })).statusCode).toBe(200);
    const before = await fingerprint();
    for (const [method, url, body] of [
      ['POST', '/api/v1/tickets', { title: 'Not allowed' }],
      ['PATCH', '/api/v1/tickets/OPS-1', { title: 'Not allowed' }],
      ['POST', '/api/v1/tickets/OPS-1/close', {}],
    ] as const) {
      const response = await t.call(method, url, { token: auditor, body });
      expect(response.statusCode).toBe(403);
      expect(response.json().message).toContain('tickets:write');
    }
    expect(await fingerprint()).toEqual(before);
    expect((await t.call('GET', '/api/v1/tickets', { token: null })).statusCode).toBe(401);
  });

  it('answers the access policy through the registry: TicketFacts for built-in tickets, null otherwise', async () => {
    const registry = t.gh.ticketRegistry;
    // no tracker stored yet: the stored trackers' route claims nothing and the built-in tracker answers
    expect(registry.trackers()).toEqual(['stored-trackers', 'builtin']);
    await ok('POST', '/api/v1/tickets', { ref: 'FCT-1', title: 'Facts', assignee: 'alice' });
    expect(await registry.lookup('FCT-1')).toEqual({ id: 'FCT-1', state: 'open', assignee: 'alice' });
    await ok('POST', '/api/v1/tickets/FCT-1/close');
    expect(await registry.lookup('FCT-1')).toEqual({ id: 'FCT-1', state: 'closed', assignee: 'alice' });
    expect(await registry.lookup('FCT-2')).toBeNull();
    const { id } = await ok('GET', '/api/v1/tickets/FCT-1');
    // only refs name tickets to trackers; ids and malformed refs find nothing
    for (const ref of [id, 'fct-1', 'FCT-01', '', "FCT-1' OR '1'='1"])
      expect(await registry.lookup(ref)).toBeNull();
    expect(registry.resolve('FCT-1')).toMatchObject({ ref: 'FCT-1', tracker: { name: 'builtin' } });
    await registry.comment('FCT-1', 'the built-in tracker takes no comments; this does nothing');
  });

  it('describes its routes in the OpenAPI document', async () => {
    const document = (await t.call('GET', '/api/openapi.json', { token: null })).json();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tickets',
        '/api/v1/tickets/{ref}',
        '/api/v1/tickets/{ref}/close',
        '/api/v1/tickets/{ref}/reopen',
      ]),
    );
  });
});

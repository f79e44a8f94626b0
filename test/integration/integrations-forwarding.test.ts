import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/platform/canonical-json.js';
import { systemClock, systemIds } from '../../src/platform/clock.js';
import { createJobRunner } from '../../src/platform/jobs/job-runner.js';
import { createLogger } from '../../src/platform/logger.js';
import { hashEvent } from '../../src/modules/audit/domain/chain.js';
import type { AuditEvent } from '../../src/modules/audit/audit.types.js';
import { eventBody } from '../../src/modules/integrations/domain/forward-format.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createRsyslog, parseSyslogLine, type Rsyslog } from '../support/rsyslog.js';
import { backends } from '../support/stores.js';

async function storedEvents(t: TestApp): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const event of t.gh.audit.stream(t.gh.store.db)) out.push(event);
  return out;
}

async function openTickets(t: TestApp, count: number, label: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await t.call('POST', '/api/v1/tickets', { body: { title: `${label} ${i} — "quoted" ] é` } });
    expect(res.statusCode, res.body).toBe(201);
  }
}

describe('audit forwarding to a real rsyslog', () => {
  let t: TestApp;
  let rsyslog: Rsyslog;

  beforeAll(async () => {
    t = await createTestApp('postgres', { config: { 'integrations.forwardBatchSize': 4 } });
    rsyslog = await createRsyslog();
    await rsyslog.start();
  });
  afterAll(async () => {
    await rsyslog?.dispose();
    await t?.close();
  });

  it('receives every event exactly as stored, in order, across an outage of the receiver', async () => {
    await openTickets(t, 3, 'before');
    const created = await t.call('POST', '/api/v1/integrations/sinks', {
      body: {
        name: 'siem',
        kind: 'syslog',
        settings: { host: '127.0.0.1', port: rsyslog.port, hostname: 'gh-test' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const sinkId = created.json<{ id: string }>().id;

    // the job the sink scheduled delivers what is there
    const runner = createJobRunner({
      store: t.gh.store,
      clock: systemClock,
      ids: systemIds(systemClock),
      logger: createLogger({ level: 'silent' }),
      audit: t.gh.audit,
      handlers: t.gh.forwarding.jobHandlers,
      config: t.gh.config.jobs,
      workerId: 'forwarding-test',
    });
    const run = await runner.runDue();
    expect(run.requeued).toBe(1);
    const headBefore = (await storedEvents(t)).at(-1)!.seq;
    await expect(t.gh.forwarding.get('siem')).resolves.toMatchObject({ cursorSeq: headBefore, lagEvents: 0 });

    // the receiver goes away: the sink stops at the failed batch and shows its lag
    await rsyslog.stop();
    await openTickets(t, 5, 'during');
    const failed = await t.gh.forwarding.forwardOnce(sinkId);
    expect(failed.error).toMatch(/ECONNREFUSED/);
    expect(failed.cursorSeq).toBe(headBefore);
    const during = await t.call('GET', '/api/v1/integrations/sinks/siem');
    expect(during.json()).toMatchObject({ cursorSeq: headBefore, lagEvents: 5, failures: 1 });
    expect(during.json<{ lastError: string }>().lastError).toMatch(/ECONNREFUSED/);
    const metrics = await t.call('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/gatehouse_audit_forward_lag_events\{sink="siem"\} 5/);
    expect(metrics.body).toMatch(/gatehouse_audit_forward_lag_seconds\{sink="siem"\} \d/);

    // it comes back: the sink resumes at the first event it missed
    await rsyslog.start();
    await openTickets(t, 4, 'after');
    let result = await t.gh.forwarding.forwardOnce(sinkId);
    while (result.delivered > 0 && !result.error && (await t.gh.forwarding.get('siem')).lagEvents > 0) {
      result = await t.gh.forwarding.forwardOnce(sinkId);
    }
    expect(result.error).toBeUndefined();

    const stored = await storedEvents(t);
    expect((await t.gh.forwarding.get('siem')).cursorSeq).toBe(stored.at(-1)!.seq);
    await rsyslog.stop(); // flushes its output
    const lines = rsyslog.received().map(parseSyslogLine);
    const bySeq = new Map<number, (typeof lines)[number]>();
    for (const line of lines) bySeq.set(Number(line.sd.seq), line);
    // at least once, in order: every stored event arrived, first arrivals in seq order
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(stored.map((e) => e.seq));
    const firstArrivals = [...new Set(lines.map((l) => Number(l.sd.seq)))];
    expect(firstArrivals).toEqual(stored.map((e) => e.seq));
    for (const event of stored) {
      const line = bySeq.get(event.seq)!;
      expect(line.pri).toBe('110');
      expect(line.sd).toEqual({
        id: event.id,
        seq: String(event.seq),
        hash: event.hash,
        prevHash: event.prevHash,
        action: event.action,
      });
      expect(line.msg).toBe(canonicalJson(eventBody(event)));
      // the receiver can recompute the chain from what it got
      const parsed = JSON.parse(line.msg) as Omit<AuditEvent, 'occurredAt'> & { occurredAt: string };
      const { hash, ...rest } = { ...parsed, occurredAt: new Date(parsed.occurredAt) };
      expect(hashEvent(rest)).toBe(hash);
    }
    // quotes, brackets and non-ASCII in details arrive intact
    expect(lines.some((l) => l.msg.includes('\\"quoted\\" ] é'))).toBe(true);
  });
});

interface HecRequest {
  authorization: string | undefined;
  events: { time: number; host: string; sourcetype: string; event: Record<string, unknown> }[];
}

/** A loopback HTTP server answering as Splunk's HEC documents: 401/403 for tokens, 503 when busy, 200 Success. */
async function fakeHec(token: string) {
  const requests: HecRequest[] = [];
  let busy = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.url !== '/services/collector/event')
        return reply(404, { text: 'The requested URL was not found', code: 404 });
      const auth = req.headers.authorization;
      if (!auth) return reply(401, { text: 'Token is required', code: 2 });
      if (auth !== `Splunk ${token}`) return reply(403, { text: 'Invalid token', code: 4 });
      if (busy > 0) {
        busy--;
        return reply(503, { text: 'Server is busy', code: 9 });
      }
      const events = body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HecRequest['events'][number]);
      requests.push({ authorization: auth, events });
      reply(200, { text: 'Success', code: 0 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setBusy: (n: number) => (busy = n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(backends)('audit forwarding to Splunk HEC and the sinks API on %s', (backend) => {
  let t: TestApp;
  let hec: Awaited<ReturnType<typeof fakeHec>>;
  const token = '8c5b6f1e-0d7a-4c55-9a39-3c3f1d2e7b10';

  beforeAll(async () => {
    t = await createTestApp(backend);
    hec = await fakeHec(token);
  });
  afterAll(async () => {
    await hec?.close();
    await t?.close();
  });

  it('stops at a refused token, resumes with the right one, and never shows the token', async () => {
    await openTickets(t, 2, 'hec');
    const created = await t.call('POST', '/api/v1/integrations/sinks', {
      body: {
        name: 'splunk',
        kind: 'splunk-hec',
        settings: { url: hec.url, sourcetype: 'gatehouse:audit' },
        token: 'wrong-token',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const sinkId = created.json<{ id: string }>().id;

    const refused = await t.gh.forwarding.forwardOnce(sinkId);
    expect(refused.error).toBe('HEC answered 403: Invalid token (code 4)');
    expect(refused.cursorSeq).toBe(0);

    const patched = await t.call('PATCH', '/api/v1/integrations/sinks/splunk', { body: { token } });
    expect(patched.statusCode, patched.body).toBe(200);
    hec.setBusy(1);
    const busy = await t.gh.forwarding.forwardOnce(sinkId);
    expect(busy.error).toBe('HEC answered 503: Server is busy (code 9)');
    const ok = await t.gh.forwarding.forwardOnce(sinkId);
    expect(ok.error).toBeUndefined();

    const stored = await storedEvents(t);
    const seqs = hec.requests.flatMap((r) => r.events.map((e) => e.event.seq));
    expect(seqs).toEqual(stored.map((e) => e.seq));
    for (const [i, sent] of hec.requests.flatMap((r) => r.events).entries()) {
      expect(sent.event).toEqual(JSON.parse(canonicalJson(eventBody(stored[i]!))));
      expect(sent.time).toBe(stored[i]!.occurredAt.getTime() / 1000);
      expect(sent.sourcetype).toBe('gatehouse:audit');
    }

    const listed = await t.call('GET', '/api/v1/integrations/sinks');
    expect(listed.json()).toMatchObject({ sinks: [{ name: 'splunk', hasToken: true, lagEvents: 0 }] });
    const everything = JSON.stringify(await storedEvents(t)) + listed.body + created.body + patched.body;
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('wrong-token');
    const actions = (await storedEvents(t)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['audit-sink.created', 'audit-sink.updated']));
  });

  it('refuses bad input and non-admins with a 4xx and changes nothing', async () => {
    const before = await storedEvents(t);
    const approver = await t.operatorToken(`appr-${backend}`, ['approver']);
    const afterOperator = await storedEvents(t);
    const cases = [
      { name: 'BAD NAME', kind: 'syslog', settings: { host: '127.0.0.1', port: 514 } },
      { name: 'x', kind: 'syslog', settings: { host: '127.0.0.1', port: 70000 } },
      { name: 'x', kind: 'syslog', settings: { host: 'a;rm -rf /', port: 514 } },
      { name: 'x', kind: 'splunk-hec', settings: { url: 'ftp://x' }, token: 't' },
      { name: 'x', kind: 'splunk-hec', settings: { url: 'https://user:pw@splunk.example' }, token: 't' },
      { name: 'x', kind: 'splunk-hec', settings: { url: 'https://splunk.example' } },
      { name: 'x', kind: 'kafka', settings: {} },
    ];
    for (const body of cases) {
      const res = await t.call('POST', '/api/v1/integrations/sinks', { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    const forbidden = await t.call('POST', '/api/v1/integrations/sinks', {
      token: approver,
      body: { name: 'x', kind: 'syslog', settings: { host: '127.0.0.1', port: 514 } },
    });
    expect(forbidden.statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/integrations/sinks', { token: approver })).statusCode).toBe(403);
    const duplicate = await t.call('POST', '/api/v1/integrations/sinks', {
      body: { name: 'splunk', kind: 'syslog', settings: { host: '127.0.0.1', port: 514 } },
    });
    expect(duplicate.statusCode).toBe(409);
    expect((await t.call('DELETE', '/api/v1/integrations/sinks/nope')).statusCode).toBe(404);
    expect((await storedEvents(t)).length).toBe(afterOperator.length);
    expect(afterOperator.length).toBeGreaterThan(before.length);

    const removed = await t.call('DELETE', '/api/v1/integrations/sinks/splunk');
    expect(removed.statusCode).toBe(204);
    expect((await storedEvents(t)).at(-1)!.action).toBe('audit-sink.deleted');
  });
});

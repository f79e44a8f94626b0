import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityStore } from '../../src/modules/identity/identity.store.js';
import { verifyWebhook } from '../../src/modules/integrations/domain/notices.js';
import { generateToken, hashToken } from '../../src/platform/crypto.js';
import { systemClock, systemIds } from '../../src/platform/clock.js';
import { createJobRunner, type JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  fakeTickets,
  runToken,
} from './access-support.js';

const SMTP_USER = 'gatehouse-mailer';
const SMTP_PASSWORD = 'smtp-Pa55word-never-shown';
const WEBHOOK_SECRET = 'whsec-0123456789abcdef-never-shown';
const SLACK_PATH = '/slack/T000/B000/XXXXSECRETXXXX';
const DB_ADMIN_PASSWORD = 'db-admin-S3cret-never-shown';

interface Mail {
  from: string;
  to: string[];
  raw: string;
  secured: boolean;
  user: string | undefined;
}

/** A self-signed certificate for 127.0.0.1, so that the SMTP server offers STARTTLS. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-smtp-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('notifications: email, chat and signed webhooks with retries and a dead-letter list', () => {
  const run = runToken();
  const user = (name: string) => `${run}-${name}`;
  const tickets = fakeTickets();
  const target = fakeConnector();
  let t: TestApp;
  let runner: JobRunner;
  let smtp: SMTPServer;
  let smtpPort: number;
  let http: Server;
  let base: string;
  let cert: { key: string; cert: string };
  const mails: Mail[] = [];
  const hooks: { path: string; delivery: string; body: string; verified: boolean; status: number }[] = [];
  const tokens: Record<string, string> = {};
  let asset: string;
  let staging: string;

  /** An operator with an email address and a token of their own. */
  async function operator(name: string, roles: string[], groups: string[], email?: string): Promise<string> {
    const created = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/operators', {
      body: { username: user(name), displayName: name, roles, groups, ...(email ? { email } : {}) },
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

  /** Follows the audit log, then runs delivery jobs until none is pending. */
  async function deliverAll(): Promise<void> {
    await t.gh.notify.followOnce();
    for (let i = 0; i < 400; i++) {
      await runner.runDue();
      const pending = await t.call('GET', '/api/v1/integrations/notifications?state=pending');
      if (pending.json<{ items: unknown[] }>().items.length === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    const left = await t.call('GET', '/api/v1/integrations/notifications?state=pending');
    throw new Error(`notifications still pending: ${left.body}`);
  }

  beforeAll(async () => {
    cert = selfSigned();
    smtp = new SMTPServer({
      secure: false,
      key: cert.key,
      cert: cert.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD)
          return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString()));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            secured: session.secure,
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;

    const failures = new Map<string, number>();
    http = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const delivery = String(req.headers['x-gatehouse-delivery'] ?? '');
        const verified = verifyWebhook(
          WEBHOOK_SECRET,
          {
            signature: req.headers['x-gatehouse-signature'] as string,
            timestamp: req.headers['x-gatehouse-timestamp'] as string,
          },
          body,
          Math.floor(Date.now() / 1000),
        );
        let status = 200;
        if (req.url === '/flaky') {
          const seen = failures.get(delivery) ?? 0;
          failures.set(delivery, seen + 1);
          if (seen < 3) status = 500;
        }
        if (req.url === '/down') status = 503;
        if ((req.url === '/ok' || req.url === '/flaky') && !verified) status = 401;
        hooks.push({ path: req.url ?? '', delivery, body, verified, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    t = await createTestApp('postgres', {
      config: {
        'jobs.backoffBaseMs': 5,
        'jobs.backoffMaxMs': 20,
        'integrations.notifyMaxAttempts': 5,
        'integrations.expiryLeadMinutes': 120,
      },
      access: {
        tickets: tickets.source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    runner = createJobRunner({
      store: t.gh.store,
      clock: systemClock,
      ids: systemIds(systemClock),
      logger: createLogger({ level: 'silent' }),
      audit: t.gh.audit,
      // one runner for every job kind the scenario queues (a runner fails a job it has no handler for)
      handlers: { ...t.gh.access.jobHandlers, ...t.gh.notify.jobHandlers },
      config: t.gh.config.jobs,
      workerId: `notify-${run}`,
    });
    const fleet = await createFleet(t, run);
    asset = (
      await createDatabaseAsset(t, fleet, {
        name: `${run}-prod-db`,
        engine: 'postgres',
        host: '192.0.2.10',
        port: 5432,
        admin: { username: 'postgres', password: DB_ADMIN_PASSWORD },
      })
    ).name;
    staging = (
      await createDatabaseAsset(t, fleet, {
        name: `${run}-stg-db`,
        engine: 'postgres',
        host: '192.0.2.11',
        port: 5432,
        admin: { username: 'postgres', password: DB_ADMIN_PASSWORD },
        environment: 'staging',
      })
    ).name;
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: {
        name: `${run}-jump`,
        region: fleet.region,
        address: '192.0.2.254',
        sourceCidrs: ['192.0.2.254/32'],
      },
    });
    await applyPolicies(t);
    tokens.dana = await operator('dana', ['requester'], ['dev'], 'dana@example.com');
    tokens.lee = await operator('lee', ['approver'], ['leads'], 'Lee@Example.com');
    tokens.lou = await operator('lou', ['approver'], ['leads'], 'lou@example.com');
    tokens.lara = await operator('lara', ['approver'], ['dev', 'leads'], 'lara@example.com');
    tokens.nat = await operator('nat', ['approver'], ['network'], 'nat@example.com');
    tokens.ray = await operator('ray', ['requester'], ['leads'], 'ray@example.com');
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  });

  it('tells the approvers who can act by email over STARTTLS, the requester of the decision, chat and webhooks, with no secret', async () => {
    const channels = [
      {
        name: 'mail',
        kind: 'email',
        settings: {
          host: '127.0.0.1',
          port: smtpPort,
          requireTls: true,
          user: SMTP_USER,
          from: 'gatehouse@example.com',
          ca: cert.cert,
        },
        password: SMTP_PASSWORD,
      },
      { name: 'hooks', kind: 'webhook', settings: { url: `${base}/ok` }, secret: WEBHOOK_SECRET },
      {
        name: 'flaky',
        kind: 'webhook',
        settings: { url: `${base}/flaky` },
        secret: WEBHOOK_SECRET,
        notices: ['request-created'],
      },
      {
        name: 'down',
        kind: 'webhook',
        settings: { url: `${base}/down` },
        secret: WEBHOOK_SECRET,
        notices: ['request-created'],
      },
      { name: 'chat', kind: 'slack', url: `${base}${SLACK_PATH}`, notices: ['request-created'] },
      { name: 'teams', kind: 'teams', url: `${base}/teams`, notices: ['request-approved'] },
    ];
    for (const body of channels)
      await expectStatus(t, 201, 'POST', '/api/v1/integrations/channels', { body });
    // lou does not want request mail; nat is an approver, but not of this policy; ray is in leads but may not review
    await expectStatus(t, 200, 'PUT', '/api/v1/integrations/preferences', {
      token: tokens.lou,
      body: { muted: ['request-created'] },
    });

    const request = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/access/requests', {
      token: tokens.dana,
      body: { asset, level: 'read-only', duration: '1h', reason: 'investigate slow queries' },
    });
    await deliverAll();

    const requestMail = mails.find((m) => m.raw.includes('requests read-only access'));
    expect(requestMail, JSON.stringify(mails.map((m) => m.to))).toBeDefined();
    expect(requestMail!.to.sort()).toEqual(['lara@example.com', 'lee@example.com']);
    expect(requestMail!.from).toBe('gatehouse@example.com');
    expect(requestMail!.secured).toBe(true);
    expect(requestMail!.user).toBe(SMTP_USER);
    expect(requestMail!.raw).toMatch(/Content-Type: text\/plain/);
    expect(requestMail!.raw).toMatch(/Content-Type: text\/html/);
    expect(requestMail!.raw).toContain(asset);
    expect(requestMail!.raw).toContain(request.id);

    await expectStatus(t, 200, 'POST', `/api/v1/access/requests/${request.id}/approve`, {
      token: tokens.lee,
      body: { comment: 'ok' },
    });
    await deliverAll();
    const approvedMail = mails.find((m) => m.raw.includes('was approved'));
    expect(approvedMail?.to).toEqual(['dana@example.com']);

    // the generic webhook verified every signature; chat got Slack's and Teams' shapes
    const ok = hooks.filter((h) => h.path === '/ok');
    expect(ok.map((h) => JSON.parse(h.body).notice as string).sort()).toEqual([
      'request-approved',
      'request-created',
    ]);
    expect(ok.every((h) => h.verified && h.status === 200)).toBe(true);
    const slack = JSON.parse(hooks.find((h) => h.path === SLACK_PATH)!.body) as {
      text: string;
      blocks: unknown[];
    };
    expect(slack.text).toContain('requests read-only access');
    expect(slack.blocks.length).toBeGreaterThan(0);
    const teams = JSON.parse(hooks.find((h) => h.path === '/teams')!.body) as {
      type: string;
      attachments: { contentType: string; content: { type: string } }[];
    };
    expect(teams).toMatchObject({
      type: 'message',
      attachments: [
        { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } },
      ],
    });

    // no secret in anything sent, shown or audited
    const audit = await expectStatus<{ items: unknown[] }>(t, 200, 'GET', '/api/v1/audit/events?limit=500');
    expect(audit.items.length).toBeGreaterThan(10);
    const channelsShown = await t.call('GET', '/api/v1/integrations/channels');
    const everything = [
      ...mails.map((m) => m.raw),
      ...hooks.map((h) => h.body),
      JSON.stringify(audit),
      channelsShown.body,
    ].join('\n');
    for (const secret of [
      SMTP_PASSWORD,
      WEBHOOK_SECRET,
      SLACK_PATH,
      DB_ADMIN_PASSWORD,
      ...Object.values(tokens),
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('retries a receiver that fails 3 times (delivered on the 4th try) and dead-letters one that always fails', async () => {
    const flaky = hooks.filter((h) => h.path === '/flaky');
    expect(flaky.map((h) => h.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(flaky.map((h) => h.delivery)).size).toBe(1);

    expect(hooks.filter((h) => h.path === '/down')).toHaveLength(5);
    const dead = await expectStatus<{
      items: { id: string; channel: string; attempts: number; lastError: string; state: string }[];
    }>(t, 200, 'GET', '/api/v1/integrations/notifications');
    expect(dead.items).toHaveLength(1);
    expect(dead.items[0]).toMatchObject({ channel: 'down', attempts: 5, state: 'dead' });
    expect(dead.items[0]!.lastError).toMatch(/answered 503/);

    // admins only; a retry starts a fresh series and is audited
    const forbidden = await t.call('GET', '/api/v1/integrations/notifications', { token: tokens.lee });
    expect(forbidden.statusCode).toBe(403);
    const retried = await expectStatus<{ state: string }>(
      t,
      200,
      'POST',
      `/api/v1/integrations/notifications/${dead.items[0]!.id}/retry`,
    );
    expect(retried.state).toBe('pending');
    const again = await t.call('POST', `/api/v1/integrations/notifications/${dead.items[0]!.id}/retry`);
    expect(again.statusCode).toBe(409);
    const events = await expectStatus<{ items: { action: string }[] }>(
      t,
      200,
      'GET',
      '/api/v1/audit/events?action=notification.*',
    );
    expect(events.items.map((e) => e.action).sort()).toEqual([
      'notification.dead-lettered',
      'notification.retried',
    ]);
  });

  it('tells a holder, once, that their grant ends within the lead time', async () => {
    // read-only on staging is approved at once; the grant runs 1h, inside a 2h lead time
    const request = await expectStatus<{ id: string; status: string }>(
      t,
      201,
      'POST',
      '/api/v1/access/requests',
      {
        token: tokens.dana,
        body: { asset: staging, level: 'read-only', duration: '1h', reason: 'check a migration' },
      },
    );
    await runner.runDue();
    const grant = await expectStatus<{ status: string }>(
      t,
      200,
      'GET',
      `/api/v1/access/requests/${request.id}`,
    );
    expect(grant).toMatchObject({ grant: { status: 'active' } });
    const added = await t.gh.notify.checkExpiring();
    expect(added).toBeGreaterThanOrEqual(1);
    await deliverAll();
    const mail = mails.filter((m) => m.raw.includes('ends soon') && m.raw.includes(staging));
    expect(mail).toHaveLength(1);
    expect(mail[0]!.to).toEqual(['dana@example.com']);
    // checked again: nothing new for the same grant and end
    expect(await t.gh.notify.checkExpiring()).toBe(0);
  });

  it('refuses bad channels with a 4xx and changes nothing', async () => {
    const before = await t.call('GET', '/api/v1/integrations/channels');
    for (const body of [
      { name: 'x', kind: 'webhook', settings: { url: 'http://203.0.113.5/hook' }, secret: WEBHOOK_SECRET },
      { name: 'x', kind: 'webhook', settings: { url: `${base}/ok` }, secret: 'short' },
      { name: 'x', kind: 'email', settings: { host: 'mail;rm', port: 25, from: 'a@example.com' } },
      { name: 'x', kind: 'slack', url: `${base}/s`, notices: ['everything'] },
      { name: 'Bad Name', kind: 'teams', url: `${base}/s` },
    ]) {
      const res = await t.call('POST', '/api/v1/integrations/channels', { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const forbidden = await t.call('POST', '/api/v1/integrations/channels', {
      token: tokens.dana,
      body: { name: 'x', kind: 'teams', url: `${base}/s` },
    });
    expect(forbidden.statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/integrations/channels')).body).toBe(before.body);
  });
});

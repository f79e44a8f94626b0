import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../src/modules/audit/audit.types.js';
import { checkPack } from '../../src/modules/compliance/domain/evidence-pack.js';
import { identityStore } from '../../src/modules/identity/identity.store.js';
import { generateToken, hashToken } from '../../src/platform/crypto.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { manualClock } from '../../src/platform/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  accessRunner,
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  fakeConnector,
  fakeTickets,
} from './access-support.js';
import { backends } from '../support/stores.js';

const H = 3_600_000;
const FROM = '2026-03-01T00:00:00.000Z';
const TO = '2026-04-01T00:00:00.000Z';
const T0 = Date.parse(FROM);
const at = (day: number, hour = 0, minute = 0) =>
  new Date(T0 + (day - 1) * 24 * H + hour * H + minute * 60_000);
const PERIOD = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

/**
 * The scripted quarter: a grant approved and expired on time, one revoked three hours late because its
 * target was down, a break-glass access reviewed afterwards (all three through the real access service
 * and job runner, on a manual clock), an admin's role change through the API; planted where their
 * modules do not write them yet: network rule changes and a corrected drift, daily scans with one
 * hardening exception left past its expiry, a reviewed baseline change. Exactly two exceptions are
 * expected: the late revocation and the expired exception.
 */
describe.each(backends)('evidence packs on %s', (backend) => {
  let t: TestApp;
  const clock = manualClock(at(-8));
  const tickets = fakeTickets();
  const target = fakeConnector();
  let runner: JobRunner;
  /** The real grants of the scenario, by role in it. */
  const grants: Record<'onTime' | 'late' | 'breakGlass', string> = { onTime: '', late: '', breakGlass: '' };
  const hosts: Record<string, string> = {};
  let bobId = '';
  let admin: string;
  const call: TestApp['call'] = (method, url, options = {}) =>
    t.call(method, url, { token: admin, ...options });

  /** A token for an operator, valid at the clock's time (written to the store as createTestApp does). */
  async function tokenFor(username: string): Promise<string> {
    const secret = generateToken();
    await identityStore.insertToken(
      t.gh.store.db,
      {
        id: randomUUID(),
        operatorId: (await t.gh.identity.getOperator(username)).id,
        name: `test ${randomUUID().slice(0, 8)}`,
        prefix: secret.slice(0, 10),
        roles: [],
        createdAt: clock.now(),
        expiresAt: new Date(clock.now().getTime() + 24 * H),
        revokedAt: null,
        lastUsedAt: null,
      },
      hashToken(secret),
    );
    return secret;
  }

  /** Work to do at a time: events are appended in time order at the end of the set-up, as a clock would. */
  const script: { at: Date; run: () => Promise<void> }[] = [];

  function plant(when: Date, event: Omit<AuditEventInput, 'actor'> & { actor?: AuditEventInput['actor'] }) {
    script.push({
      at: when,
      run: () =>
        t.gh.store.db.transaction().execute(async (tx) => {
          await t.gh.audit.append(tx, { actor: { type: 'operator', id: bobId, name: 'bob' }, ...event });
        }),
    });
    return Promise.resolve();
  }

  /** Runs the access jobs due now (provisioning, expiry, revocation), twice for jobs that queue jobs. */
  async function drive() {
    await runner.runDue();
    await runner.runDue();
  }

  /** olga asks for read-only access to db-1 through the real access API. */
  async function request(body: Record<string, unknown>): Promise<{ id: string }> {
    const res = await t.call('POST', '/api/v1/access/requests', {
      token: await tokenFor('olga'),
      body: { asset: 'db-1', level: 'read-only', duration: '1h', reason: 'look into a slow report', ...body },
    });
    if (res.statusCode !== 201) throw new Error(`request: ${res.body}`);
    return res.json<{ id: string }>();
  }

  /** bob approves (or, for break-glass, reviews afterwards); returns the request's grant id. */
  async function approve(id: string): Promise<string> {
    const res = await t.call('POST', `/api/v1/access/requests/${id}/approve`, {
      token: await tokenFor('bob'),
      body: { comment: 'fine' },
    });
    if (res.statusCode !== 200) throw new Error(`approve: ${res.body}`);
    return res.json<{ grant: { id: string } }>().grant.id;
  }

  beforeAll(async () => {
    t = await createTestApp(backend, {
      clock,
      access: { tickets: tickets.source, connectors: () => target.connector },
    });
    runner = accessRunner(t, clock, `compliance-${backend}`);
    const ok = async (method: 'POST' | 'PATCH', url: string, body: unknown) => {
      const res = await t.call(method, url, { body });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.body}`);
      return res.json<{ id: string }>();
    };
    await t.operatorToken('bob', ['approver'], ['leads']);
    await t.operatorToken('olga', [], ['dev']);
    await t.operatorToken('rick', []);
    bobId = (await t.gh.identity.getOperator('bob')).id;
    await ok('POST', '/api/v1/regions', { name: 'eu-west' });
    for (const [name, address] of [
      ['web-1', '192.0.2.11'],
      ['web-2', '192.0.2.12'],
    ] as const) {
      hosts[name] = (
        await ok('POST', '/api/v1/assets', {
          kind: 'server',
          name,
          region: 'eu-west',
          os: 'debian-12',
          address,
        })
      ).id;
    }

    // access, through the real service: the target's own clock is the fake connector's
    await applyPolicies(t);
    const fleet = await createFleet(t, 'q1');
    await createDatabaseAsset(t, fleet, {
      name: 'db-1',
      engine: 'postgres',
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
      database: 'app',
    });
    await ok('POST', '/api/v1/jumpboxes', {
      name: 'jump-1',
      region: fleet.region,
      address: '192.0.2.254',
      sourceCidrs: ['192.0.2.254/32'],
    });
    tickets.open('OPS-1', null);
    tickets.open('OPS-2', null);
    const step = (when: Date, run: () => Promise<void>) => script.push({ at: when, run });
    // approved, expired and removed on time
    step(at(2, 10), async () => {
      grants.onTime = await approve((await request({ ticket: 'OPS-1' })).id);
      await drive();
    });
    step(at(2, 11), drive);
    // approved, but its target is down when it expires: removed three hours late
    step(at(3, 10), async () => {
      grants.late = await approve((await request({ ticket: 'OPS-2' })).id);
      await drive();
    });
    step(at(3, 10, 30), async () => target.setDown(true));
    for (let minutes = 60; minutes < 180; minutes += 20) step(at(3, 10, minutes), drive);
    step(at(3, 13), async () => {
      target.setDown(false);
      for (let i = 0; i < 12; i += 1) {
        await drive();
        clock.advance(5 * 60_000);
      }
    });
    // break-glass, no ticket, reviewed afterwards by bob
    step(at(4, 2), async () => {
      await request({ breakGlass: true, duration: '30m', reason: 'prod is down' }).then(async ({ id }) => {
        await drive();
        clock.advance(20 * 60_000);
        grants.breakGlass = await approve(id);
      });
    });
    step(at(4, 2, 30), drive);

    script.push({
      at: at(5, 9),
      run: async () => void (await ok('PATCH', '/api/v1/operators/bob', { roles: ['approver', 'auditor'] })),
    });

    // network (planted: the events the network module writes), all ticketed, drift corrected
    const rule = { kind: 'customer', protocol: 'tcp', ports: '443' };
    await plant(at(6, 9), {
      action: 'network.rule.created',
      target: { type: 'network-rule', id: 'nr-1' },
      ticket: 'OPS-10',
      details: { rule, summary: 'tcp/443 from 198.51.100.0/24' },
    });
    await plant(at(7, 9), {
      action: 'network.rule.deleted',
      target: { type: 'network-rule', id: 'nr-1' },
      ticket: 'OPS-11',
      details: { rule, summary: 'tcp/443 from 198.51.100.0/24' },
    });
    await plant(at(8, 9), {
      action: 'network.drift-detected',
      target: { type: 'asset', id: hosts['web-1']! },
      details: { asset: 'web-1' },
    });
    await plant(at(8, 9, 10), {
      action: 'network.drift-corrected',
      target: { type: 'asset', id: hosts['web-1']! },
      details: { asset: 'web-1' },
    });

    // hardening: daily scans of both hosts; one exception current, one left past its expiry
    await plant(at(2, 8), {
      action: 'hardening.decision.recorded',
      target: { type: 'hardening-decision', id: 'd-current' },
      details: {
        ruleId: 'ntp-server',
        status: 'exception',
        expiresAt: at(60).toISOString(),
        scope: { type: 'asset', asset: 'web-1' },
      },
    });
    await plant(at(2, 8, 1), {
      action: 'hardening.decision.recorded',
      target: { type: 'hardening-decision', id: 'd-expired' },
      details: {
        ruleId: 'ssh-password-auth',
        status: 'exception',
        expiresAt: at(15).toISOString(),
        scope: { type: 'asset', asset: 'web-2' },
      },
    });
    await plant(at(9, 8), {
      action: 'hardening.baseline.changed',
      target: { type: 'baseline', id: 'debian-12-server' },
      details: { version: '4', author: 'ann', reviewer: 'ben' },
    });
    for (let day = 0; day <= 31; day += 1) {
      for (const name of ['web-1', 'web-2']) {
        await plant(at(day, 6), {
          actor: { type: 'system', id: null, name: 'scanner' },
          action: 'hardening.scan.completed',
          target: { type: 'asset', id: hosts[name]! },
          details: { asset: name, score: 97 },
        });
      }
    }
    for (const step of script.sort((a, b) => a.at.getTime() - b.at.getTime())) {
      clock.set(step.at);
      await step.run();
    }

    // the report is asked for after the quarter, with a fresh admin token (the bootstrap one has expired)
    clock.set(at(33));
    admin = await tokenFor('admin');
  }, 120_000);
  afterAll(() => t.close());

  it('tests pass where they should and list exactly the planted exceptions', async () => {
    const res = await call('GET', `/api/v1/compliance/tests?${PERIOD}`);
    expect(res.statusCode, res.body).toBe(200);
    const run = res.json<{
      results: {
        test: string;
        status: string;
        population: Record<string, unknown>[];
        exceptions: { subject: string; rule: string }[];
      }[];
    }>();
    const byTest = Object.fromEntries(run.results.map((r) => [r.test, r]));
    expect(run.results.map((r) => [r.test, r.status])).toEqual([
      ['access-grants', 'fail'],
      ['role-changes', 'pass'],
      ['network-changes', 'pass'],
      ['host-scans', 'fail'],
      ['change-records', 'pass'],
    ]);
    expect(run.results.flatMap((r) => r.exceptions.map((e) => [r.test, e.subject, e.rule]))).toEqual([
      ['access-grants', `grant ${grants.late}`, 'removed-late'],
      ['host-scans', 'hardening exception d-expired (rule ssh-password-auth)', 'exception-expired'],
    ]);
    expect(
      byTest['access-grants']!.population.map((p) => [p.grant, p.approvedBy, p.reviewedAfterBy]),
    ).toEqual([
      [grants.onTime, 'bob', null],
      [grants.late, 'bob', null],
      [grants.breakGlass, null, 'bob'],
    ]);
    // the late one came off once its target was back, three hours after its expiry
    const late = byTest['access-grants']!.population.find((p) => p.grant === grants.late)!;
    expect(late.notAfter).toBe(at(3, 11).toISOString());
    expect(Date.parse(late.removedAt as string)).toBeGreaterThanOrEqual(at(3, 13).getTime());
    expect(late.endReason).toBe('expired');
    expect(byTest['role-changes']!.population).toEqual([
      expect.objectContaining({ operator: 'bob', by: 'admin', to: 'approver auditor requester' }),
    ]);
    expect(
      byTest['host-scans']!.population.filter((p) => p.kind === 'host').map((p) => [p.name, p.scansInPeriod]),
    ).toEqual([
      ['web-1', 31],
      ['web-2', 31],
    ]);
  });

  let pack: Uint8Array;

  it('produces a pack that verifies offline and with sha256sum and openssl', async () => {
    const res = await call('GET', `/api/v1/compliance/evidence?${PERIOD}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    pack = new Uint8Array(res.rawPayload);
    expect(checkPack(pack).problems).toEqual([]);
    expect(res.headers['x-gatehouse-chain-proof']).toBe('ok');
    const check = checkPack(pack, { expectedPublicKeyPem: t.gh.audit.publicKey().pem });
    expect(check).toMatchObject({ ok: true, problems: [], proof: { ok: true } });

    const files = unzipSync(pack);
    const result = JSON.parse(strFromU8(files['controls/access-grants/result.json']!)) as {
      exceptions: unknown[];
      controls: string[];
    };
    expect(result).toMatchObject({
      status: 'fail',
      controls: ['access-grants'],
      exceptions: [{ subject: `grant ${grants.late}`, rule: 'removed-late' }],
    });
    const csv = strFromU8(files['controls/access-grants/population.csv']!).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^grant,request,holder,asset,ticket,breakGlass/);
    expect(strFromU8(files['matrix/matrix.yaml']!)).toContain('format: gatehouse.compliance.matrix.v1');

    const dir = mkdtempSync(path.join(tmpdir(), 'gh-pack-'));
    try {
      for (const [name, bytes] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), bytes);
      }
      const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8' });
      expect(run('sha256sum', ['-c', 'SHA256SUMS'])).not.toMatch(/FAILED/);
      const openssl = (input: string, sig: string) =>
        run('openssl', [
          'pkeyutl',
          '-verify',
          '-pubin',
          '-inkey',
          'audit/public-key.pem',
          '-rawin',
          '-in',
          input,
          '-sigfile',
          sig,
        ]);
      expect(openssl('SHA256SUMS', 'SHA256SUMS.sig')).toMatch(/Signature Verified Successfully/);
      expect(openssl('audit/checkpoint.payload', 'audit/checkpoint.sig')).toMatch(
        /Signature Verified Successfully/,
      );
      writeFileSync(path.join(dir, 'pack.json'), '{}');
      const failed = (() => {
        try {
          return run('sha256sum', ['--quiet', '-c', 'SHA256SUMS']);
        } catch (error) {
          return (error as { stdout: string }).stdout;
        }
      })();
      expect(failed).toMatch(/^pack.json: FAILED$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails verify-pack naming the file when any file of the pack changes by one byte', () => {
    const files = unzipSync(pack);
    for (const name of Object.keys(files)) {
      const changed = { ...files, [name]: new Uint8Array(files[name]!) };
      const bytes = changed[name]!;
      if (bytes.length === 0) changed[name] = strToU8('x');
      else bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x01;
      const check = checkPack(zipSync(changed));
      expect(check.ok, name).toBe(false);
      expect(check.problems[0]?.file, `${name}: ${JSON.stringify(check.problems)}`).toBe(name);
    }
    const pinned = checkPack(pack, { expectedPublicKeyPem: t.gh.audit.publicKey().pem.replace('MC', 'MD') });
    expect(pinned.problems).toEqual([
      { file: 'audit/public-key.pem', problem: 'is not the public key you expect' },
    ]);
    const added = checkPack(zipSync({ ...files, 'extra.txt': strToU8('hi') }));
    expect(added.problems).toEqual([{ file: 'extra.txt', problem: 'not listed in the manifest (added?)' }]);
  });

  it('reports coverage, gaps, stories and failing controls as JSON, Markdown and HTML', async () => {
    const json = (await call('GET', `/api/v1/compliance/report?${PERIOD}`)).json<{
      coverage: { criteria: number; uncovered: string[] };
      failingControls: { control: string }[];
      openGaps: { byArea: Record<string, number> };
    }>();
    expect(json.coverage.criteria).toBe(61);
    expect(json.coverage.uncovered).toContain('CC6.1');
    expect(json.coverage.uncovered).not.toContain('CC6.3');
    expect(json.failingControls.map((f) => f.control)).toEqual(['access-grants', 'host-scans']);
    expect(Object.keys(json.openGaps.byArea)).toHaveLength(10);
    const md = (await call('GET', `/api/v1/compliance/report?${PERIOD}&format=markdown`)).body;
    expect(md).toMatch(/## Failing automated controls \(2\)/);
    expect(md).toContain(`| access-grants | grant ${grants.late} | removed-late |`);
    const html = await call('GET', `/api/v1/compliance/report?${PERIOD}&format=html`);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toMatch(/<td>hardening exception d-expired \(rule ssh-password-auth\)<\/td>/);
    const bad = await call(
      'GET',
      `/api/v1/compliance/report?from=${encodeURIComponent(TO)}&to=${encodeURIComponent(FROM)}`,
    );
    expect(bad.statusCode).toBe(400);
  });

  it('keeps evidence from people without compliance:read', async () => {
    const rick = await tokenFor('rick');
    expect((await call('GET', `/api/v1/compliance/evidence?${PERIOD}`, { token: rick })).statusCode).toBe(
      403,
    );
    expect((await call('GET', `/api/v1/compliance/tests?${PERIOD}`, { token: null })).statusCode).toBe(401);
  });
  it('fails the chain proof of a pack whose audit events were edited in the database before export', async () => {
    await t.gh.store.db.transaction().execute(async (tx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(tx);
      await sql`UPDATE audit_events SET details = jsonb_set(details, '{notAfter}', '"2026-03-03T14:00:00.000Z"')
                WHERE action = 'grant.created' AND target_id = ${grants.late}`.execute(tx);
    });
    const res = await call('GET', `/api/v1/compliance/evidence?${PERIOD}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-gatehouse-chain-proof']).toBe('failed');
    const check = checkPack(new Uint8Array(res.rawPayload));
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      {
        file: 'audit/events.jsonl',
        problem: expect.stringMatching(/chain proof fails: event \d+ was altered/) as unknown,
      },
    ]);
  });
});

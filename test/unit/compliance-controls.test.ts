import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testAccessGrants } from '../../src/modules/compliance/domain/controls/access-grants.js';
import { testChangeRecords } from '../../src/modules/compliance/domain/controls/change-records.js';
import { testHostScans } from '../../src/modules/compliance/domain/controls/host-scans.js';
import { testNetworkChanges } from '../../src/modules/compliance/domain/controls/network-changes.js';
import { testRoleChanges } from '../../src/modules/compliance/domain/controls/role-changes.js';
import type { EvidenceEvent } from '../../src/modules/compliance/domain/controls/types.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * H);
const period = { from: at(0), to: at(24 * 30) };
const tolerance = { removalToleranceMs: 5 * 60_000 };

let seq = 0;
function ev(
  action: string,
  hours: number,
  target: [string, string],
  details: Record<string, unknown> = {},
  actor: { name: string; id?: string | null; type?: EvidenceEvent['actorType'] } = { name: 'alice' },
  ticket: string | null = null,
): EvidenceEvent {
  seq += 1;
  return {
    seq,
    occurredAt: at(hours),
    actorType: actor.type ?? 'operator',
    actorId: actor.id === undefined ? `id-${actor.name}` : actor.id,
    actorName: actor.name,
    action,
    targetType: target[0],
    targetId: target[1],
    ticket,
    details,
  };
}

interface GrantSpec {
  id: string;
  ticket: boolean;
  approver: 'other' | 'self' | 'none' | 'policy';
  breakGlass: boolean;
  reviewedAfter: boolean;
  /** Hours after expiry it was removed (negative: early), or null for never. */
  removedAfterExpiry: number | null;
}

/** The events access writes for one grant, as its service writes them. */
function grantEvents(spec: GrantSpec, startHours: number): EvidenceEvent[] {
  const request = `req-${spec.id}`;
  const requester = { requester: 'olga' };
  const out: EvidenceEvent[] = [];
  const ticket = spec.ticket ? 'OPS-1' : null;
  out.push(
    ev(
      'access-request.created',
      startHours,
      ['access-request', request],
      requester,
      { name: 'olga' },
      ticket,
    ),
  );
  if (spec.breakGlass) {
    out.push(
      ev('break-glass.opened', startHours, ['access-request', request], requester, { name: 'olga' }, ticket),
    );
  } else if (spec.approver === 'other') {
    out.push(
      ev(
        'access-request.approved',
        startHours,
        ['access-request', request],
        requester,
        { name: 'bob' },
        ticket,
      ),
    );
  } else if (spec.approver === 'self') {
    out.push(
      ev(
        'access-request.approved',
        startHours,
        ['access-request', request],
        requester,
        { name: 'olga' },
        ticket,
      ),
    );
  } else if (spec.approver === 'policy') {
    out.push(
      ev(
        'access-request.auto-approved',
        startHours,
        ['access-request', request],
        requester,
        { name: 'olga' },
        ticket,
      ),
    );
  }
  const notAfter = at(startHours + 2).toISOString();
  out.push(
    ev(
      'grant.created',
      startHours,
      ['grant', spec.id],
      { request, holder: 'olga', asset: 'db-1', notAfter },
      { name: 'olga' },
      ticket,
    ),
  );
  if (spec.breakGlass && spec.reviewedAfter) {
    out.push(
      ev(
        'break-glass.accepted',
        startHours + 1,
        ['access-request', request],
        requester,
        { name: 'bob' },
        ticket,
      ),
    );
  }
  if (spec.removedAfterExpiry !== null) {
    out.push(
      ev(
        'grant.revoked',
        startHours + 2 + spec.removedAfterExpiry,
        ['grant', spec.id],
        { endReason: 'expired' },
        {
          name: 'job-runner',
          id: null,
          type: 'system',
        },
      ),
    );
  }
  return out;
}

function expectedRules(spec: GrantSpec): string[] {
  const rules: string[] = [];
  if (!spec.ticket && !spec.breakGlass) rules.push('no-ticket');
  if (spec.breakGlass ? !spec.reviewedAfter : spec.approver === 'self' || spec.approver === 'none') {
    rules.push(spec.breakGlass ? 'break-glass-not-reviewed' : 'not-approved-by-another');
  }
  if (spec.removedAfterExpiry === null || spec.removedAfterExpiry > 0.1) rules.push('removed-late');
  return rules;
}

describe('CC6.1/CC6.2 access grants', () => {
  it('passes a ticketed grant approved by someone else and removed on time', () => {
    const events = grantEvents(
      {
        id: 'g1',
        ticket: true,
        approver: 'other',
        breakGlass: false,
        reviewedAfter: false,
        removedAfterExpiry: 0,
      },
      10,
    );
    const result = testAccessGrants(events, period, tolerance);
    expect(result.status).toBe('pass');
    expect(result.population).toEqual([
      expect.objectContaining({ grant: 'g1', holder: 'olga', approvedBy: 'bob', ticket: 'OPS-1' }),
    ]);
  });

  it('lists exactly the broken rules of each grant (property)', () => {
    const spec = fc.record({
      ticket: fc.boolean(),
      approver: fc.constantFrom('other', 'self', 'none', 'policy'),
      breakGlass: fc.boolean(),
      reviewedAfter: fc.boolean(),
      removedAfterExpiry: fc.constantFrom(null, -1, 0, 0.05, 3),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 8 }), (specs) => {
        const full = specs.map((s, i) => ({ ...s, id: `g${i}` }));
        const events = full.flatMap((s, i) => grantEvents(s, 24 + i * 10));
        const result = testAccessGrants(events, period, tolerance);
        const got = result.exceptions.map((e) => `${e.subject}:${e.rule}`).sort();
        const want = full.flatMap((s) => expectedRules(s).map((r) => `grant ${s.id}:${r}`)).sort();
        expect(got).toEqual(want);
        expect(result.population).toHaveLength(full.length);
      }),
      { seed: 9, numRuns: 200 },
    );
  });

  it('leaves out grants that ended before the period and counts one still open past its expiry', () => {
    const early = grantEvents(
      {
        id: 'old',
        ticket: false,
        approver: 'none',
        breakGlass: false,
        reviewedAfter: false,
        removedAfterExpiry: 0,
      },
      -100,
    );
    const result = testAccessGrants(early, period, tolerance);
    expect(result.population).toEqual([]);
    expect(result.status).toBe('pass');
  });
});

describe('CC6.3 role changes', () => {
  const admin = { name: 'ada', id: 'op-ada' };
  it('accepts roles set by an admin and the bootstrap, refuses self-grants and non-admins', () => {
    const events = [
      ev(
        'operator.created',
        -10,
        ['operator', 'op-ada'],
        { username: 'ada', roles: ['admin'] },
        { name: 'bootstrap', id: null, type: 'system' },
      ),
      ev('operator.created', 1, ['operator', 'op-bob'], { username: 'bob', roles: ['requester'] }, admin),
      ev(
        'operator.updated',
        2,
        ['operator', 'op-bob'],
        { username: 'bob', changes: { roles: { from: ['requester'], to: ['approver', 'requester'] } } },
        admin,
      ),
      ev(
        'operator.updated',
        3,
        ['operator', 'op-bob'],
        { username: 'bob', changes: { roles: { from: ['approver'], to: ['admin'] } } },
        { name: 'bob', id: 'op-bob' },
      ),
      ev(
        'operator.updated',
        4,
        ['operator', 'op-ada'],
        { username: 'ada', changes: { groups: { from: [], to: ['x'] } } },
        { name: 'bob', id: 'op-bob' },
      ),
      ev(
        'operator.updated',
        5,
        ['operator', 'op-cy'],
        { username: 'cy', changes: { roles: { from: [], to: ['auditor'] } } },
        { name: 'dan', id: 'op-dan' },
      ),
    ];
    const result = testRoleChanges(events, period);
    expect(result.population.map((r) => r.operator)).toEqual(['bob', 'bob', 'bob', 'cy']);
    expect(result.exceptions.map((e) => [e.subject, e.rule])).toEqual([
      [`operator bob (event ${events[3]!.seq})`, 'self-granted'],
      [`operator cy (event ${events[5]!.seq})`, 'not-by-admin'],
    ]);
  });
});

describe('CC6.6 network changes', () => {
  it('needs a ticket on customer rule changes, ignores system rules, and wants drift corrected', () => {
    const events = [
      ev(
        'network.rule.created',
        1,
        ['network-rule', 'r1'],
        { rule: { kind: 'customer' } },
        undefined,
        'OPS-7',
      ),
      ev('network.rule.created', 2, ['network-rule', 'r2'], { rule: { kind: 'customer' } }),
      ev('network.rule.created', 3, ['network-rule', 'r3'], { rule: { kind: 'system' } }),
      ev(
        'network.rule.deleted',
        4,
        ['network-rule', 'r1'],
        { rule: { kind: 'customer' }, findings: [{ check: 'x' }] },
        undefined,
        'OPS-8',
      ),
      ev('network.rule.updated', 4, ['network-rule', 'r1'], { rule: { kind: 'customer' } }),
      ev('network.drift-detected', 5, ['asset', 'a1'], { asset: 'web-1' }),
      ev('network.drift-corrected', 6, ['asset', 'a1'], { asset: 'web-1' }),
      ev('network.drift-detected', 7, ['asset', 'a2'], { asset: 'web-2' }),
    ];
    const result = testNetworkChanges(events, period);
    expect(result.exceptions.map((e) => e.rule + ' ' + e.subject)).toEqual([
      `no-ticket network rule r2 (event ${events[1]!.seq})`,
      `failed-checks network rule r1 (event ${events[3]!.seq})`,
      `no-ticket network rule r1 (event ${events[4]!.seq})`,
      `drift-not-corrected drift on web-2 (event ${events[7]!.seq})`,
    ]);
    expect(result.population).toHaveLength(6);
  });
});

describe('CC7.1 host scans', () => {
  const hosts = [
    { id: 'a1', name: 'web-1', since: at(-1000) },
    { id: 'a2', name: 'web-2', since: at(-1000) },
    { id: 'a3', name: 'new-1', since: at(24 * 29.5) },
  ];
  it('flags the host with a gap longer than the frequency and the exception past its expiry', () => {
    const daily = (asset: string, skip: number[]) =>
      Array.from({ length: 31 }, (_, d) => d)
        .filter((d) => !skip.includes(d))
        .map((d) => ev('hardening.scan.completed', d * 24 - 1, ['asset', asset], { asset }));
    const events = [
      ...daily('a1', []),
      ...daily('a2', [10, 11]),
      ev('hardening.decision.recorded', 5, ['hardening-decision', 'd1'], {
        ruleId: 'ssh-root',
        status: 'exception',
        expiresAt: at(24 * 20).toISOString(),
      }),
      ev('hardening.decision.recorded', 6, ['hardening-decision', 'd2'], {
        ruleId: 'ntp',
        status: 'exception',
        expiresAt: at(24 * 60).toISOString(),
      }),
      ev('hardening.decision.recorded', 7, ['hardening-decision', 'd3'], {
        ruleId: 'x',
        status: 'exception',
        expiresAt: at(24 * 2).toISOString(),
      }),
      ev('hardening.decision.removed', 8, ['hardening-decision', 'd3']),
      ev('hardening.scan.completed', 24 * 29.6, ['asset', 'a3'], { asset: 'new-1' }),
    ];
    const result = testHostScans(events, hosts, period, { frequencyMs: 25 * H });
    expect(result.exceptions.map((e) => `${e.rule} ${e.subject}`)).toEqual([
      'scan-overdue host web-2',
      'exception-expired hardening exception d1 (rule ssh-root)',
    ]);
    expect(result.exceptions[0]!.message).toMatch(
      /72 h from 2026-03-09T23:00:00.000Z to 2026-03-12T23:00:00.000Z/,
    );
  });
});

describe('CC8.1 change records', () => {
  it('wants an author and a different reviewer', () => {
    const events = [
      ev('hardening.baseline.changed', 1, ['baseline', 'debian-12'], { author: 'ann', reviewer: 'ben' }),
      ev('network.system-rules.changed', 2, ['rules', 'web'], { author: 'ann', reviewer: 'ann' }),
      ev('network.system-rules.changed', 3, ['rules', 'db'], { author: 'ann' }),
    ];
    const result = testChangeRecords(events, period);
    expect(result.exceptions.map((e) => e.rule)).toEqual(['self-reviewed', 'no-reviewer']);
    expect(result.population).toHaveLength(3);
  });
});

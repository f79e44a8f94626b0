import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openGrant, transitionGrant } from '../../src/modules/access/domain/grant-machine.js';
import {
  evaluateExtension,
  leaseDueAt,
  openLease,
  startAtReveal,
  type Lease,
} from '../../src/modules/access/domain/lease.js';
import {
  policySchema,
  type AccessRequestInput,
  type EvaluationContext,
  type Policy,
} from '../../src/modules/access/domain/policy.js';

const M = 60_000;
const H = 60 * M;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * M);

describe('leases', () => {
  it('at-approval: from approval for the duration', () => {
    const lease = openLease({ mode: 'at-approval' }, 90 * M, T0);
    expect(lease).toEqual({ startedAt: T0, notAfter: at(90), claimDeadline: null });
    expect(leaseDueAt(lease)).toEqual(at(90));
    expect(startAtReveal(lease, 90 * M, at(10))).toBe(lease);
  });

  it('at-first-reveal: due at the claim deadline until revealed, then from the reveal', () => {
    const lease = openLease({ mode: 'at-first-reveal', claimWindow: 15 * M }, H, T0);
    expect(lease).toEqual({ startedAt: null, notAfter: null, claimDeadline: at(15) });
    expect(leaseDueAt(lease)).toEqual(at(15));
    const started = startAtReveal(lease, H, at(14));
    expect(started).toEqual({ startedAt: at(14), notAfter: at(74), claimDeadline: at(15) });
    expect(leaseDueAt(started)).toEqual(at(74));
  });
});

describe('extension goes through the policy again', () => {
  const devNonProd: Policy = policySchema.parse({
    name: 'dev-nonprod',
    requesterGroups: ['dev'],
    levels: ['read-only'],
    assets: { tiers: ['staging'] },
    maxDuration: '4h',
    approvals: { approverGroups: ['leads'] },
    autoApprove: [{ levels: ['read-only'], maxDuration: '1h' }],
  });
  const original: AccessRequestInput = {
    requester: { id: 'op-dana', username: 'dana', groups: ['dev'] },
    asset: {
      id: 'a',
      name: 'acme-staging-db',
      kind: 'database',
      engine: 'postgres',
      customer: 'acme',
      tier: 'staging',
      groups: [],
    },
    level: 'read-only',
    durationMs: 30 * M,
    reason: 'debug',
    ticketId: 'OPS-1',
    fileTransfer: false,
    breakGlass: false,
  };
  const context = (now = at(10), state: 'open' | 'closed' = 'open'): EvaluationContext => ({
    now,
    ticket: { id: 'OPS-1', state, assignee: 'dana' },
  });
  const unstarted: Lease = { startedAt: null, notAfter: null, claimDeadline: at(30) };
  const running = (minutes: number): Lease => ({ startedAt: T0, notAfter: at(minutes), claimDeadline: null });

  it('is auto-approved while the total stays within the auto-approval rule', () => {
    expect(evaluateExtension([devNonProd], original, running(30), 30 * M, context())).toEqual({
      outcome: 'auto-approved',
      policy: 'dev-nonprod',
      notAfter: at(60),
      capped: false,
      maxDurationMs: 4 * H,
    });
  });

  it('needs approval once the total passes it: two auto-approved hours in a row are no loophole', () => {
    expect(evaluateExtension([devNonProd], original, running(60), 60 * M, context())).toMatchObject({
      outcome: 'needs-approval',
      notAfter: at(120),
      approvals: { quorum: 1, approverGroups: ['leads'] },
      reviewDeadline: new Date(at(10).getTime() + 24 * H),
    });
  });

  it('is capped at the policy maximum from the original start, and refused at it', () => {
    expect(evaluateExtension([devNonProd], original, running(60), 8 * H, context())).toMatchObject({
      outcome: 'needs-approval',
      notAfter: at(240),
      capped: true,
    });
    expect(evaluateExtension([devNonProd], original, running(240), 30 * M, context())).toEqual({
      outcome: 'refused',
      reasons: [
        {
          code: 'at-maximum',
          message:
            'the grant already runs the maximum of 4h from its start at 2026-03-02T09:00:00.000Z; request new access when it ends',
        },
      ],
    });
  });

  it.each([
    ['the clock has not started', unstarted, 30 * M, context(), 'not-started'],
    ['the lease has ended', running(30), 30 * M, context(at(30)), 'lease-ended'],
    ['the extension is not positive', running(30), 0, context(), 'duration-invalid'],
    ['the ticket has closed', running(30), 30 * M, context(at(10), 'closed'), 'ticket-closed'],
  ])('is refused when %s', (_, lease, by, ctx, code) => {
    const d = evaluateExtension([devNonProd], original, lease, by, ctx);
    expect(d.outcome === 'refused' && d.reasons.map((r) => r.code)).toEqual([code]);
  });

  it('is refused when the requester has left the group since', () => {
    const d = evaluateExtension(
      [devNonProd],
      { ...original, requester: { ...original.requester, groups: [] } },
      running(30),
      30 * M,
      context(),
    );
    expect(d.outcome === 'refused' && d.reasons[0]?.code).toBe('no-policy');
  });

  it('never ends later than the maximum from the start, and the grant machine accepts what it allows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 239 }), fc.integer({ min: 1, max: 600 }), (ran, by) => {
        const now = at(Math.min(ran, 20) - 0.5);
        const d = evaluateExtension([devNonProd], original, running(ran), by * M, context(now));
        if (d.outcome === 'refused') return;
        expect(d.notAfter.getTime()).toBeLessThanOrEqual(T0.getTime() + devNonProd.maxDuration);
        expect(d.notAfter.getTime()).toBeGreaterThan(at(ran).getTime());
        expect(d.notAfter.getTime()).toBeLessThanOrEqual(at(ran + by).getTime());
        const grant = openGrant(
          {
            policy: 'dev-nonprod',
            level: 'read-only',
            durationMs: ran * M,
            maxDurationMs: 4 * H,
            clockStart: { mode: 'at-approval' },
            fileTransfer: false,
            breakGlass: false,
          },
          T0,
        ).state;
        const active = { ...grant, status: 'active' as const };
        const t = transitionGrant(active, {
          type: 'extend',
          notAfter: d.notAfter,
          maxDurationMs: d.maxDurationMs,
          at: now,
        });
        expect(t.ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

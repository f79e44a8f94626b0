import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApprovalRequirement } from '../../src/modules/access/domain/approvals.js';
import {
  extensionEventTypes,
  extensionStatuses,
  extensionTally,
  openExtension,
  transitionExtension,
  type ExtensionEffect,
  type ExtensionEvent,
  type ExtensionEventType,
  type ExtensionRefusalCode,
  type ExtensionState,
  type ExtensionStatus,
  type ExtensionTransition,
} from '../../src/modules/access/domain/extension-machine.js';
import type { ExtensionDecision } from '../../src/modules/access/domain/lease.js';

const H = 3_600_000;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * H);

const HOLDER = 'op-rita';
/** The lease ends at 2h; the extension asks for 3h; the policy's review window would end at 24h. */
const LEASE_END = at(2);
const leads: ApprovalRequirement = { quorum: 1, approverGroups: ['leads'], requiredGroups: [] };
const extended = { policy: 'p', notAfter: at(3), capped: false, maxDurationMs: 4 * H };

const needsApproval = (
  approvals: ApprovalRequirement = leads,
  reviewDeadline = at(24),
): ExtensionDecision => ({
  outcome: 'needs-approval',
  ...extended,
  approvals,
  reviewDeadline,
});

function must(t: ExtensionTransition): { state: ExtensionState; effects: readonly ExtensionEffect[] } {
  if (!t.ok) throw new Error(`${t.error.code}: ${t.error.message}`);
  return t;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Date) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const open = (decision: ExtensionDecision = needsApproval()) =>
  deepFreeze(must(openExtension(decision, HOLDER, LEASE_END, T0)).state);
const apply = (state: ExtensionState, ...events: ExtensionEvent[]) =>
  deepFreeze(events.reduce((s, e) => must(transitionExtension(s, e)).state, state));

const reviewer = (id: string, ...groups: string[]) => ({ id, groups: groups.length ? groups : ['leads'] });
const approve = (id = 'op-lee', when = at(1), ...groups: string[]): ExtensionEvent => ({
  type: 'approve',
  reviewer: reviewer(id, ...groups),
  comment: 'ok',
  at: when,
});
const deny = (id = 'op-dan', when = at(1), comment = 'finish tomorrow'): ExtensionEvent => ({
  type: 'deny',
  reviewer: reviewer(id),
  comment,
  at: when,
});
const cancel = (id = HOLDER, admin = false): ExtensionEvent => ({
  type: 'cancel',
  by: { id, admin },
  at: at(1),
});

const validEvent: Record<ExtensionEventType, ExtensionEvent> = {
  approve: approve('op-lee', at(1.5)),
  deny: deny('op-dan', at(1.5)),
  cancel: cancel(),
  expire: { type: 'expire', now: at(2), grantEnded: false },
};

/** Every status, reached through the machine itself. */
const reached: Record<ExtensionStatus, ExtensionState> = {
  'pending-approval': open(),
  approved: apply(open(), approve('op-ann')),
  denied: apply(open(), deny('op-ann')),
  cancelled: apply(open(), cancel()),
  expired: apply(open(), { type: 'expire', now: at(2), grantEnded: false }),
};

type Expected =
  { to: ExtensionStatus; effects: ExtensionEffect['type'][] } | { refused: ExtensionRefusalCode };
const to = (status: ExtensionStatus, ...effects: ExtensionEffect['type'][]): Expected => ({
  to: status,
  effects,
});
const refused = (code: ExtensionRefusalCode): Expected => ({ refused: code });
const closed: Record<ExtensionEventType, Expected> = {
  approve: refused('extension-closed'),
  deny: refused('extension-closed'),
  cancel: refused('extension-closed'),
  expire: refused('extension-closed'),
};

/** Every status × every event; a new status or event does not compile until its row is decided here. */
const table: Record<ExtensionStatus, Record<ExtensionEventType, Expected>> = {
  'pending-approval': {
    approve: to('approved', 'audit', 'notify', 'extend-grant'),
    deny: to('denied', 'audit', 'notify'),
    cancel: to('cancelled', 'audit', 'notify'),
    expire: to('expired', 'audit', 'notify'),
  },
  approved: {
    approve: refused('already-decided'),
    deny: refused('already-decided'),
    cancel: refused('already-decided'),
    expire: refused('not-pending'),
  },
  denied: closed,
  cancelled: closed,
  expired: closed,
};

describe('extension machine: every status × every event', () => {
  for (const status of extensionStatuses) {
    for (const type of extensionEventTypes) {
      const expected = table[status][type];
      it(`${status} + ${type} → ${'refused' in expected ? `refused ${expected.refused}` : expected.to}`, () => {
        const result = transitionExtension(reached[status], validEvent[type]);
        if ('refused' in expected) {
          expect(result).toMatchObject({ ok: false, error: { code: expected.refused } });
        } else {
          const done = must(result);
          expect(done.state.status).toBe(expected.to);
          expect(done.effects.map((e) => e.type)).toEqual(expected.effects);
        }
      });
    }
  }
});

describe('opening an extension from the policy decision', () => {
  it('auto-approved: approved at once, the grant extended to the decided end', () => {
    const t = must(openExtension({ outcome: 'auto-approved', ...extended }, HOLDER, LEASE_END, T0));
    expect(t.state).toMatchObject({
      status: 'approved',
      autoApproved: true,
      decidedAt: T0,
      reviewDeadline: null,
    });
    expect(t.effects).toEqual([
      { type: 'audit', action: 'access-extension.requested' },
      { type: 'audit', action: 'access-extension.auto-approved' },
      { type: 'extend-grant', notAfter: at(3), maxDurationMs: 4 * H },
    ]);
  });

  it('break-glass: extended at once, with the alert', () => {
    const t = must(openExtension({ outcome: 'break-glass', ...extended }, HOLDER, LEASE_END, T0));
    expect(t.state).toMatchObject({ status: 'approved', breakGlass: true });
    expect(t.effects.map((e) => e.type)).toEqual(['audit', 'audit', 'alert', 'extend-grant']);
  });

  it('needs approval: pending, nothing extended, reviewers told', () => {
    const t = must(openExtension(needsApproval(), HOLDER, LEASE_END, T0));
    expect(t.state).toMatchObject({ status: 'pending-approval', decidedAt: null, approvals: leads });
    expect(t.effects.map((e) => e.type)).toEqual(['audit', 'notify']);
  });

  it('the review deadline never outlasts the lease: it is the earlier of the window and the current end', () => {
    expect(open(needsApproval(leads, at(24))).reviewDeadline).toEqual(LEASE_END);
    expect(open(needsApproval(leads, at(1))).reviewDeadline).toEqual(at(1));
  });

  it('a refused decision opens nothing and says why', () => {
    const t = openExtension(
      {
        outcome: 'refused',
        reasons: [{ code: 'at-maximum', message: 'the grant already runs the maximum' }],
      },
      HOLDER,
      LEASE_END,
      T0,
    );
    expect(t).toEqual({
      ok: false,
      error: { code: 'refused', message: 'the grant already runs the maximum' },
    });
  });
});

describe('reviews', () => {
  it('the holder cannot approve or deny their own extension', () => {
    for (const event of [approve(HOLDER), deny(HOLDER)]) {
      expect(transitionExtension(open(), event)).toMatchObject({ ok: false, error: { code: 'self-review' } });
    }
  });

  it('only members of the approver or required groups review', () => {
    const outsider = approve('op-eve', at(1), 'dev');
    expect(transitionExtension(open(), outsider)).toMatchObject({
      ok: false,
      error: { code: 'not-an-approver', message: expect.stringContaining('leads') },
    });
  });

  it('a quorum of 2 needs 2 distinct approvers; the same reviewer counts once', () => {
    const two = open(needsApproval({ quorum: 2, approverGroups: ['leads'], requiredGroups: [] }));
    const once = apply(two, approve('op-lee'));
    expect(once.status).toBe('pending-approval');
    expect(extensionTally(once)).toMatchObject({ approvers: 1, quorum: 2, satisfied: false });
    expect(transitionExtension(once, approve('op-lee', at(1.2)))).toMatchObject({
      ok: false,
      error: { code: 'already-reviewed' },
    });
    const done = must(transitionExtension(once, approve('op-lou', at(1.2))));
    expect(done.state.status).toBe('approved');
    expect(done.effects).toContainEqual({ type: 'extend-grant', notAfter: at(3), maxDurationMs: 4 * H });
  });

  it('each required group needs its own approver: one person in both covers one', () => {
    const both = open(needsApproval({ quorum: 2, approverGroups: [], requiredGroups: ['dba', 'security'] }));
    const one = apply(both, approve('op-sam', at(1), 'dba', 'security'));
    expect(extensionTally(one)).toMatchObject({ approvers: 1, satisfied: false });
    const two = apply(one, approve('op-dee', at(1.1), 'dba'));
    expect(extensionTally(two)).toMatchObject({ approvers: 2, missingGroups: [], satisfied: true });
    expect(two.status).toBe('approved');
  });

  it('a deny says why', () => {
    expect(transitionExtension(open(), deny('op-dan', at(1), '  '))).toMatchObject({
      ok: false,
      error: { code: 'comment-required' },
    });
  });

  it('no review at or after the deadline: the extension expires unreviewed', () => {
    expect(transitionExtension(open(), approve('op-lee', LEASE_END))).toMatchObject({
      ok: false,
      error: { code: 'review-window-closed' },
    });
  });
});

describe('cancel and expiry', () => {
  it('the holder or an admin cancels; anyone else is refused', () => {
    expect(transitionExtension(open(), cancel('op-eve'))).toMatchObject({
      ok: false,
      error: { code: 'not-your-extension' },
    });
    expect(must(transitionExtension(open(), cancel('op-adam', true))).state.status).toBe('cancelled');
  });

  it('expires at the deadline, not before, unless the grant ended first', () => {
    const early = { type: 'expire', now: at(1), grantEnded: false } as const;
    expect(transitionExtension(open(), early)).toMatchObject({ ok: false, error: { code: 'not-yet-due' } });
    const ended = must(transitionExtension(open(), { ...early, grantEnded: true }));
    expect(ended.state).toMatchObject({ status: 'expired', decidedAt: at(1) });
    expect(ended.effects).toContainEqual({ type: 'audit', action: 'access-extension.expired' });
  });
});

describe('properties', () => {
  const people = ['op-rita', 'op-lee', 'op-lou', 'op-ann', 'op-eve'];
  const event = fc.oneof(
    fc.record({
      type: fc.constantFrom('approve' as const, 'deny' as const),
      who: fc.constantFrom(...people),
      groups: fc.subarray(['leads', 'dba', 'dev']),
      hour: fc.double({ min: 0, max: 3, noNaN: true }),
      comment: fc.constantFrom('', 'ok', 'no'),
    }),
    fc.record({
      type: fc.constant('cancel' as const),
      who: fc.constantFrom(...people),
      admin: fc.boolean(),
    }),
    fc.record({
      type: fc.constant('expire' as const),
      hour: fc.double({ min: 0, max: 3, noNaN: true }),
      grantEnded: fc.boolean(),
    }),
  );
  function pick(raw: {
    type: string;
    who?: string;
    groups?: string[];
    hour?: number;
    comment?: string;
    admin?: boolean;
    grantEnded?: boolean;
  }): ExtensionEvent {
    switch (raw.type) {
      case 'approve':
      case 'deny':
        return {
          type: raw.type,
          reviewer: { id: raw.who!, groups: raw.groups! },
          comment: raw.comment!,
          at: at(raw.hour!),
        };
      case 'cancel':
        return { type: 'cancel', by: { id: raw.who!, admin: raw.admin! }, at: at(1) };
      default:
        return { type: 'expire', now: at(raw.hour!), grantEnded: raw.grantEnded! };
    }
  }

  it('extends the grant at most once, only on reaching approval, and only with a quorum of distinct eligible others', () => {
    const requirement = fc.record({
      quorum: fc.integer({ min: 1, max: 3 }),
      approverGroups: fc.subarray(['leads', 'dba']),
      requiredGroups: fc.subarray(['dba']),
    });
    fc.assert(
      fc.property(requirement, fc.array(event, { maxLength: 12 }), (approvals, raws) => {
        let state = open(needsApproval(approvals));
        let extendedTimes = 0;
        for (const raw of raws) {
          const t = transitionExtension(state, pick(raw));
          if (!t.ok) continue;
          const extends_ = t.effects.filter((e) => e.type === 'extend-grant').length;
          if (extends_ > 0) {
            expect(state.status).toBe('pending-approval');
            expect(t.state.status).toBe('approved');
          }
          extendedTimes += extends_;
          state = t.state;
        }
        expect(extendedTimes).toBe(state.status === 'approved' ? 1 : 0);
        if (state.status === 'approved') {
          const approvers = state.reviews.filter((r) => r.verdict === 'approve').map((r) => r.reviewerId);
          expect(approvers).not.toContain(HOLDER);
          expect(new Set(approvers).size).toBe(approvers.length);
          expect(approvers.length).toBeGreaterThanOrEqual(approvals.quorum);
          expect(extensionTally(state).satisfied).toBe(true);
          // approved before the deadline, which never passes the lease's end
          expect(state.decidedAt!.getTime()).toBeLessThan(LEASE_END.getTime());
        }
      }),
    );
  });

  it('a closed extension refuses every event and never changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ExtensionStatus>('denied', 'cancelled', 'expired', 'approved'),
        event,
        (status, raw) => {
          expect(transitionExtension(reached[status], pick(raw)).ok).toBe(false);
        },
      ),
    );
  });
});

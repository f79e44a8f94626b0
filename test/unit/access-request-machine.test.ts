import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApprovalRequirement } from '../../src/modules/access/domain/approvals.js';
import type { GrantTerms, PolicyDecision } from '../../src/modules/access/domain/policy.js';
import {
  openRequest,
  requestEventTypes,
  requestStatuses,
  tallyOf,
  transitionRequest,
  type AccessRequestState,
  type RequestEffect,
  type RequestEvent,
  type RequestEventType,
  type RequestRefusalCode,
  type RequestStatus,
  type RequestTransition,
} from '../../src/modules/access/domain/request-machine.js';

const H = 3_600_000;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * H);

const REQUESTER = 'op-rita';
const terms: GrantTerms = {
  policy: 'p',
  level: 'read-only',
  durationMs: H,
  maxDurationMs: 4 * H,
  clockStart: { mode: 'at-approval' },
  fileTransfer: false,
  breakGlass: false,
};
const leads: ApprovalRequirement = { quorum: 1, approverGroups: ['leads'], requiredGroups: [] };
const granted = { policy: 'p', applicable: ['p'], terms };

const needsApproval = (approvals: ApprovalRequirement = leads): PolicyDecision => ({
  outcome: 'needs-approval',
  ...granted,
  approvals,
  reviewDeadline: at(24),
});
const breakGlass: PolicyDecision = { outcome: 'break-glass', ...granted, approvals: leads };
const autoApproved: PolicyDecision = { outcome: 'auto-approved', ...granted, approvals: leads, rule: 0 };

function must(t: RequestTransition): { state: AccessRequestState; effects: readonly RequestEffect[] } {
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

const open = (decision: PolicyDecision) => deepFreeze(must(openRequest(decision, REQUESTER, T0)).state);
const apply = (state: AccessRequestState, ...events: RequestEvent[]) =>
  deepFreeze(events.reduce((s, e) => must(transitionRequest(s, e)).state, state));

const lead = (id: string, ...groups: string[]) => ({ id, groups: groups.length ? groups : ['leads'] });
const approve = (id = 'op-lee', when = at(1), ...groups: string[]): RequestEvent => ({
  type: 'approve',
  reviewer: lead(id, ...groups),
  comment: 'ok',
  at: when,
});
const deny = (id = 'op-dan', when = at(1)): RequestEvent => ({
  type: 'deny',
  reviewer: lead(id),
  comment: 'not needed',
  at: when,
});
const issued: RequestEvent = { type: 'credentials-issued', at: at(2) };

/** One valid example of each event: a reviewer with a say, the requester cancelling, a due expiry. */
const validEvent: Record<RequestEventType, RequestEvent> = {
  approve: approve('op-lee', at(3)),
  deny: deny('op-dan', at(3)),
  cancel: { type: 'cancel', by: { id: REQUESTER, admin: false }, at: at(3) },
  expire: { type: 'expire', now: at(25) },
  'credentials-issued': { type: 'credentials-issued', at: at(3) },
};

/** Every status an ordinary request can be in, reached through the machine itself. */
const ordinary: Record<RequestStatus, AccessRequestState> = {
  'pending-approval': open(needsApproval()),
  approved: apply(open(needsApproval()), approve('op-ann')),
  issued: apply(open(needsApproval()), approve('op-ann'), issued),
  denied: apply(open(needsApproval()), deny('op-ann')),
  cancelled: apply(open(needsApproval()), { type: 'cancel', by: { id: REQUESTER, admin: false }, at: at(1) }),
  expired: apply(open(needsApproval()), { type: 'expire', now: at(24) }),
};

type Expected = { to: RequestStatus; effects: RequestEffect['type'][] } | { refused: RequestRefusalCode };
const to = (status: RequestStatus, ...effects: RequestEffect['type'][]): Expected => ({
  to: status,
  effects,
});
const refused = (code: RequestRefusalCode): Expected => ({ refused: code });
/** Closed requests refuse everything; credentials that show up anyway are revoked, loudly. */
const closedIn = (status: RequestStatus): Record<RequestEventType, Expected> => ({
  approve: refused('request-closed'),
  deny: refused('request-closed'),
  cancel: refused('request-closed'),
  expire: refused('request-closed'),
  'credentials-issued': to(status, 'audit', 'alert', 'revoke-grant'),
});

/**
 * Every status × every event. Typed as a full Record, so adding a status or an event to the machine
 * does not compile until its row or column is decided here.
 */
const ordinaryTable: Record<RequestStatus, Record<RequestEventType, Expected>> = {
  'pending-approval': {
    approve: to('approved', 'audit', 'notify', 'provision-grant'),
    deny: to('denied', 'audit', 'notify'),
    cancel: to('cancelled', 'audit', 'notify'),
    expire: to('expired', 'audit', 'notify'),
    'credentials-issued': to('pending-approval', 'audit', 'alert', 'revoke-grant'),
  },
  approved: {
    approve: refused('already-decided'),
    deny: to('denied', 'audit', 'notify', 'revoke-grant'),
    cancel: to('cancelled', 'audit', 'revoke-grant'),
    expire: refused('not-pending'),
    'credentials-issued': to('issued', 'audit'),
  },
  issued: {
    approve: refused('already-decided'),
    deny: to('issued', 'audit', 'notify', 'revoke-grant'),
    cancel: refused('already-issued'),
    expire: refused('not-pending'),
    'credentials-issued': to('issued'),
  },
  denied: closedIn('denied'),
  cancelled: closedIn('cancelled'),
  expired: closedIn('expired'),
};

const bgApproved = open(breakGlass);
const breakGlassStates = {
  approved: bgApproved,
  issued: apply(bgApproved, issued),
  denied: apply(bgApproved, deny('op-ann')),
} satisfies Partial<Record<RequestStatus, AccessRequestState>>;

const breakGlassTable: Record<keyof typeof breakGlassStates, Record<RequestEventType, Expected>> = {
  approved: {
    approve: to('approved', 'audit'),
    deny: to('denied', 'audit', 'audit', 'notify', 'notify', 'revoke-grant'),
    cancel: refused('break-glass-not-cancellable'),
    expire: refused('not-pending'),
    'credentials-issued': to('issued', 'audit'),
  },
  issued: {
    approve: to('issued', 'audit'),
    deny: to('issued', 'audit', 'audit', 'notify', 'notify', 'revoke-grant'),
    cancel: refused('already-issued'),
    expire: refused('not-pending'),
    'credentials-issued': to('issued'),
  },
  denied: closedIn('denied'),
};

function check(state: AccessRequestState, event: RequestEvent, expected: Expected) {
  const result = transitionRequest(state, event);
  if ('refused' in expected) {
    expect(result).toMatchObject({ ok: false, error: { code: expected.refused } });
    if (!result.ok) expect(result.error.message.length).toBeGreaterThan(15);
    return;
  }
  const { state: next, effects } = must(result);
  expect(next.status).toBe(expected.to);
  expect(effects.map((e) => e.type)).toEqual(expected.effects);
  if (next.status !== state.status) expect(effects.some((e) => e.type === 'audit')).toBe(true);
}

describe('request machine: every status × every event', () => {
  it('the tables cover every status and event the machine declares', () => {
    expect(Object.keys(ordinaryTable).sort()).toEqual([...requestStatuses].sort());
    for (const row of [...Object.values(ordinaryTable), ...Object.values(breakGlassTable)]) {
      expect(Object.keys(row).sort()).toEqual([...requestEventTypes].sort());
    }
  });

  for (const status of requestStatuses) {
    for (const type of requestEventTypes) {
      it(`${status} × ${type}`, () => check(ordinary[status], validEvent[type], ordinaryTable[status][type]));
    }
  }
  for (const [status, row] of Object.entries(breakGlassTable)) {
    for (const type of requestEventTypes) {
      it(`break-glass ${status} × ${type}`, () =>
        check(breakGlassStates[status as keyof typeof breakGlassStates], validEvent[type], row[type]));
    }
  }

  it('every status a break-glass request can reach has a row', () => {
    const reached = new Set<RequestStatus>();
    let frontier = [bgApproved];
    for (let depth = 0; depth < 4; depth++) {
      frontier = frontier.flatMap((s) =>
        Object.values(validEvent)
          .map((e) => transitionRequest(s, e))
          .flatMap((t) => (t.ok ? [t.state] : [])),
      );
      for (const s of frontier) reached.add(s.status);
    }
    expect([...reached].sort()).toEqual(Object.keys(breakGlassTable).sort());
  });

  it('reviews by the requester, by outsiders, or twice by one reviewer never succeed, in any status', () => {
    const bad: RequestEvent[] = [
      approve(REQUESTER, at(3), 'leads'),
      { ...deny(REQUESTER, at(3)) },
      approve('op-outsider', at(3), 'dev'),
      { type: 'deny', reviewer: { id: 'op-x', groups: ['dev'] }, comment: 'no', at: at(3) },
      approve('op-ann', at(3)), // a second review, where op-ann has reviewed already
      { type: 'cancel', by: { id: 'op-lee', admin: false }, at: at(3) },
    ];
    for (const state of [...Object.values(ordinary), ...Object.values(breakGlassStates)]) {
      for (const event of bad) {
        const second = event.type === 'approve' && event.reviewer.id === 'op-ann';
        if (second && !state.reviews.some((r) => r.reviewerId === 'op-ann')) continue;
        expect(transitionRequest(state, event).ok).toBe(false);
      }
    }
  });
});

describe('reviews', () => {
  const refusal = (t: RequestTransition) => (t.ok ? 'ok' : `${t.error.code}: ${t.error.message}`);

  it('refuses self-approval, outsiders and a second review by the same person, and says why', () => {
    const pending = open(needsApproval({ quorum: 2, approverGroups: ['leads'], requiredGroups: [] }));
    expect(refusal(transitionRequest(pending, approve(REQUESTER)))).toBe(
      'self-review: you cannot review your own request',
    );
    expect(refusal(transitionRequest(pending, deny(REQUESTER)))).toBe(
      'self-review: you cannot review your own request; cancel it instead',
    );
    expect(refusal(transitionRequest(pending, approve('op-x', at(1), 'dev')))).toBe(
      'not-an-approver: only members of leads may review this request',
    );
    const once = apply(pending, approve('op-lee'));
    expect(refusal(transitionRequest(once, approve('op-lee', at(2))))).toMatch(
      /^already-reviewed: .*counts once/,
    );
  });

  it('a quorum of 2 needs 2 distinct approvers', () => {
    const pending = open(needsApproval({ quorum: 2, approverGroups: ['leads'], requiredGroups: [] }));
    const one = apply(pending, approve('op-lee'));
    expect(one.status).toBe('pending-approval');
    expect(tallyOf(one)).toEqual({ approvers: 1, quorum: 2, missingGroups: [], satisfied: false });
    const two = must(transitionRequest(one, approve('op-ann', at(2))));
    expect(two.state).toMatchObject({ status: 'approved', decidedAt: at(2) });
    expect(two.effects).toContainEqual({ type: 'provision-grant' });
  });

  describe('one approval from dba AND one from security', () => {
    const pending = open(
      needsApproval({ quorum: 2, approverGroups: [], requiredGroups: ['dba', 'security'] }),
    );

    it('two dba approvals are not enough', () => {
      const s = apply(pending, approve('op-d1', at(1), 'dba'), approve('op-d2', at(1), 'dba'));
      expect(s.status).toBe('pending-approval');
      expect(tallyOf(s)).toMatchObject({ approvers: 2, missingGroups: ['security'] });
    });

    it('one person in both groups covers only one of them', () => {
      const s = apply(pending, approve('op-both', at(1), 'dba', 'security'));
      expect(tallyOf(s)).toMatchObject({ approvers: 1, satisfied: false });
      expect(apply(s, approve('op-d1', at(1), 'dba')).status).toBe('approved');
    });

    it('a reviewer counts only for the groups they are in', () => {
      const s = apply(pending, approve('op-d1', at(1), 'dba', 'chess'));
      expect(s.reviews[0]!.countedFor).toEqual(['dba']);
      expect(apply(s, approve('op-s1', at(1), 'security')).status).toBe('approved');
    });
  });

  it('a deny needs a comment and decides at once', () => {
    const pending = open(needsApproval());
    const empty = { ...deny(), comment: ' ' };
    expect(refusal(transitionRequest(pending, empty))).toBe(
      'comment-required: say why you deny it: the requester sees your comment',
    );
    expect(apply(pending, deny())).toMatchObject({ status: 'denied', decidedAt: at(1) });
  });

  it('reviews stop at the review deadline, and the request expires only then', () => {
    const pending = open(needsApproval());
    expect(refusal(transitionRequest(pending, approve('op-lee', at(24))))).toMatch(/^review-window-closed: /);
    expect(refusal(transitionRequest(pending, { type: 'expire', now: at(23.9) }))).toMatch(/^not-yet-due: /);
    expect(apply(pending, { type: 'expire', now: at(24) }).status).toBe('expired');
  });

  it('only the requester or an admin cancels', () => {
    const pending = open(needsApproval());
    expect(
      refusal(transitionRequest(pending, { type: 'cancel', by: { id: 'op-x', admin: false }, at: at(1) })),
    ).toBe('not-your-request: only the requester or an admin may cancel a request');
    expect(apply(pending, { type: 'cancel', by: { id: 'op-x', admin: true }, at: at(1) }).status).toBe(
      'cancelled',
    );
  });
});

describe('once credentials are issued, the decision is frozen', () => {
  it('a late deny revokes the grant and leaves the request issued', () => {
    const live = ordinary.issued;
    const late = must(transitionRequest(live, deny('op-dan', at(5))));
    expect(late.state.status).toBe('issued');
    expect(late.effects).toEqual([
      { type: 'audit', action: 'access-request.denied-after-issue' },
      { type: 'notify', to: 'requester', notice: 'access-revoked' },
      { type: 'revoke-grant', reason: 'late-denial' },
    ]);
    expect(late.state.reviews.at(-1)).toMatchObject({ verdict: 'deny', afterDecision: true });
  });

  it('a deny before issue still decides, and stops the grant', () => {
    const t = must(transitionRequest(ordinary.approved, deny('op-dan', at(1.5))));
    expect(t.state.status).toBe('denied');
    expect(t.effects).toContainEqual({ type: 'revoke-grant', reason: 'request-denied' });
    expect(transitionRequest(t.state, issued)).toMatchObject({
      ok: true,
      state: { status: 'denied' },
      effects: expect.arrayContaining([{ type: 'revoke-grant', reason: 'credentials-without-approval' }]),
    });
  });

  it('opening: auto-approved provisions at once; break-glass alerts and provisions; refused opens nothing', () => {
    expect(must(openRequest(autoApproved, REQUESTER, T0))).toMatchObject({
      state: { status: 'approved', autoApproved: true, decidedAt: T0, reviewDeadline: null },
      effects: expect.arrayContaining([{ type: 'provision-grant' }]),
    });
    const bg = must(openRequest(breakGlass, REQUESTER, T0));
    expect(bg.state).toMatchObject({ status: 'approved', breakGlass: { postReview: 'pending' } });
    expect(bg.effects).toContainEqual({ type: 'alert', alert: 'break-glass-opened' });
    const no: PolicyDecision = {
      outcome: 'refused',
      policy: null,
      applicable: [],
      reasons: [{ code: 'no-policy', message: 'no policy lets you' }],
    };
    expect(openRequest(no, REQUESTER, T0)).toEqual({
      ok: false,
      error: { code: 'refused', message: 'no policy lets you' },
    });
  });

  it('break-glass is accepted by enough reviews afterwards', () => {
    const s = apply(breakGlassStates.issued, approve('op-lee', at(5)));
    expect(s).toMatchObject({ status: 'issued', breakGlass: { postReview: 'accepted' } });
    expect(transitionRequest(s, approve('op-ann', at(6)))).toMatchObject({
      ok: false,
      error: { code: 'already-decided' },
    });
  });
});

describe('any sequence of events', () => {
  const reviewers = [
    { id: REQUESTER, groups: ['leads', 'dba', 'security'] },
    { id: 'op-lee', groups: ['leads'] },
    { id: 'op-dee', groups: ['dba'] },
    { id: 'op-sue', groups: ['security', 'dba'] },
    { id: 'op-out', groups: ['dev'] },
  ];
  const event = fc.oneof(
    fc.record({
      type: fc.constant('approve' as const),
      reviewer: fc.constantFrom(...reviewers),
      comment: fc.constant('ok'),
    }),
    fc.record({
      type: fc.constant('deny' as const),
      reviewer: fc.constantFrom(...reviewers),
      comment: fc.constantFrom('no', ''),
    }),
    fc.record({
      type: fc.constant('cancel' as const),
      by: fc.constantFrom(
        { id: REQUESTER, admin: false },
        { id: 'op-lee', admin: false },
        { id: 'op-adm', admin: true },
      ),
    }),
    fc.record({ type: fc.constant('expire' as const) }),
    fc.record({ type: fc.constant('credentials-issued' as const) }),
  );
  const start = fc.constantFrom(
    needsApproval(leads),
    needsApproval({ quorum: 2, approverGroups: ['leads'], requiredGroups: ['dba', 'security'] }),
    autoApproved,
    breakGlass,
  );

  it('keeps the invariants: frozen after issue, closed stays closed, provisioning at most once and only when approved', () => {
    fc.assert(
      fc.property(
        start,
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 12 })), { maxLength: 12 }),
        (decision, steps) => {
          let state = must(openRequest(decision, REQUESTER, T0));
          let provisions = state.effects.filter((e) => e.type === 'provision-grant').length;
          let hours = 0;
          for (const [raw, gap] of steps) {
            hours += gap;
            const e = (
              raw.type === 'expire' ? { ...raw, now: at(hours) } : { ...raw, at: at(hours) }
            ) as RequestEvent;
            const before = state.state;
            const t = transitionRequest(before, e);
            if (!t.ok) continue;
            const after = t.state;
            const types = t.effects.map((x) => x.type);
            provisions += types.filter((x) => x === 'provision-grant').length;
            if (types.includes('provision-grant')) expect(after.status).toBe('approved');
            if (before.issuedAt !== null) expect(after.status).toBe('issued');
            if (['denied', 'cancelled', 'expired'].includes(before.status))
              expect(after.status).toBe(before.status);
            if (before.status === 'issued' && e.type === 'deny') expect(types).toContain('revoke-grant');
            if (after.status !== before.status) expect(types).toContain('audit');
            state = { state: after, effects: t.effects };
          }
          expect(provisions).toBeLessThanOrEqual(1);
          const final = state.state;
          expect(final.reviews.some((r) => r.reviewerId === REQUESTER)).toBe(false);
          expect(new Set(final.reviews.map((r) => r.reviewerId)).size).toBe(final.reviews.length);
          if (!final.autoApproved && !final.breakGlass && ['approved', 'issued'].includes(final.status)) {
            expect(tallyOf(final).satisfied).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

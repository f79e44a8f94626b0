import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultGrantLimits,
  effectsToResume,
  grantEventTypes,
  grantStatuses,
  openGrant,
  transitionGrant,
  type GrantEffect,
  type GrantEvent,
  type GrantEventType,
  type GrantRefusalCode,
  type GrantState,
  type GrantStatus,
  type GrantTransition,
} from '../../src/modules/access/domain/grant-machine.js';
import type { GrantTerms } from '../../src/modules/access/domain/policy.js';

const M = 60_000;
const H = 60 * M;
const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * M);

const terms = (over: Partial<GrantTerms> = {}): GrantTerms => ({
  policy: 'p',
  level: 'read-only',
  durationMs: H,
  maxDurationMs: 4 * H,
  clockStart: { mode: 'at-approval' },
  fileTransfer: false,
  breakGlass: false,
  ...over,
});
const firstReveal = terms({ clockStart: { mode: 'at-first-reveal', claimWindow: 30 * M } });

function must(t: GrantTransition) {
  if (!t.ok) throw new Error(`${t.error.code}: ${t.error.message}`);
  return t;
}
const apply = (grant: GrantState, ...events: GrantEvent[]) =>
  events.reduce((g, e) => Object.freeze(must(transitionGrant(g, e)).state), grant);

const start = (m = 1): GrantEvent => ({ type: 'start-provisioning', at: at(m) });
const provisioned = (m = 2): GrantEvent => ({ type: 'provisioned', at: at(m) });
const provisionFailed = (m: number, retryable = true): GrantEvent => ({
  type: 'provisioning-failed',
  at: at(m),
  retryable,
  error: 'connection refused',
});
const revoke = (m = 10): GrantEvent => ({ type: 'revoke', reason: 'revoked-by-holder', at: at(m) });
const revokedOk = (m = 11): GrantEvent => ({ type: 'revoked', at: at(m) });
const revokeFailed = (m: number, retryable = true): GrantEvent => ({
  type: 'revocation-failed',
  at: at(m),
  retryable,
  error: 'target down',
});

const pending = Object.freeze(openGrant(terms(), T0).state);
const provisioning = apply(pending, start());
const active = apply(provisioning, provisioned());
const revoking = apply(active, revoke());

const states: Record<GrantStatus, GrantState> = {
  pending,
  provisioning,
  active,
  revoking,
  revoked: apply(revoking, revokedOk()),
  failed: apply(provisioning, provisionFailed(3, false), revokedOk(4)),
  revocation_failed: apply(revoking, revokeFailed(11, false)),
};

/** One valid example of each event, 30 minutes in (inside the 1 h lease); `expire` when it is due. */
const validEvent: Record<GrantEventType, GrantEvent> = {
  'start-provisioning': start(30),
  provisioned: provisioned(30),
  'provisioning-failed': provisionFailed(30),
  revealed: { type: 'revealed', at: at(30) },
  revoke: revoke(30),
  expire: { type: 'expire', now: at(60) },
  extend: { type: 'extend', notAfter: at(120), maxDurationMs: 4 * H, at: at(30) },
  revoked: revokedOk(30),
  'revocation-failed': revokeFailed(30),
};

type Expected = { to: GrantStatus; effects: GrantEffect['type'][] } | { refused: GrantRefusalCode };
const to = (status: GrantStatus, ...effects: GrantEffect['type'][]): Expected => ({ to: status, effects });
const refused = (code: GrantRefusalCode): Expected => ({ refused: code });

const ended: Record<GrantEventType, Expected> = {
  'start-provisioning': refused('out-of-order'),
  provisioned: refused('out-of-order'),
  'provisioning-failed': refused('out-of-order'),
  revealed: refused('not-active'),
  revoke: refused('grant-ended'),
  expire: refused('grant-ended'),
  extend: refused('not-active'),
  revoked: refused('out-of-order'),
  'revocation-failed': refused('out-of-order'),
};

/** Every status × every event; a full Record, so a new status or event must be decided here to compile. */
const table: Record<GrantStatus, Record<GrantEventType, Expected>> = {
  pending: {
    'start-provisioning': to('provisioning', 'audit', 'create-account'),
    provisioned: refused('out-of-order'),
    'provisioning-failed': refused('out-of-order'),
    revealed: refused('not-active'),
    revoke: to('revoked', 'audit', 'discard-credential'),
    expire: to('revoked', 'audit', 'discard-credential'),
    extend: refused('not-active'),
    revoked: refused('out-of-order'),
    'revocation-failed': refused('out-of-order'),
  },
  provisioning: {
    'start-provisioning': refused('out-of-order'),
    provisioned: to('active', 'audit', 'credentials-issued', 'schedule-expiry', 'notify'),
    'provisioning-failed': to('provisioning', 'retry'),
    revealed: refused('not-active'),
    revoke: to('provisioning', 'audit'),
    expire: to('provisioning', 'audit'),
    extend: refused('not-active'),
    revoked: refused('out-of-order'),
    'revocation-failed': refused('out-of-order'),
  },
  active: {
    'start-provisioning': refused('out-of-order'),
    provisioned: refused('out-of-order'),
    'provisioning-failed': refused('out-of-order'),
    revealed: to('active', 'audit', 'discard-credential'),
    revoke: to('revoking', 'audit', 'discard-credential', 'remove-account'),
    expire: to('revoking', 'audit', 'discard-credential', 'remove-account'),
    extend: to('active', 'audit', 'set-account-expiry', 'schedule-expiry'),
    revoked: refused('out-of-order'),
    'revocation-failed': refused('out-of-order'),
  },
  revoking: {
    'start-provisioning': refused('out-of-order'),
    provisioned: refused('out-of-order'),
    'provisioning-failed': refused('out-of-order'),
    revealed: refused('not-active'),
    revoke: to('revoking'),
    expire: to('revoking'),
    extend: refused('not-active'),
    revoked: to('revoked', 'audit', 'notify'),
    'revocation-failed': to('revoking', 'retry'),
  },
  revoked: ended,
  failed: ended,
  revocation_failed: {
    'start-provisioning': refused('out-of-order'),
    provisioned: refused('out-of-order'),
    'provisioning-failed': refused('out-of-order'),
    revealed: refused('not-active'),
    revoke: to('revocation_failed'),
    expire: to('revocation_failed'),
    extend: refused('not-active'),
    revoked: to('revoked', 'audit', 'alert', 'notify'),
    'revocation-failed': to('revocation_failed', 'retry'),
  },
};

/** Holds for every accepted transition, whatever the state and event. */
function checkInvariants(before: GrantState, after: GrantState, effects: readonly GrantEffect[]) {
  const types = effects.map((e) => e.type);
  if (after.status !== before.status) expect(types).toContain('audit');
  // each outside effect is bracketed: emitted only with the state that awaits its outcome
  if (types.includes('create-account')) expect(after.status).toBe('provisioning');
  if (types.includes('remove-account')) expect(after.status).toBe('revoking');
  for (const e of effects) {
    if (e.type === 'retry' && e.step === 'create-account') expect(after.status).toBe('provisioning');
    if (e.type === 'retry' && e.step === 'remove-account')
      expect(['revoking', 'revocation_failed']).toContain(after.status);
  }
  if (types.includes('credentials-issued'))
    expect([before.status, after.status]).toEqual(['provisioning', 'active']);
  if (after.status === 'active') expect(after.endReason).toBeNull();
  if (before.endReason !== null) expect(after.status).not.toBe('active');
  if (before.status === 'revoked' || before.status === 'failed') expect(after).toBe(before);
  if (after.lease.startedAt !== null) {
    expect(after.lease.notAfter.getTime()).toBeLessThanOrEqual(
      after.lease.startedAt.getTime() + after.maxDurationMs,
    );
  }
}

function check(state: GrantState, event: GrantEvent, expected: Expected) {
  const result = transitionGrant(state, event);
  if ('refused' in expected) {
    expect(result).toMatchObject({ ok: false, error: { code: expected.refused } });
    if (!result.ok) expect(result.error.message.length).toBeGreaterThan(15);
    return;
  }
  const { state: next, effects } = must(result);
  expect(next.status).toBe(expected.to);
  expect(effects.map((e) => e.type)).toEqual(expected.effects);
  checkInvariants(state, next, effects);
}

describe('grant machine: every status × every event', () => {
  it('the table covers every status and event the machine declares', () => {
    expect(Object.keys(table).sort()).toEqual([...grantStatuses].sort());
    for (const row of Object.values(table))
      expect(Object.keys(row).sort()).toEqual([...grantEventTypes].sort());
  });

  for (const status of grantStatuses) {
    for (const type of grantEventTypes) {
      it(`${status} × ${type}`, () => check(states[status], validEvent[type], table[status][type]));
    }
  }

  it('says what to run again for a grant found in each status after a restart', () => {
    const resume: Record<GrantStatus, GrantEffect[]> = {
      pending: [{ type: 'enqueue-provisioning' }],
      provisioning: [{ type: 'create-account', expiresAt: at(60) }],
      active: [{ type: 'schedule-expiry', at: at(60) }],
      revoking: [{ type: 'remove-account' }],
      revocation_failed: [{ type: 'remove-account' }],
      revoked: [],
      failed: [],
    };
    for (const status of grantStatuses) expect(effectsToResume(states[status])).toEqual(resume[status]);
  });
});

describe('provisioning', () => {
  it('creates the account with the native expiry of the lease and issues credentials when done', () => {
    expect(openGrant(terms(), T0)).toEqual({
      state: expect.objectContaining({
        status: 'pending',
        lease: { startedAt: T0, notAfter: at(60), claimDeadline: null },
      }),
      effects: [{ type: 'audit', action: 'grant.created' }, { type: 'enqueue-provisioning' }],
    });
    expect(must(transitionGrant(pending, start())).effects).toContainEqual({
      type: 'create-account',
      expiresAt: at(60),
    });
    expect(must(transitionGrant(provisioning, provisioned())).effects).toContainEqual({
      type: 'schedule-expiry',
      at: at(60),
    });
  });

  it('a revoke during provisioning waits for the creation to report, then revokes: never active', () => {
    const asked = apply(provisioning, revoke(1.5));
    expect(asked).toMatchObject({ status: 'provisioning', endReason: 'revoked-by-holder' });
    expect(transitionGrant(asked, revoke(1.6))).toEqual({ ok: true, state: asked, effects: [] });
    const done = must(transitionGrant(asked, provisioned()));
    expect(done.state.status).toBe('revoking');
    expect(done.effects.map((e) => e.type)).not.toContain('credentials-issued');
    expect(done.effects).toContainEqual({ type: 'remove-account' });
    expect(apply(done.state, revokedOk()).status).toBe('revoked');
  });

  it('an account created after its lease ended is removed at once', () => {
    const late = must(transitionGrant(provisioning, provisioned(61)));
    expect(late.state).toMatchObject({ status: 'revoking', endReason: 'expired' });
    expect(late.effects.map((e) => e.type)).not.toContain('credentials-issued');
  });

  it('a provisioning job that starts after the lease ended creates nothing', () => {
    const t = must(transitionGrant(pending, start(60)));
    expect(t.state).toMatchObject({ status: 'revoked', endReason: 'expired' });
    expect(t.effects.map((e) => e.type)).not.toContain('create-account');
  });

  it('retries a retryable failure up to the limit, then cleans up and ends failed', () => {
    let g = provisioning;
    for (let attempt = 2; attempt <= defaultGrantLimits.provisionAttempts; attempt++) {
      const t = must(transitionGrant(g, provisionFailed(attempt)));
      expect(t.effects).toEqual([{ type: 'retry', step: 'create-account', attempt }]);
      g = t.state;
    }
    const last = must(transitionGrant(g, provisionFailed(9)));
    expect(last.state).toMatchObject({ status: 'revoking', endReason: 'provisioning-failed' });
    expect(last.effects).toContainEqual({ type: 'remove-account' });
    expect(last.effects).toContainEqual({ type: 'notify', notice: 'provisioning-failed' });
    const failed = must(transitionGrant(last.state, revokedOk()));
    expect(failed.state.status).toBe('failed');
    expect(failed.effects).toEqual([{ type: 'audit', action: 'grant.failed' }]);
  });

  it('does not retry a creation that was asked to stop', () => {
    const t = must(transitionGrant(apply(provisioning, revoke(1.5)), provisionFailed(2)));
    expect(t.state.status).toBe('revoking');
  });
});

describe('revocation is never given up', () => {
  it('flags revocation_failed after the retries, raises the alert once, keeps retrying, clears it on success', () => {
    let g = revoking;
    for (let attempt = 2; attempt <= defaultGrantLimits.revokeAttemptsBeforeAlert; attempt++) {
      const t = must(transitionGrant(g, revokeFailed(10 + attempt)));
      expect(t.state.status).toBe('revoking');
      expect(t.effects).toEqual([{ type: 'retry', step: 'remove-account', attempt }]);
      g = t.state;
    }
    const flagged = must(transitionGrant(g, revokeFailed(30)));
    expect(flagged.state.status).toBe('revocation_failed');
    expect(flagged.effects).toEqual([
      { type: 'audit', action: 'grant.revocation-failed' },
      { type: 'alert', alert: 'revocation-failed', raised: true },
      { type: 'retry', step: 'remove-account', attempt: 9 },
    ]);
    const again = must(transitionGrant(flagged.state, revokeFailed(40)));
    expect(again.effects).toEqual([{ type: 'retry', step: 'remove-account', attempt: 10 }]);
    const done = must(transitionGrant(again.state, revokedOk(50)));
    expect(done.state).toMatchObject({ status: 'revoked', endedAt: at(50) });
    expect(done.effects).toContainEqual({ type: 'alert', alert: 'revocation-failed', raised: false });
  });

  it('an error retrying cannot fix is flagged at once, and still retried', () => {
    expect(must(transitionGrant(revoking, revokeFailed(12, false))).effects).toContainEqual({
      type: 'retry',
      step: 'remove-account',
      attempt: 2,
    });
  });
});

describe('the clock', () => {
  it('at-approval: the lease runs from approval; expiry before it is due is refused', () => {
    expect(transitionGrant(active, { type: 'expire', now: at(59) })).toMatchObject({
      ok: false,
      error: { code: 'not-yet-due', message: 'the lease runs until 2026-03-02T10:00:00.000Z' },
    });
    expect(apply(active, { type: 'expire', now: at(60) })).toMatchObject({
      status: 'revoking',
      endReason: 'expired',
    });
  });

  describe('at-first-reveal', () => {
    const waiting = apply(openGrant(firstReveal, T0).state, start(), provisioned());

    it('waits for the claim window, natively expiring at its end', () => {
      expect(waiting.lease).toEqual({ startedAt: null, notAfter: null, claimDeadline: at(30) });
      expect(effectsToResume(waiting)).toEqual([{ type: 'schedule-expiry', at: at(30) }]);
      expect(apply(waiting, { type: 'expire', now: at(30) })).toMatchObject({
        status: 'revoking',
        endReason: 'unclaimed',
      });
    });

    it('starts the clock at the first reveal and moves the native expiry', () => {
      const t = must(transitionGrant(waiting, { type: 'revealed', at: at(20) }));
      expect(t.state.lease).toEqual({ startedAt: at(20), notAfter: at(80), claimDeadline: at(30) });
      expect(t.effects).toEqual([
        { type: 'audit', action: 'grant.credential-revealed' },
        { type: 'discard-credential' },
        { type: 'set-account-expiry', expiresAt: at(80) },
        { type: 'schedule-expiry', at: at(80) },
      ]);
      expect(transitionGrant(t.state, { type: 'expire', now: at(40) }).ok).toBe(false);
      expect(transitionGrant(t.state, { type: 'revealed', at: at(21) })).toMatchObject({
        ok: false,
        error: {
          code: 'already-revealed',
          message: 'the credential was already revealed at 2026-03-02T09:20:00.000Z',
        },
      });
    });

    it('refuses a reveal after the claim window, and an extension before the clock starts', () => {
      expect(transitionGrant(waiting, { type: 'revealed', at: at(30) })).toMatchObject({
        ok: false,
        error: { code: 'claim-window-closed' },
      });
      expect(transitionGrant(waiting, validEvent.extend)).toMatchObject({
        ok: false,
        error: { code: 'not-started' },
      });
    });
  });

  it('never reveals a credential once the lease is over, even before the reaper has run', () => {
    expect(transitionGrant(active, { type: 'revealed', at: at(60) })).toMatchObject({
      ok: false,
      error: { code: 'lease-ended' },
    });
  });

  it('extends up to the maximum from the original start, and not past it', () => {
    const ext = (notAfter: Date, m = 30): GrantEvent => ({
      type: 'extend',
      notAfter,
      maxDurationMs: 4 * H,
      at: at(m),
    });
    expect(apply(active, ext(at(240))).lease.notAfter).toEqual(at(240));
    expect(transitionGrant(active, ext(at(241)))).toMatchObject({
      ok: false,
      error: {
        code: 'exceeds-maximum',
        message: 'the policy maximum ends the grant at 2026-03-02T13:00:00.000Z at the latest',
      },
    });
    expect(transitionGrant(active, ext(at(60)))).toMatchObject({ ok: false, error: { code: 'not-later' } });
    expect(transitionGrant(active, ext(at(120), 60))).toMatchObject({
      ok: false,
      error: { code: 'lease-ended' },
    });
  });
});

describe('any sequence of events', () => {
  const event = fc.oneof(
    fc.constant({ type: 'start-provisioning' as const }),
    fc.constant({ type: 'provisioned' as const }),
    fc.record({
      type: fc.constant('provisioning-failed' as const),
      retryable: fc.boolean(),
      error: fc.constant('x'),
    }),
    fc.constant({ type: 'revealed' as const }),
    fc.record({
      type: fc.constant('revoke' as const),
      reason: fc.constantFrom('revoked-by-admin' as const, 'late-denial' as const),
    }),
    fc.constant({ type: 'expire' as const }),
    fc.record({ type: fc.constant('extend' as const), plus: fc.integer({ min: 1, max: 300 }) }),
    fc.constant({ type: 'revoked' as const }),
    fc.record({
      type: fc.constant('revocation-failed' as const),
      retryable: fc.boolean(),
      error: fc.constant('x'),
    }),
  );

  it('keeps the invariants: bracketed effects, never active once ending, terminal states stay put', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(terms(), firstReveal),
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 20 })), { maxLength: 25 }),
        (grantTerms, steps) => {
          let g = openGrant(grantTerms, T0).state;
          let minutes = 0;
          let everActive = false;
          for (const [raw, gap] of steps) {
            minutes += gap;
            const e = (
              raw.type === 'expire'
                ? { type: 'expire', now: at(minutes) }
                : raw.type === 'extend'
                  ? {
                      type: 'extend',
                      notAfter: at(minutes + raw.plus),
                      maxDurationMs: 4 * H,
                      at: at(minutes),
                    }
                  : { ...raw, at: at(minutes) }
            ) as GrantEvent;
            const t = transitionGrant(g, e);
            if (!t.ok) continue;
            checkInvariants(g, t.state, t.effects);
            if (e.type === 'revealed') expect(g.status).toBe('active');
            g = t.state;
            everActive ||= g.status === 'active';
          }
          if (g.status === 'failed') expect(everActive).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

import { leaseDueAt, openLease, startAtReveal } from './lease.js';
import type { Lease } from './lease.js';
import type { GrantTerms } from './policy.js';
import { refuse } from './types.js';
import type { RevokeReason, Transition } from './types.js';

/**
 * The grant lifecycle, driven by job outcomes, the holder, admins and the clock:
 *
 *   pending ─start-provisioning─► provisioning ─provisioned─► active ─revoke/expire─► revoking ─revoked─► revoked
 *      │ revoke/expire               │ terminal failure ───────────────────────────────► revoking ─revoked─► failed
 *      ▼                             │ revoke/expire: remembered; ends when provisioning reports
 *   revoked (nothing done outside)                       revoking ─retries exhausted─► revocation_failed ─revoked─► …
 *
 * Crash safety is the service's job; this machine makes it expressible. Each outside effect
 * (`create-account`, `remove-account`, `set-account-expiry`) is emitted only by a transition whose new
 * state is persisted first, and its outcome comes back as an event persisted after. A crash in between
 * leaves the grant in `provisioning` or `revoking`, and `effectsToResume` says what to run again — every
 * effect is idempotent. A revoke that arrives while an account is being created is remembered and acted
 * on when the creation reports: revoking earlier could race the creation and leave an account behind.
 *
 * Never in `active`, never revealed, once a revoke is asked for. `failed` means the grant never became
 * usable and whatever provisioning left on the target has been removed.
 */

export const grantStatuses = [
  'pending',
  'provisioning',
  'active',
  'revoking',
  'revoked',
  'failed',
  'revocation_failed',
] as const;
export type GrantStatus = (typeof grantStatuses)[number];

export const grantEventTypes = [
  'start-provisioning',
  'provisioned',
  'provisioning-failed',
  'revealed',
  'revoke',
  'expire',
  'extend',
  'revoked',
  'revocation-failed',
] as const;
export type GrantEventType = (typeof grantEventTypes)[number];

export interface GrantState {
  status: GrantStatus;
  durationMs: number;
  /** Longest the lease may run from its start; extensions are capped here. */
  maxDurationMs: number;
  lease: Lease;
  revealedAt: Date | null;
  /** Why the grant is ending or ended. Set while still `provisioning` when a revoke arrives mid-flight. */
  endReason: RevokeReason | null;
  /** Runs of each outside step so far, the current one included. */
  attempts: { provision: number; revoke: number };
  endedAt: Date | null;
}

/** Outcomes of the job carrying out `create-account` or `remove-account` are reported as these events. */
export type GrantEvent =
  | { type: 'start-provisioning'; at: Date }
  | { type: 'provisioned'; at: Date }
  | { type: 'provisioning-failed'; at: Date; retryable: boolean; error: string }
  | { type: 'revealed'; at: Date }
  | { type: 'revoke'; reason: RevokeReason; at: Date }
  | { type: 'expire'; now: Date }
  | { type: 'extend'; notAfter: Date; maxDurationMs: number; at: Date }
  | { type: 'revoked'; at: Date }
  | { type: 'revocation-failed'; at: Date; retryable: boolean; error: string };

export type GrantAuditAction =
  | 'grant.created'
  | 'grant.provisioning-started'
  | 'grant.activated'
  | 'grant.provisioning-failed'
  | 'grant.revocation-requested'
  | 'grant.revocation-started'
  | 'grant.revoked'
  | 'grant.failed'
  | 'grant.revocation-failed'
  | 'grant.credential-revealed'
  | 'grant.extended';

export type GrantEffect =
  /** Enqueue the provisioning job; it sends `start-provisioning` before touching the target. */
  | { type: 'enqueue-provisioning' }
  /** Outside: create the account, natively expiring at `expiresAt`; report `provisioned` or `provisioning-failed`. */
  | { type: 'create-account'; expiresAt: Date }
  /** Outside: end its sessions, drop the account, verify it is gone; report `revoked` or `revocation-failed`. */
  | { type: 'remove-account' }
  /** Outside, idempotent, no outcome event: move the native expiry. The lease reaper stays authoritative. */
  | { type: 'set-account-expiry'; expiresAt: Date }
  /** Run the step again after the job runner's backoff. */
  | { type: 'retry'; step: 'create-account' | 'remove-account'; attempt: number }
  /** When the lease reaper must send `expire`. */
  | { type: 'schedule-expiry'; at: Date }
  /** Send the request machine `credentials-issued`. */
  | { type: 'credentials-issued' }
  /** Delete the sealed password: it is kept only until revealed or the grant ends. */
  | { type: 'discard-credential' }
  | { type: 'notify'; notice: 'credentials-ready' | 'access-ended' | 'provisioning-failed' }
  /** Raised: set the alert metric and tell admins; cleared when the revocation finally succeeds. */
  | { type: 'alert'; alert: 'revocation-failed'; raised: boolean }
  | { type: 'audit'; action: GrantAuditAction };

export type GrantRefusalCode =
  | 'out-of-order'
  | 'not-active'
  | 'already-revealed'
  | 'claim-window-closed'
  | 'lease-ended'
  | 'not-started'
  | 'not-later'
  | 'exceeds-maximum'
  | 'not-yet-due'
  | 'grant-ended';

export type GrantTransition = Transition<GrantState, GrantEffect, GrantRefusalCode>;

export interface GrantLimits {
  /** Runs of `create-account` before a retryable failure becomes terminal. */
  provisionAttempts: number;
  /** Runs of `remove-account` before the grant is flagged `revocation_failed` (retries go on). */
  revokeAttemptsBeforeAlert: number;
}

export const defaultGrantLimits: GrantLimits = { provisionAttempts: 5, revokeAttemptsBeforeAlert: 8 };

const ok = (state: GrantState, ...effects: GrantEffect[]): GrantTransition => ({ ok: true, state, effects });
const audit = (action: GrantAuditAction): GrantEffect => ({ type: 'audit', action });

/** A grant for an approved request, waiting for its provisioning job. */
export function openGrant(
  terms: GrantTerms,
  approvedAt: Date,
): { state: GrantState; effects: GrantEffect[] } {
  return {
    state: {
      status: 'pending',
      durationMs: terms.durationMs,
      maxDurationMs: terms.maxDurationMs,
      lease: openLease(terms.clockStart, terms.durationMs, approvedAt),
      revealedAt: null,
      endReason: null,
      attempts: { provision: 0, revoke: 0 },
      endedAt: null,
    },
    effects: [audit('grant.created'), { type: 'enqueue-provisioning' }],
  };
}

/** What to run again for a grant found in this state after a restart. */
export function effectsToResume(grant: GrantState): GrantEffect[] {
  switch (grant.status) {
    case 'pending':
      return [{ type: 'enqueue-provisioning' }];
    case 'provisioning':
      return [{ type: 'create-account', expiresAt: leaseDueAt(grant.lease) }];
    case 'active':
      return [{ type: 'schedule-expiry', at: leaseDueAt(grant.lease) }];
    case 'revoking':
    case 'revocation_failed':
      return [{ type: 'remove-account' }];
    case 'revoked':
    case 'failed':
      return [];
  }
}

export function transitionGrant(
  grant: GrantState,
  event: GrantEvent,
  limits: GrantLimits = defaultGrantLimits,
): GrantTransition {
  switch (event.type) {
    case 'start-provisioning':
      return startProvisioning(grant, event.at);
    case 'provisioned':
      return provisioned(grant, event.at);
    case 'provisioning-failed':
      return provisioningFailed(grant, event, limits);
    case 'revealed':
      return revealed(grant, event.at);
    case 'revoke':
      return revoke(grant, event.reason, event.at);
    case 'expire':
      return expire(grant, event.now);
    case 'extend':
      return extend(grant, event);
    case 'revoked':
      return revokedOutcome(grant, event.at);
    case 'revocation-failed':
      return revocationFailed(grant, limits, event.retryable);
  }
}

const isEnded = (status: GrantStatus) => status === 'revoked' || status === 'failed';
const isEnding = (status: GrantStatus) => status === 'revoking' || status === 'revocation_failed';

const stale = (grant: GrantState, outcome: string) =>
  refuse('out-of-order', `the grant is ${grant.status}, so this ${outcome} is stale; nothing was changed`);

const ended = (grant: GrantState) =>
  refuse('grant-ended', `the grant has already ended (${grant.status}); nothing is left to revoke`);

/** The reason the lease itself gives for ending now, or null while it still runs. */
function dueReason(grant: GrantState, now: Date): RevokeReason | null {
  if (now < leaseDueAt(grant.lease)) return null;
  return grant.lease.startedAt === null ? 'unclaimed' : 'expired';
}

/** Into `revoking`: persist, then remove the account. */
function beginRevoking(grant: GrantState, reason: RevokeReason, action: GrantAuditAction): GrantTransition {
  return ok(
    {
      ...grant,
      status: 'revoking',
      endReason: grant.endReason ?? reason,
      attempts: { ...grant.attempts, revoke: 1 },
    },
    audit(action),
    { type: 'discard-credential' },
    { type: 'remove-account' },
  );
}

function startProvisioning(grant: GrantState, at: Date): GrantTransition {
  if (grant.status !== 'pending') return stale(grant, 'start of provisioning');
  const due = dueReason(grant, at);
  if (due) return ok({ ...grant, status: 'revoked', endReason: due, endedAt: at }, audit('grant.revoked'));
  return ok(
    { ...grant, status: 'provisioning', attempts: { ...grant.attempts, provision: 1 } },
    audit('grant.provisioning-started'),
    { type: 'create-account', expiresAt: leaseDueAt(grant.lease) },
  );
}

function provisioned(grant: GrantState, at: Date): GrantTransition {
  if (grant.status !== 'provisioning') return stale(grant, 'provisioning outcome');
  const reason = grant.endReason ?? dueReason(grant, at);
  if (reason) return beginRevoking(grant, reason, 'grant.revocation-started');
  return ok(
    { ...grant, status: 'active' },
    audit('grant.activated'),
    { type: 'credentials-issued' },
    { type: 'schedule-expiry', at: leaseDueAt(grant.lease) },
    { type: 'notify', notice: 'credentials-ready' },
  );
}

function provisioningFailed(
  grant: GrantState,
  event: Extract<GrantEvent, { type: 'provisioning-failed' }>,
  limits: GrantLimits,
): GrantTransition {
  if (grant.status !== 'provisioning') return stale(grant, 'provisioning outcome');
  const attempt = grant.attempts.provision + 1;
  const ending = grant.endReason ?? dueReason(grant, event.at);
  if (event.retryable && attempt <= limits.provisionAttempts && !ending) {
    return ok(
      { ...grant, attempts: { ...grant.attempts, provision: attempt } },
      {
        type: 'retry',
        step: 'create-account',
        attempt,
      },
    );
  }
  // The creation may have half-happened: clean up through `revoking`, which ends in `failed`.
  const cleanup = beginRevoking(
    { ...grant, endReason: null },
    'provisioning-failed',
    'grant.provisioning-failed',
  );
  if (!cleanup.ok) return cleanup;
  return { ...cleanup, effects: [...cleanup.effects, { type: 'notify', notice: 'provisioning-failed' }] };
}

function revealed(grant: GrantState, at: Date): GrantTransition {
  if (grant.status !== 'active') {
    const why =
      isEnded(grant.status) || isEnding(grant.status) ? 'the grant has ended' : 'it is not ready yet';
    return refuse('not-active', `the credential cannot be revealed: ${why}`);
  }
  if (grant.revealedAt !== null) {
    return refuse(
      'already-revealed',
      `the credential was already revealed at ${grant.revealedAt.toISOString()}`,
    );
  }
  const due = dueReason(grant, at);
  if (due === 'unclaimed') {
    return refuse('claim-window-closed', 'the claim window has closed; the grant is being revoked');
  }
  if (due === 'expired') return refuse('lease-ended', 'the lease has ended; the grant is being revoked');
  const lease = startAtReveal(grant.lease, grant.durationMs, at);
  const effects: GrantEffect[] = [audit('grant.credential-revealed'), { type: 'discard-credential' }];
  if (grant.lease.startedAt === null) {
    const expiresAt = leaseDueAt(lease);
    effects.push({ type: 'set-account-expiry', expiresAt }, { type: 'schedule-expiry', at: expiresAt });
  }
  return ok({ ...grant, lease, revealedAt: at }, ...effects);
}

function revoke(grant: GrantState, reason: RevokeReason, at: Date): GrantTransition {
  switch (grant.status) {
    case 'pending':
      return ok({ ...grant, status: 'revoked', endReason: reason, endedAt: at }, audit('grant.revoked'), {
        type: 'discard-credential',
      });
    case 'provisioning':
      if (grant.endReason !== null) return ok(grant);
      return ok({ ...grant, endReason: reason }, audit('grant.revocation-requested'));
    case 'active':
      return beginRevoking(grant, reason, 'grant.revocation-started');
    case 'revoking':
    case 'revocation_failed':
      return ok(grant); // already on its way out
    case 'revoked':
    case 'failed':
      return ended(grant);
  }
}

function expire(grant: GrantState, now: Date): GrantTransition {
  if (isEnded(grant.status)) return ended(grant);
  if (isEnding(grant.status)) return ok(grant);
  const due = dueReason(grant, now);
  if (!due) {
    return refuse('not-yet-due', `the lease runs until ${leaseDueAt(grant.lease).toISOString()}`);
  }
  return revoke(grant, due, now);
}

function extend(grant: GrantState, event: Extract<GrantEvent, { type: 'extend' }>): GrantTransition {
  if (grant.status !== 'active')
    return refuse('not-active', `only an active grant can be extended; it is ${grant.status}`);
  const { lease } = grant;
  if (lease.startedAt === null) {
    return refuse('not-started', 'the clock starts at the first reveal: there is nothing to extend yet');
  }
  if (event.at >= lease.notAfter) return refuse('lease-ended', 'the lease has ended; request new access');
  if (event.notAfter <= lease.notAfter) {
    return refuse('not-later', `the grant already runs until ${lease.notAfter.toISOString()}`);
  }
  const cap = new Date(lease.startedAt.getTime() + event.maxDurationMs);
  if (event.notAfter > cap) {
    return refuse(
      'exceeds-maximum',
      `the policy maximum ends the grant at ${cap.toISOString()} at the latest`,
    );
  }
  return ok(
    { ...grant, maxDurationMs: event.maxDurationMs, lease: { ...lease, notAfter: event.notAfter } },
    audit('grant.extended'),
    { type: 'set-account-expiry', expiresAt: event.notAfter },
    { type: 'schedule-expiry', at: event.notAfter },
  );
}

function revokedOutcome(grant: GrantState, at: Date): GrantTransition {
  if (!isEnding(grant.status)) return stale(grant, 'revocation outcome');
  const failed = grant.endReason === 'provisioning-failed';
  const effects: GrantEffect[] = [audit(failed ? 'grant.failed' : 'grant.revoked')];
  if (grant.status === 'revocation_failed')
    effects.push({ type: 'alert', alert: 'revocation-failed', raised: false });
  if (!failed) effects.push({ type: 'notify', notice: 'access-ended' });
  return ok({ ...grant, status: failed ? 'failed' : 'revoked', endedAt: at }, ...effects);
}

/** Revocation is never given up: past the limit (or on an error retrying cannot fix) it is flagged and goes on. */
function revocationFailed(grant: GrantState, limits: GrantLimits, retryable: boolean): GrantTransition {
  if (!isEnding(grant.status)) return stale(grant, 'revocation outcome');
  const attempt = grant.attempts.revoke + 1;
  const next = { ...grant, attempts: { ...grant.attempts, revoke: attempt } };
  const retry: GrantEffect = { type: 'retry', step: 'remove-account', attempt };
  if (grant.status === 'revocation_failed') return ok(next, retry);
  if (retryable && attempt <= limits.revokeAttemptsBeforeAlert) return ok(next, retry);
  return ok(
    { ...next, status: 'revocation_failed' },
    audit('grant.revocation-failed'),
    { type: 'alert', alert: 'revocation-failed', raised: true },
    retry,
  );
}

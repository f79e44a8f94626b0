/**
 * Lockout with backoff for sign-in attempts (passwords and second factors). Pure: the caller loads the
 * state, asks, and stores what comes back in the same transaction.
 *
 * The first `freeAttempts` failures in a row cost nothing; each further one makes the next attempt wait
 * twice as long as the last (from `baseDelayMs`, capped at `maxDelayMs`); at `threshold` failures in a
 * row the account is locked until an administrator unlocks it. A full sign-in clears the count.
 */
export interface LockoutPolicy {
  threshold: number;
  freeAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultLockoutPolicy: LockoutPolicy = {
  threshold: 20,
  freeAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
};

export interface LockoutState {
  failedAttempts: number;
  retryAfter: Date | null;
  lockedAt: Date | null;
}

export const freshLockout: LockoutState = { failedAttempts: 0, retryAfter: null, lockedAt: null };

export type AttemptVerdict =
  | { allowed: true }
  | { allowed: false; reason: 'locked' }
  | { allowed: false; reason: 'backoff'; retryAfter: Date };

/** May an attempt be checked now? (A refused attempt is not checked and does not count.) */
export function attemptVerdict(state: LockoutState, now: Date): AttemptVerdict {
  if (state.lockedAt) return { allowed: false, reason: 'locked' };
  if (state.retryAfter && state.retryAfter.getTime() > now.getTime()) {
    return { allowed: false, reason: 'backoff', retryAfter: state.retryAfter };
  }
  return { allowed: true };
}

/** How long to wait after the n-th failure in a row. */
export function delayAfter(failures: number, policy: LockoutPolicy = defaultLockoutPolicy): number {
  if (failures <= policy.freeAttempts) return 0;
  const exponent = Math.min(failures - policy.freeAttempts - 1, 30);
  return Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
}

/** The state after a failed attempt, and whether this failure locked the account. */
export function afterFailure(
  state: LockoutState,
  now: Date,
  policy: LockoutPolicy = defaultLockoutPolicy,
): { state: LockoutState; lockedNow: boolean } {
  const failedAttempts = state.failedAttempts + 1;
  if (failedAttempts >= policy.threshold) {
    return {
      state: { failedAttempts, retryAfter: null, lockedAt: state.lockedAt ?? now },
      lockedNow: state.lockedAt === null,
    };
  }
  const delay = delayAfter(failedAttempts, policy);
  return {
    state: {
      failedAttempts,
      retryAfter: delay > 0 ? new Date(now.getTime() + delay) : null,
      lockedAt: null,
    },
    lockedNow: false,
  };
}

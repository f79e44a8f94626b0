/** Whether a server-side session may still be used, from its times alone. */
export interface SessionTimes {
  stage: 'mfa' | 'active';
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface SessionPolicy {
  idleMs: number;
  /** A session waiting for its second factor lasts this long at most. */
  mfaMs: number;
}

export type SessionVerdict = 'valid' | 'revoked' | 'expired' | 'idle';

export function sessionVerdict(session: SessionTimes, now: Date, policy: SessionPolicy): SessionVerdict {
  if (session.revokedAt) return 'revoked';
  const t = now.getTime();
  if (t >= session.expiresAt.getTime()) return 'expired';
  const idle = session.stage === 'mfa' ? policy.mfaMs : policy.idleMs;
  if (t - session.lastSeenAt.getTime() >= idle) return 'idle';
  return 'valid';
}

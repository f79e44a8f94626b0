/**
 * The one table of which audit event actions each automated control reads. The controls are computed
 * from the audit log only, so evidence is exactly what the hash chain proves. If the names a module
 * emits change, this table is the only thing to change.
 */

export const automatedTestIds = [
  'access-grants',
  'role-changes',
  'network-changes',
  'host-scans',
  'change-records',
] as const;
export type AutomatedTestId = (typeof automatedTestIds)[number];

export const controlActions = {
  /** CC6.1, CC6.2: every grant had a ticket, someone else's approval (or break-glass reviewed after), and ended on time. */
  'access-grants': {
    grantCreated: ['grant.created'],
    grantExtended: ['grant.extended'],
    grantEnded: ['grant.revoked', 'grant.failed'],
    /** A reviewer's approval of a request (the actor is the reviewer). */
    approved: ['access-request.reviewed', 'access-request.approved'],
    autoApproved: ['access-request.auto-approved'],
    breakGlassOpened: ['break-glass.opened'],
    /** A reviewer's review after the fact that accepts the break-glass access. */
    breakGlassReviewed: ['break-glass.reviewed', 'break-glass.accepted'],
    breakGlassRejected: ['break-glass.rejected'],
  },
  /** CC6.3: an operator's roles set or changed by an admin, never by the operator themself. */
  'role-changes': {
    /** `operator.updated` counts when its details carry `changes.roles`. */
    roleChanges: ['operator.created', 'operator.updated'],
  },
  /** CC6.6: customer network rule changes carry a ticket and passed the checks; drift is found and corrected. */
  'network-changes': {
    /**
     * Customer rules only (`details.rule.kind`); a change refused by the checks is never recorded.
     * `network.rule.updated` is an edit: `details.before` and `details.rule` hold the rule before and after.
     */
    ruleChanges: ['network.rule.created', 'network.rule.updated', 'network.rule.deleted'],
    driftDetected: ['network.drift-detected'],
    driftCorrected: ['network.drift-corrected'],
  },
  /**
   * CC7.1: every in-scope host (the inventory's servers) scanned within the frequency; every hardening
   * exception in force during the period current (not past its expiry).
   */
  'host-scans': {
    scanCompleted: ['hardening.scan.completed'],
    /** Decisions with `details.status` 'exception' and `details.expiresAt`. */
    decisionRecorded: ['hardening.decision.recorded'],
    decisionRemoved: ['hardening.decision.removed'],
  },
  /** CC8.1: system network rules and hardening baselines changed with an author and a reviewer. */
  'change-records': {
    /** Details name `author` and `reviewer`. */
    changes: ['network.system-rules.changed', 'hardening.baseline.changed'],
  },
} as const satisfies Record<AutomatedTestId, Record<string, readonly string[]>>;

/** Every action any automated control reads, to fetch the populations in one pass over the log. */
export const allControlActions: ReadonlySet<string> = new Set(
  Object.values(controlActions).flatMap((groups): string[] =>
    Object.values(groups as Record<string, readonly string[]>).flat(),
  ),
);

/** The criteria each built-in test gives evidence for (the default controls name them too). */
export const testCriteria: Record<AutomatedTestId, string[]> = {
  'access-grants': ['CC6.1', 'CC6.2'],
  'role-changes': ['CC6.3'],
  'network-changes': ['CC6.6'],
  'host-scans': ['CC7.1'],
  'change-records': ['CC8.1'],
};

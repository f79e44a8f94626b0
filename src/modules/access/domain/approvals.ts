/**
 * Who may approve a request and when enough of them have. Shared by policy evaluation (which states the
 * requirement) and the request machine (which counts reviews against it).
 *
 * Counting rules:
 * - the requester never counts, whatever groups they are in;
 * - a reviewer counts once, for the groups they belonged to when they reviewed;
 * - a reviewer is eligible when they are in an approver group or a required group;
 * - each required group needs its own approver: one person in both `dba` and `security` covers only
 *   one of them (four eyes means four eyes), so required groups are matched to distinct approvers.
 */

export interface ApprovalRequirement {
  /** Distinct eligible approvers needed; never less than the number of required groups. */
  quorum: number;
  /** Members of any of these may approve and count toward the quorum. */
  approverGroups: readonly string[];
  /** Each of these needs at least one approval from a distinct member. Members also count toward the quorum. */
  requiredGroups: readonly string[];
}

/** One approval as it counts: who gave it and the groups they were in at the time. */
export interface CountedApproval {
  reviewerId: string;
  groups: readonly string[];
}

export interface ApprovalTally {
  /** Distinct eligible approvers so far (the requester excluded). */
  approvers: number;
  quorum: number;
  /** Required groups not yet covered by a distinct approver. */
  missingGroups: string[];
  satisfied: boolean;
}

/** The reviewer's groups that give them a say on this requirement; empty when they have none. */
export function eligibleGroups(requirement: ApprovalRequirement, groups: readonly string[]): string[] {
  const relevant = new Set([...requirement.approverGroups, ...requirement.requiredGroups]);
  return [...new Set(groups)].filter((g) => relevant.has(g)).sort();
}

export function tallyApprovals(
  requirement: ApprovalRequirement,
  approvals: readonly CountedApproval[],
  requesterId: string,
): ApprovalTally {
  const byReviewer = new Map<string, readonly string[]>();
  for (const { reviewerId, groups } of approvals) {
    if (reviewerId === requesterId || byReviewer.has(reviewerId)) continue;
    const eligible = eligibleGroups(requirement, groups);
    if (eligible.length > 0) byReviewer.set(reviewerId, eligible);
  }
  const missingGroups = unmatchedGroups(requirement.requiredGroups, byReviewer);
  const approvers = byReviewer.size;
  return {
    approvers,
    quorum: requirement.quorum,
    missingGroups,
    satisfied: approvers >= requirement.quorum && missingGroups.length === 0,
  };
}

/**
 * Required groups left uncovered by a maximum matching of groups to distinct approvers (augmenting
 * paths; both sides are a handful of entries). Deterministic: groups are tried in the order given.
 */
function unmatchedGroups(
  required: readonly string[],
  approvers: ReadonlyMap<string, readonly string[]>,
): string[] {
  const holder = new Map<string, string>(); // reviewerId → group they cover
  const coverer = new Map<string, string>(); // group → reviewerId
  const candidates = (group: string) =>
    [...approvers].filter(([, groups]) => groups.includes(group)).map(([id]) => id);

  const assign = (group: string, visited: Set<string>): boolean => {
    for (const reviewer of candidates(group)) {
      if (visited.has(reviewer)) continue;
      visited.add(reviewer);
      const current = holder.get(reviewer);
      if (current === undefined || assign(current, visited)) {
        holder.set(reviewer, group);
        coverer.set(group, reviewer);
        return true;
      }
    }
    return false;
  };

  for (const group of required) assign(group, new Set());
  return required.filter((g) => !coverer.has(g));
}

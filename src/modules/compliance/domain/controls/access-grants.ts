import { controlActions, testCriteria } from '../control-actions.js';
import {
  detailDate,
  detailString,
  iso,
  result,
  type ControlException,
  type ControlTestResult,
  type EvidenceEvent,
  type Period,
} from './types.js';

const actions = controlActions['access-grants'];
const has = (list: readonly string[], action: string) => list.includes(action);

export interface AccessGrantOptions {
  /** How long after its expiry a grant may still be being removed (the reaper's and a retry's slack). */
  removalToleranceMs: number;
}

interface GrantFacts {
  id: string;
  requestId: string | null;
  holder: string;
  asset: string | null;
  ticket: string | null;
  createdAt: Date;
  notAfter: Date | null;
  endedAt: Date | null;
  endReason: string | null;
}

interface RequestFacts {
  approvers: Set<string>;
  autoApproved: boolean;
  breakGlass: boolean;
  reviewedAfter: string | null;
}

/**
 * CC6.1 / CC6.2 over the grants alive at any time in the period: each had a ticket (break-glass may
 * come without one, decision 0006), an approval by someone other than its holder (or, for break-glass,
 * a review afterwards by someone else), and was removed no later than its expiry plus the tolerance.
 */
export function testAccessGrants(
  events: readonly EvidenceEvent[],
  period: Period,
  options: AccessGrantOptions,
): ControlTestResult {
  const grants = new Map<string, GrantFacts>();
  const requests = new Map<string, RequestFacts>();
  const requestOf = (id: string): RequestFacts => {
    let found = requests.get(id);
    if (!found) {
      found = { approvers: new Set(), autoApproved: false, breakGlass: false, reviewedAfter: null };
      requests.set(id, found);
    }
    return found;
  };

  for (const event of events) {
    if (event.occurredAt > period.to || event.targetId === null) continue;
    if (event.targetType === 'grant') {
      if (has(actions.grantCreated, event.action)) {
        grants.set(event.targetId, {
          id: event.targetId,
          requestId: detailString(event, 'request'),
          holder: detailString(event, 'holder') ?? '',
          asset: detailString(event, 'asset'),
          ticket: event.ticket,
          createdAt: event.occurredAt,
          notAfter: detailDate(event, 'notAfter') ?? detailDate(event, 'dueAt'),
          endedAt: null,
          endReason: null,
        });
        continue;
      }
      const grant = grants.get(event.targetId);
      if (!grant) continue;
      if (has(actions.grantExtended, event.action))
        grant.notAfter = detailDate(event, 'notAfter') ?? grant.notAfter;
      if (has(actions.grantEnded, event.action) && grant.endedAt === null) {
        grant.endedAt = event.occurredAt;
        grant.endReason = detailString(event, 'endReason');
      }
    } else if (event.targetType === 'access-request') {
      const request = requestOf(event.targetId);
      const requester = detailString(event, 'requester');
      const byOther = event.actorName !== requester && event.actorType !== 'system';
      if (has(actions.approved, event.action) && byOther) request.approvers.add(event.actorName);
      if (has(actions.autoApproved, event.action)) request.autoApproved = true;
      if (has(actions.breakGlassOpened, event.action)) request.breakGlass = true;
      if (
        (has(actions.breakGlassReviewed, event.action) || has(actions.breakGlassRejected, event.action)) &&
        byOther
      ) {
        request.reviewedAfter ??= event.actorName;
      }
    }
  }

  const population = [];
  const exceptions: ControlException[] = [];
  for (const grant of grants.values()) {
    if (grant.endedAt !== null && grant.endedAt < period.from) continue;
    const request = grant.requestId ? requests.get(grant.requestId) : undefined;
    const breakGlass = request?.breakGlass ?? false;
    const approvers = [...(request?.approvers ?? [])].sort();
    const subject = `grant ${grant.id}`;
    const fail = (rule: string, message: string) => exceptions.push({ subject, rule, message });
    if (!grant.ticket && !breakGlass)
      fail('no-ticket', `${grant.holder} on ${grant.asset ?? '?'} had no ticket`);
    if (breakGlass) {
      if (!request?.reviewedAfter) {
        fail(
          'break-glass-not-reviewed',
          `break-glass access of ${grant.holder} was not reviewed by someone else`,
        );
      }
    } else if (approvers.length === 0 && !request?.autoApproved) {
      fail('not-approved-by-another', `${grant.holder}'s access was not approved by anyone else`);
    }
    const deadline = grant.notAfter ? new Date(grant.notAfter.getTime() + options.removalToleranceMs) : null;
    if (deadline && (grant.endedAt ?? period.to) > deadline) {
      fail(
        'removed-late',
        grant.endedAt
          ? `removed at ${iso(grant.endedAt)}, after its expiry ${iso(grant.notAfter)} plus the tolerance`
          : `still not removed at ${iso(period.to)}, past its expiry ${iso(grant.notAfter)} plus the tolerance`,
      );
    }
    population.push({
      grant: grant.id,
      request: grant.requestId,
      holder: grant.holder,
      asset: grant.asset,
      ticket: grant.ticket,
      breakGlass,
      approvedBy: breakGlass
        ? null
        : request?.autoApproved && approvers.length === 0
          ? 'policy'
          : approvers.join(' '),
      reviewedAfterBy: breakGlass ? (request?.reviewedAfter ?? null) : null,
      createdAt: iso(grant.createdAt),
      notAfter: iso(grant.notAfter),
      removedAt: iso(grant.endedAt),
      endReason: grant.endReason,
    });
  }
  return result('access-grants', testCriteria['access-grants'], period, population, exceptions);
}

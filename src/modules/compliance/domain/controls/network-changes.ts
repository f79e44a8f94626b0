import { controlActions, testCriteria } from '../control-actions.js';
import {
  detail,
  detailString,
  iso,
  result,
  within,
  type ControlException,
  type ControlTestResult,
  type EvidenceEvent,
  type Period,
} from './types.js';

const actions = controlActions['network-changes'];
const has = (list: readonly string[], action: string) => list.includes(action);

/**
 * CC6.6: every customer network rule change in the period carries a ticket and passed the security
 * checks (a refused change is never recorded; a recorded one with findings is an exception), and every
 * drift found in the period was corrected by its end.
 */
export function testNetworkChanges(events: readonly EvidenceEvent[], period: Period): ControlTestResult {
  const population = [];
  const exceptions: ControlException[] = [];
  const openDrift = new Map<string, { seq: number; at: Date; asset: string }>();
  const drifts: { key: string; seq: number; at: Date; asset: string; correctedAt: Date | null }[] = [];
  for (const event of events) {
    if (!within(event.occurredAt, period)) continue;
    if (has(actions.ruleChanges, event.action)) {
      const kind = detailString(event, 'rule', 'kind') ?? 'customer';
      if (kind !== 'customer') continue;
      const findings = detail(event, 'findings');
      const failedChecks = Array.isArray(findings) ? findings.length : 0;
      const subject = `network rule ${event.targetId ?? '?'} (event ${event.seq})`;
      if (!event.ticket) {
        exceptions.push({
          subject,
          rule: 'no-ticket',
          message: `${event.action} by ${event.actorName} had no ticket`,
        });
      }
      if (failedChecks > 0) {
        exceptions.push({
          subject,
          rule: 'failed-checks',
          message: `${failedChecks} security check(s) failed`,
        });
      }
      population.push({
        kind: 'rule-change',
        event: event.seq,
        at: iso(event.occurredAt),
        rule: event.targetId,
        action: event.action,
        by: event.actorName,
        ticket: event.ticket,
        summary: detailString(event, 'summary'),
        failedChecks,
        correctedAt: null,
      });
    } else if (has(actions.driftDetected, event.action) || has(actions.driftCorrected, event.action)) {
      const key = `${event.targetType ?? ''}/${event.targetId ?? ''}`;
      const asset = detailString(event, 'asset') ?? event.targetId ?? '?';
      if (has(actions.driftDetected, event.action)) {
        if (openDrift.has(key)) continue;
        const drift = { key, seq: event.seq, at: event.occurredAt, asset, correctedAt: null };
        openDrift.set(key, drift);
        drifts.push(drift);
      } else {
        const drift = drifts.find((d) => d.key === key && d.correctedAt === null);
        if (drift) drift.correctedAt = event.occurredAt;
        openDrift.delete(key);
      }
    }
  }
  for (const drift of drifts) {
    if (drift.correctedAt === null) {
      exceptions.push({
        subject: `drift on ${drift.asset} (event ${drift.seq})`,
        rule: 'drift-not-corrected',
        message: `drift found at ${iso(drift.at)} was not corrected by ${iso(period.to)}`,
      });
    }
    population.push({
      kind: 'drift',
      event: drift.seq,
      at: iso(drift.at),
      rule: null,
      action: 'drift',
      by: null,
      ticket: null,
      summary: `drift on ${drift.asset}`,
      failedChecks: 0,
      correctedAt: iso(drift.correctedAt),
    });
  }
  return result('network-changes', testCriteria['network-changes'], period, population, exceptions);
}

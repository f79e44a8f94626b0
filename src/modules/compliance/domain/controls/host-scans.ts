import { controlActions, testCriteria } from '../control-actions.js';
import {
  detail,
  detailDate,
  detailString,
  iso,
  result,
  type ControlException,
  type ControlTestResult,
  type EvidenceEvent,
  type Period,
  type PopulationRow,
} from './types.js';

const actions = controlActions['host-scans'];
const has = (list: readonly string[], action: string) => list.includes(action);

/** A host in scope of scanning (from the inventory), since when. */
export interface ScopedHost {
  id: string;
  name: string;
  since: Date;
}

export interface HostScanOptions {
  /** The longest a host may go without a completed scan. */
  frequencyMs: number;
}

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

/**
 * CC7.1: every in-scope host had a completed scan at least every `frequencyMs` through the period (the
 * last scan before the period counts for its start), and every hardening exception standing at the
 * end of the period is current — not past its expiry.
 */
export function testHostScans(
  events: readonly EvidenceEvent[],
  hosts: readonly ScopedHost[],
  period: Period,
  options: HostScanOptions,
): ControlTestResult {
  const scans = new Map<string, Date[]>();
  const decisions = new Map<string, EvidenceEvent | null>();
  for (const event of events) {
    if (event.occurredAt > period.to || event.targetId === null) continue;
    if (has(actions.scanCompleted, event.action)) {
      const list = scans.get(event.targetId) ?? [];
      list.push(event.occurredAt);
      scans.set(event.targetId, list);
    } else if (has(actions.decisionRecorded, event.action)) decisions.set(event.targetId, event);
    else if (has(actions.decisionRemoved, event.action)) decisions.set(event.targetId, null);
  }

  const population: PopulationRow[] = [];
  const exceptions: ControlException[] = [];
  for (const host of [...hosts].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (host.since > period.to) continue;
    const start = host.since > period.from ? host.since : period.from;
    const times = (scans.get(host.id) ?? []).sort((a, b) => a.getTime() - b.getTime());
    const before = times.filter((t) => t <= start).pop();
    let reference = before ?? start;
    let longest = { gap: 0, from: reference, to: reference };
    const during = times.filter((t) => t > start);
    for (const at of [...during, period.to]) {
      const gap = at.getTime() - reference.getTime();
      if (gap > longest.gap) longest = { gap, from: reference, to: at };
      reference = at;
    }
    if (longest.gap > options.frequencyMs) {
      exceptions.push({
        subject: `host ${host.name}`,
        rule: 'scan-overdue',
        message: `no completed scan for ${hours(longest.gap)} from ${iso(longest.from)} to ${iso(longest.to)} (at most ${hours(options.frequencyMs)})`,
      });
    }
    population.push({
      kind: 'host',
      id: host.id,
      name: host.name,
      scansInPeriod: during.length,
      lastScanBefore: iso(before),
      longestGapHours: Math.round((longest.gap / 3_600_000) * 10) / 10,
      rule: null,
      expiresAt: null,
    });
  }

  for (const [id, event] of [...decisions.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!event || detailString(event, 'status') !== 'exception') continue;
    const expiresAt = detailDate(event, 'expiresAt');
    const rule = detailString(event, 'ruleId');
    const scope = detail(event, 'scope');
    const scopeText = scope && typeof scope === 'object' ? JSON.stringify(scope) : null;
    if (expiresAt !== null && expiresAt < period.to) {
      exceptions.push({
        subject: `hardening exception ${id} (rule ${rule ?? '?'})`,
        rule: 'exception-expired',
        message: `expired at ${iso(expiresAt)} and still stood at ${iso(period.to)}: renew or remove it`,
      });
    }
    population.push({
      kind: 'exception',
      id,
      name: scopeText,
      scansInPeriod: null,
      lastScanBefore: null,
      longestGapHours: null,
      rule,
      expiresAt: iso(expiresAt),
    });
  }
  return result('host-scans', testCriteria['host-scans'], period, population, exceptions);
}

import type { AutomatedTestId } from '../control-actions.js';
import { testAccessGrants } from './access-grants.js';
import { testChangeRecords } from './change-records.js';
import { testHostScans, type ScopedHost } from './host-scans.js';
import { testNetworkChanges } from './network-changes.js';
import { testRoleChanges } from './role-changes.js';
import type { ControlTestResult, EvidenceEvent, Period } from './types.js';

export interface ControlTestSettings {
  removalToleranceMs: number;
  scanFrequencyMs: number;
}

export const defaultControlTestSettings: ControlTestSettings = {
  removalToleranceMs: 5 * 60_000,
  scanFrequencyMs: 24 * 3_600_000,
};

/** Every built-in automated test over the same events (in sequence order) and period. */
export function runControlTests(
  events: readonly EvidenceEvent[],
  hosts: readonly ScopedHost[],
  period: Period,
  settings: ControlTestSettings = defaultControlTestSettings,
): Record<AutomatedTestId, ControlTestResult> {
  return {
    'access-grants': testAccessGrants(events, period, { removalToleranceMs: settings.removalToleranceMs }),
    'role-changes': testRoleChanges(events, period),
    'network-changes': testNetworkChanges(events, period),
    'host-scans': testHostScans(events, hosts, period, { frequencyMs: settings.scanFrequencyMs }),
    'change-records': testChangeRecords(events, period),
  };
}

export type { ControlTestResult, EvidenceEvent, Period, ScopedHost };

import type { AuditEvent } from '../../../audit/audit.types.js';
import type { AutomatedTestId } from '../control-actions.js';

/** The audit events a control reads: exactly what the hash chain proves. */
export type EvidenceEvent = Pick<
  AuditEvent,
  | 'seq'
  | 'occurredAt'
  | 'actorType'
  | 'actorId'
  | 'actorName'
  | 'action'
  | 'targetType'
  | 'targetId'
  | 'ticket'
  | 'details'
>;

export interface Period {
  from: Date;
  to: Date;
}

/** One member of a control's population, flat so it fits a CSV row as well as JSON. */
export type PopulationRow = Record<string, string | number | boolean | null>;

/** A member of the population that fails the test, and why. */
export interface ControlException {
  /** What failed, as a person looks it up: `grant 0193…`, `host web-1`. */
  subject: string;
  /** A stable name for the rule broken, like `removed-late`. */
  rule: string;
  message: string;
}

export interface ControlTestResult {
  test: AutomatedTestId;
  criteria: string[];
  period: { from: string; to: string };
  status: 'pass' | 'fail';
  population: PopulationRow[];
  exceptions: ControlException[];
}

export const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export function detail(event: EvidenceEvent, ...path: string[]): unknown {
  let value: unknown = event.details;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export const detailString = (event: EvidenceEvent, ...path: string[]): string | null => {
  const value = detail(event, ...path);
  return typeof value === 'string' ? value : null;
};

export const detailDate = (event: EvidenceEvent, ...path: string[]): Date | null => {
  const value = detailString(event, ...path);
  if (value === null) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};

export const within = (at: Date, period: Period): boolean => at >= period.from && at <= period.to;

export function result(
  test: AutomatedTestId,
  criteria: string[],
  period: Period,
  population: PopulationRow[],
  exceptions: ControlException[],
): ControlTestResult {
  return {
    test,
    criteria,
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    status: exceptions.length === 0 ? 'pass' : 'fail',
    population,
    exceptions,
  };
}

import { canonicalJson } from '../../../platform/canonical-json.js';
import type { AuditEvent } from '../audit.types.js';

export type ExportFormat = 'jsonl' | 'csv';

/** The event as auditors receive it: every field, including both hashes, so they can re-verify. */
export function toExportRecord(event: AuditEvent) {
  return {
    seq: event.seq,
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    actorType: event.actorType,
    actorId: event.actorId,
    actorName: event.actorName,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    ticket: event.ticket,
    details: event.details,
    requestId: event.requestId,
    sourceIp: event.sourceIp,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

export type ExportRecord = ReturnType<typeof toExportRecord>;

export const csvColumns = Object.keys(
  toExportRecord({
    seq: 0,
    id: '',
    occurredAt: new Date(0),
    actorType: 'system',
    actorId: null,
    actorName: '',
    action: '',
    targetType: null,
    targetId: null,
    ticket: null,
    details: {},
    requestId: null,
    sourceIp: null,
    prevHash: '',
    hash: '',
  }),
) as (keyof ExportRecord)[];

/**
 * RFC 4180 quoting, and a leading apostrophe on cells a spreadsheet would run as a formula
 * (=, +, -, @), since audit exports are opened in spreadsheets by people who trust them.
 */
export function csvCell(value: unknown): string {
  // objects as canonical JSON; numbers and booleans print the same through it as through String()
  let text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : canonicalJson(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatHeader(format: ExportFormat): string | undefined {
  return format === 'csv' ? `${csvColumns.join(',')}\n` : undefined;
}

export function formatEvent(event: AuditEvent, format: ExportFormat): string {
  const record = toExportRecord(event);
  if (format === 'jsonl') return `${canonicalJson(record)}\n`;
  return `${csvColumns.map((column) => csvCell(record[column])).join(',')}\n`;
}

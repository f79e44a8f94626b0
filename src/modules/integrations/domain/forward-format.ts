import { canonicalJson } from '../../../platform/canonical-json.js';
import type { AuditEvent } from '../../audit/audit.types.js';

/**
 * How an audit event leaves Gatehouse: the same body for every sink (canonical JSON of the event as
 * stored, time in ISO 8601 UTC), wrapped for syslog (RFC 5424, framed per RFC 6587 octet counting) or
 * Splunk HEC. Pure: the adapters only move the bytes.
 */

/** The event as stored, as plain JSON values (the receiver can recompute its hash from it). */
export function eventBody(event: AuditEvent): Record<string, unknown> {
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

/** RFC 5424 facility 13 ("log audit"), severity 6 (informational). */
export const SYSLOG_PRI = 13 * 8 + 6;
/**
 * The SD-ID of Gatehouse's structured data. 32473 is the private enterprise number reserved for
 * documentation (RFC 5612); a site with its own number sets `sdId` on the sink.
 */
export const DEFAULT_SD_ID = 'gatehouse@32473';
export const APP_NAME = 'gatehouse';

/** PRINTUSASCII without '=', ' ', ']' and '"' (RFC 5424 SD-NAME), 1-32 characters. */
const SD_NAME = /^[!#-<>-\\^-~]{1,32}$/;
/** An SD-ID: a name, optionally `name@<digits>`. */
export const SD_ID = /^[!#-<>-?A-\\^-~]{1,32}(@[0-9]+(\.[0-9]+)*)?$/;
/** RFC 5424 HOSTNAME: 1-255 PRINTUSASCII. */
export const SYSLOG_HOSTNAME = /^[!-~]{1,255}$/;

/** SD-PARAM value escaping (RFC 5424 §6.3.3): '"', '\' and ']' are escaped with a backslash. */
export function sdEscape(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** MSGID: 1-32 PRINTUSASCII; audit actions are already of that alphabet, only the length is cut. */
export function msgId(action: string): string {
  const printable = action.replace(/[^!-~]/g, '_');
  return printable.length === 0 ? '-' : printable.slice(0, 32);
}

export interface SyslogOptions {
  hostname: string;
  sdId?: string;
}

/** One RFC 5424 message: `<110>1 TIME HOST gatehouse - ACTION [sd id= seq= hash= prevHash= action=] JSON`. */
export function syslogMessage(event: AuditEvent, options: SyslogOptions): string {
  const sdId = options.sdId ?? DEFAULT_SD_ID;
  const params: [string, string][] = [
    ['id', event.id],
    ['seq', String(event.seq)],
    ['hash', event.hash],
    ['prevHash', event.prevHash],
    ['action', event.action],
  ];
  for (const [name] of params) if (!SD_NAME.test(name)) throw new Error(`bad SD-NAME ${name}`);
  const sd = `[${sdId} ${params.map(([k, v]) => `${k}="${sdEscape(v)}"`).join(' ')}]`;
  return [
    `<${SYSLOG_PRI}>1`,
    event.occurredAt.toISOString(),
    options.hostname,
    APP_NAME,
    '-',
    msgId(event.action),
    sd,
    canonicalJson(eventBody(event)),
  ].join(' ');
}

/** RFC 6587 §3.4.1 octet-counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of UTF-8. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export interface HecOptions {
  host: string;
  source?: string | undefined;
  sourcetype?: string | undefined;
  index?: string | undefined;
}

/**
 * A Splunk HEC `/services/collector/event` body: one JSON object per event, concatenated (HEC's
 * batch format), `time` in epoch seconds with milliseconds.
 */
export function hecBatch(events: readonly AuditEvent[], options: HecOptions): string {
  return events
    .map((event) =>
      JSON.stringify({
        time: event.occurredAt.getTime() / 1000,
        host: options.host,
        source: options.source ?? APP_NAME,
        sourcetype: options.sourcetype ?? 'gatehouse:audit',
        ...(options.index ? { index: options.index } : {}),
        event: eventBody(event),
      }),
    )
    .join('\n');
}

/** What a HEC response means: documented codes 0 (success); anything else is a failure to retry. */
export function hecOutcome(status: number, body: string): { ok: true } | { ok: false; reason: string } {
  let parsed: { text?: unknown; code?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON: a proxy or load balancer answered
  }
  if (status === 200 && (parsed.code === 0 || parsed.code === undefined)) return { ok: true };
  const text = typeof parsed.text === 'string' ? parsed.text.slice(0, 200) : body.slice(0, 200);
  const code = typeof parsed.code === 'number' ? ` (code ${parsed.code})` : '';
  return { ok: false, reason: `HEC answered ${status}: ${text || 'no body'}${code}` };
}

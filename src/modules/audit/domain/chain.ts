import { hash } from 'node:crypto';
import { canonicalJson } from '../../../platform/canonical-json.js';
import type { AuditEvent } from '../audit.types.js';
import { Utf8Writer } from './utf8-writer.js';

/** The predecessor hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);
const ENCODING_VERSION = 'gatehouse.audit.v1';

const str = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

/**
 * The canonical encoding an event's hash covers: a JSON array with a fixed field order, the details
 * object in RFC 8785 canonical form, and the predecessor's hash — so any edit, deletion, insertion or
 * reordering changes some hash.
 */
export function canonicalEncoding(event: Omit<AuditEvent, 'hash'>): string {
  return (
    `[${str(ENCODING_VERSION)},${event.seq},${str(event.id)},${str(event.occurredAt.toISOString())},` +
    `${str(event.actorType)},${str(event.actorId)},${str(event.actorName)},${str(event.action)},` +
    `${str(event.targetType)},${str(event.targetId)},${str(event.ticket)},${canonicalJson(event.details)},` +
    `${str(event.requestId)},${str(event.sourceIp)},${str(event.prevHash)}]`
  );
}

const ENCODING_PREFIX = `[${str(ENCODING_VERSION)},`;
const writer = new Utf8Writer();
const COMMA = 0x2c;
const QUOTE = 0x22;

/**
 * SHA-256 (hex) of the UTF-8 of `canonicalEncoding(event)`. The same bytes are written straight into
 * a reused buffer rather than through that string: verification re-hashes every event, and this is
 * about four times faster (the unit tests hold the two to the same bytes).
 */
export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  const w = writer;
  w.reset();
  w.ascii(ENCODING_PREFIX);
  w.number(event.seq);
  w.nextString(event.id);
  w.ascii(',"');
  w.isoTimestamp(event.occurredAt);
  w.byte(QUOTE);
  w.nextString(event.actorType);
  w.nextNullable(event.actorId);
  w.nextString(event.actorName);
  w.nextString(event.action);
  w.nextNullable(event.targetType);
  w.nextNullable(event.targetId);
  w.nextNullable(event.ticket);
  w.byte(COMMA);
  w.canonicalJson(event.details);
  w.nextNullable(event.requestId);
  w.nextNullable(event.sourceIp);
  w.nextString(event.prevHash);
  w.byte(0x5d);
  return hash('sha256', w.bytes(), 'hex');
}

export interface Checkpoint {
  seq: number;
  hash: string;
  createdAt: Date;
  keyId: string;
  signature: string;
}

/** What a checkpoint's signature covers. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, 'signature'>): string {
  return JSON.stringify([
    'gatehouse.audit.checkpoint.v1',
    checkpoint.seq,
    checkpoint.hash,
    checkpoint.createdAt.toISOString(),
    checkpoint.keyId,
  ]);
}

export interface ChainBreak {
  seq: number;
  reason: string;
}

/**
 * Walks events in sequence order and reports the first break. Pure and streaming: feed it pages.
 * `start` is the anchor: the sequence number and hash the first event fed must follow.
 */
export function createChainVerifier(
  start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
  options: { keepHashesOf?: ReadonlySet<number> } = {},
) {
  let expectedSeq = start.seq + 1;
  let previousHash = start.hash;
  let checked = 0;
  let broken: ChainBreak | undefined;
  const hashes = new Map<number, string>();
  /** The hash of the event before the last verified one, once there is such an event in the range. */
  let beforePreviousHash: string | undefined;

  /**
   * An event that does not name its predecessor's hash. Which event is to blame depends on whether the
   * event itself is intact: if its own hash still covers its content, the predecessor is what changed
   * (altered and re-hashed, replaced, or slipped in), and that earlier event is the first broken one.
   */
  function linkBreak(event: AuditEvent): ChainBreak {
    const seq = event.seq;
    if (beforePreviousHash !== undefined && event.prevHash === beforePreviousHash) {
      // the event we accepted last was not there when this one was written: this one names the one before
      unaccept(seq - 1);
      return {
        seq: seq - 1,
        reason: `event ${seq - 1} was inserted: event ${seq} names event ${seq - 2} as its predecessor`,
      };
    }
    if (seq > 1 && hashEvent(event) === event.hash) {
      unaccept(seq - 1);
      return {
        seq: seq - 1,
        reason: `event ${seq - 1} was altered or replaced: event ${seq} is intact but names a different predecessor`,
      };
    }
    return {
      seq,
      reason: `event ${seq} does not follow event ${seq - 1}: its predecessor hash does not match (events were removed, inserted or swapped)`,
    };
  }

  /** Takes back an event accepted earlier and found broken after the fact (the anchor was never counted). */
  function unaccept(seq: number): void {
    if (seq <= start.seq) return;
    checked -= 1;
    hashes.delete(seq);
  }

  return {
    /** Returns false once the chain is broken; later events are not examined. */
    push(event: AuditEvent): boolean {
      if (broken) return false;
      if (event.seq !== expectedSeq) {
        broken =
          event.seq > expectedSeq
            ? {
                seq: expectedSeq,
                reason: `event ${expectedSeq}${event.seq - expectedSeq > 1 ? `–${event.seq - 1}` : ''} is missing (deleted?): the log jumps from ${expectedSeq - 1} to ${event.seq}`,
              }
            : { seq: event.seq, reason: `event ${event.seq} appears out of order after ${expectedSeq - 1}` };
        return false;
      }
      if (event.prevHash !== previousHash) {
        broken = linkBreak(event);
        return false;
      }
      if (hashEvent(event) !== event.hash) {
        broken = {
          seq: event.seq,
          reason: `event ${event.seq} was altered: its content does not match its hash`,
        };
        return false;
      }
      if (options.keepHashesOf?.has(event.seq)) hashes.set(event.seq, event.hash);
      beforePreviousHash = previousHash;
      previousHash = event.hash;
      expectedSeq += 1;
      checked += 1;
      return true;
    },
    /** The hash of a verified event named in `keepHashesOf`, for checking checkpoints against. */
    verifiedHash: (seq: number): string | undefined => hashes.get(seq),
    get checked() {
      return checked;
    },
    get lastSeq() {
      return expectedSeq - 1;
    },
    get lastHash() {
      return previousHash;
    },
    get broken() {
      return broken;
    },
  };
}

export type ChainVerifier = ReturnType<typeof createChainVerifier>;

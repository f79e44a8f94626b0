import type { Tx } from '../../platform/db/store.js';

/** Who did something: an operator (person, through a session or one of their tokens) or Gatehouse itself. */
export interface Actor {
  type: 'operator' | 'token' | 'system';
  /** Operator id, or null for the system. */
  id: string | null;
  /** Username, or the name of the system component ('job-runner', 'bootstrap', 'demo' …). */
  name: string;
}

/** Who is asking and from where: built by the HTTP layer or the CLI, passed to every service call. */
export interface RequestContext {
  actor: Actor;
  requestId?: string | undefined;
  sourceIp?: string | undefined;
}

export const systemActor = (name: string): Actor => ({ type: 'system', id: null, name });

export interface AuditEventInput extends RequestContext {
  /** Dotted verb, past tense: `customer.created`, `grant.revoked`, `job.failed`. */
  action: string;
  target?: { type: string; id: string } | undefined;
  ticket?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

/** An event as its transaction wrote it: not yet in the chain (see AuditEvent). */
export interface AppendedEvent {
  id: string;
  occurredAt: Date;
  actorType: Actor['type'];
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ticket: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
  sourceIp: string | null;
}

/** An event sealed into the chain: its place (`seq`), its predecessor's hash and its own. */
export interface AuditEvent extends AppendedEvent {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * The one way to write evidence. Call it inside the transaction of the change it records: if the
 * append fails, the change fails. The event is sealed into the chain after the transaction commits
 * (decision 0015); every read of the log sees it sealed.
 */
export interface AuditAppender {
  append(tx: Tx, event: AuditEventInput): Promise<AppendedEvent>;
}

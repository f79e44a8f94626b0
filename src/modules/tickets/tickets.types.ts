import type { Tx } from '../../platform/db/store.js';
import type { TicketFacts } from '../access/domain/policy.js';
import type { RequestContext } from '../audit/audit.types.js';

export type { TicketFacts };

/**
 * A ticket that has just been closed, as every tracker reports it. `id` is the ticket's ref (`OPS-42`),
 * the same value access requests and grants name and audit events carry in `ticket`.
 */
export interface ClosedTicket extends TicketFacts {
  state: 'closed';
  /** The name of the tracker it belongs to ('builtin', later 'jira', 'servicenow' …). */
  tracker: string;
  closedAt: Date;
  /** Who closed it, as the tracker knows them. */
  closedBy: string | null;
}

/**
 * Runs when a ticket closes, inside the transaction that records the close: whatever it writes commits
 * or rolls back with the close, and if it throws, the close fails (the ticket stays open). Use `tx` for
 * every query — on embedded PGlite there is one connection, and a query outside `tx` waits for this
 * transaction to end, which never happens. Do no outside I/O here: enqueue a job instead.
 */
export type TicketClosedListener = (tx: Tx, ticket: ClosedTicket, ctx: RequestContext) => Promise<void>;

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/**
 * What Gatehouse asks of a ticket tracker: the built-in one, and later Jira or ServiceNow over HTTP.
 * `lookup` is all the access policy needs; the optional hooks are for trackers that can do more.
 */
export interface TicketTracker {
  /** Stable, lower-case: 'builtin', 'jira', 'servicenow' … */
  readonly name: string;
  /**
   * The ticket's facts, or null when the tracker has no such ticket. `facts.id` is the ref as given.
   * Errors mean "could not ask" (the tracker is down), never "no such ticket"; a remote tracker throws
   * a retryable error for those.
   */
  lookup(ref: string): Promise<TicketFacts | null>;
  /** Adds a note to the ticket (access granted, access ended). Trackers without comments leave it out. */
  comment?(ref: string, text: string): Promise<void>;
  /**
   * Tells the listener about every close of one of this tracker's tickets. The built-in tracker calls it
   * inside the close transaction; a remote one from the transaction that records the tracker's webhook
   * or poll result.
   */
  onClosed?(listener: TicketClosedListener): Unsubscribe;
}

/** Which tracker owns a ref: a route claims it and says what its canonical ref is. */
export interface TrackerRoute {
  tracker: TicketTracker;
  /**
   * The canonical ref (`OPS-42`) when this tracker owns `ref` — a key of one of its projects, or a link
   * to one of its tickets — otherwise null.
   */
  claim(ref: string): string | null;
}

/** Routes a ticket ref to the tracker that owns it. Access asks it, never a tracker directly. */
export interface TicketRegistry {
  /** The tracker that owns `ref` and the canonical ref to store, or null when no tracker takes it. */
  resolve(ref: string): { tracker: TicketTracker; ref: string } | null;
  /** The facts of the ticket `ref` names, from its tracker; null when no tracker has it. */
  lookup(ref: string): Promise<TicketFacts | null>;
  /** Comments on the ticket when its tracker supports comments; otherwise does nothing. */
  comment(ref: string, text: string): Promise<void>;
  /** Subscribes to closes from every tracker that reports them. */
  onClosed(listener: TicketClosedListener): Unsubscribe;
  /** Names of the trackers, in routing order (the fallback last). */
  trackers(): string[];
}

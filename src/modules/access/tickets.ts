import type { Tx } from '../../platform/db/store.js';
import type { RequestContext } from '../audit/audit.types.js';
import type { TicketFacts } from './domain/policy.js';

/**
 * What access needs from a ticket registry or tracker, and nothing more: look a ticket up by its ref
 * (`OPS-42`), and hear about closes. Close listeners run inside the transaction that closes the ticket,
 * so the revocations they start commit (or roll back) with the close.
 */
export interface AccessTickets {
  lookup(ref: string): Promise<TicketFacts | null>;
  onClosed(listener: TicketClosedListener): void;
}

export type TicketClosedListener = (tx: Tx, ticket: TicketFacts, ctx: RequestContext) => Promise<void>;

/** No tracker configured: no ticket is found, so policies that require one refuse, saying so. */
export const noTickets: AccessTickets = {
  lookup: async () => null,
  onClosed: () => undefined,
};

import type { Ticket } from '../tickets.schemas.js';
import type { ClosedTicket, TicketFacts } from '../tickets.types.js';

export const BUILTIN_TRACKER = 'builtin';

/** What the access policy needs from a built-in ticket. Its id is the ref: what requests name. */
export function ticketFacts(ticket: Ticket): TicketFacts {
  return { id: ticket.ref, state: ticket.state, assignee: ticket.assignee };
}

/** A just-closed built-in ticket, as close listeners receive it. */
export function closedTicket(ticket: Ticket & { state: 'closed'; closedAt: Date }): ClosedTicket {
  return {
    id: ticket.ref,
    state: 'closed',
    assignee: ticket.assignee,
    tracker: BUILTIN_TRACKER,
    closedAt: ticket.closedAt,
    closedBy: ticket.closedBy,
  };
}

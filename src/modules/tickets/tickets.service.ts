import type { Clock, Ids } from '../../platform/clock.js';
import { pgErrorCode, PgCode, type Store, type Tx } from '../../platform/db/store.js';
import { ConfigError, ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { IdentityService } from '../identity/identity.service.js';
import { decodeTicketCursor, toTicketPage } from './domain/paging.js';
import { closedTicket } from './domain/ticket-facts.js';
import {
  MAX_TICKET_NUMBER,
  parseTicketRef,
  PROJECT_KEY,
  PROJECT_KEY_HINT,
  TICKET_REF_HINT,
  ticketLocator,
} from './domain/ticket-ref.js';
import type {
  CreateTicketInput,
  Ticket,
  TicketListQuery,
  TicketPage,
  TransitionTicketInput,
  UpdateTicketInput,
} from './tickets.schemas.js';
import { ticketStore } from './tickets.store.js';
import type { TicketClosedListener, Unsubscribe } from './tickets.types.js';

export interface TicketServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  /** Who may be assigned a ticket: identity's look-up of an operator (by username). */
  operators: Pick<IdentityService, 'getOperator'>;
  /** Project key of generated refs when a create names none; default 'OPS'. */
  defaultProject?: string | undefined;
}

const invalid = (field: string, message: string) =>
  new ValidationError(`${field}: ${message}`, { details: { field } });

/**
 * Built-in tickets: create, read, list, change, close and reopen. Every change writes its audit event
 * (with `ticket` set to the ref) in its own transaction.
 *
 * Closing: listeners registered with `onClosed` run inside the close transaction, after its audit
 * event, in the order they subscribed. What they write commits with the close; if one throws, the close
 * rolls back and the caller gets that error. This is how access revokes a ticket's grants on close.
 */
export function createTicketService(deps: TicketServiceDeps) {
  const { db } = deps.store;
  const defaultProject = deps.defaultProject ?? 'OPS';
  if (!PROJECT_KEY.test(defaultProject)) {
    throw new ConfigError(
      `The default ticket project '${defaultProject}' is not a project key: ${PROJECT_KEY_HINT}`,
    );
  }
  const closedListeners: TicketClosedListener[] = [];

  /** The username to store for an assignee; the operator must exist and be active. */
  async function assignable(assignee: string | null | undefined): Promise<string | null | undefined> {
    if (assignee === null || assignee === undefined) return assignee;
    let operator;
    try {
      operator = await deps.operators.getOperator(assignee);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw invalid(
          'assignee',
          `there is no operator named '${assignee}'; check the username (gatehouse operators list)`,
        );
      }
      throw error;
    }
    if (!operator.active) {
      throw invalid('assignee', `operator '${operator.username}' is deactivated; assign an active operator`);
    }
    return operator.username;
  }

  function locate(ref: string) {
    const locator = ticketLocator(ref);
    if (!locator) throw invalid('ticket', `'${ref}' is neither a ticket ref nor an id: ${TICKET_REF_HINT}`);
    return locator;
  }

  async function findForChange(tx: Tx, ref: string): Promise<Ticket> {
    const ticket = await ticketStore.find(tx, locate(ref), { forUpdate: true });
    if (!ticket) throw new NotFoundError('Ticket', ref);
    return ticket;
  }

  async function numberFor(tx: Tx, input: CreateTicketInput): Promise<{ project: string; number: number }> {
    if (input.ref !== undefined) {
      const key = parseTicketRef(input.ref);
      if (!key) throw invalid('ref', TICKET_REF_HINT);
      await ticketStore.reserveNumber(tx, key.project, key.number);
      return key;
    }
    const project = input.project ?? defaultProject;
    if (!PROJECT_KEY.test(project)) throw invalid('project', PROJECT_KEY_HINT);
    try {
      return { project, number: await ticketStore.nextNumber(tx, project) };
    } catch (error) {
      if (pgErrorCode(error) === PgCode.checkViolation) {
        throw new ConflictError(
          `Project ${project} has used every ticket number up to ${MAX_TICKET_NUMBER}; create the ticket in another project`,
        );
      }
      throw error;
    }
  }

  return {
    /** Opens a ticket, with the given ref or the project's next number. */
    async create(ctx: RequestContext, input: CreateTicketInput): Promise<Ticket> {
      if (input.ref !== undefined && input.project !== undefined) {
        throw invalid('project', 'send either ref (the whole ref) or project (to number it), not both');
      }
      const assignee = (await assignable(input.assignee)) ?? null;
      return db.transaction().execute(async (tx) => {
        const { project, number } = await numberFor(tx, input);
        const now = deps.clock.now();
        const ticket: Ticket = {
          id: deps.ids.uuid(),
          ref: `${project}-${number}`,
          project,
          number,
          title: input.title,
          description: input.description ?? '',
          state: 'open',
          assignee,
          reporter: ctx.actor.name,
          createdAt: now,
          updatedAt: now,
          closedAt: null,
          closedBy: null,
        };
        try {
          await ticketStore.insert(tx, ticket);
        } catch (error) {
          if (pgErrorCode(error) === PgCode.uniqueViolation) {
            throw new ConflictError(
              `Ticket ${ticket.ref} already exists; use it, or leave out ref to get the next number of ${project}`,
            );
          }
          throw error;
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: 'ticket.created',
          target: { type: 'ticket', id: ticket.id },
          ticket: ticket.ref,
          details: { ref: ticket.ref, title: ticket.title, assignee: ticket.assignee },
        });
        return ticket;
      });
    },

    /** A ticket by ref (`OPS-42`) or id; 404 when there is none. */
    async get(ref: string): Promise<Ticket> {
      const ticket = await ticketStore.find(db, locate(ref));
      if (!ticket) throw new NotFoundError('Ticket', ref);
      return ticket;
    },

    /** A ticket by ref or id, or null (also for something that is neither). */
    async find(ref: string): Promise<Ticket | null> {
      const locator = ticketLocator(ref);
      return (locator && (await ticketStore.find(db, locator))) ?? null;
    },

    /** Newest first, a page at a time; filters by state, assignee and text in the ref or title. */
    async list(query: Partial<TicketListQuery> = {}): Promise<TicketPage> {
      const limit = query.limit ?? 50;
      const after = query.cursor === undefined ? undefined : decodeTicketCursor(query.cursor);
      const rows = await ticketStore.list(
        db,
        { state: query.state, assignee: query.assignee, q: query.q },
        { limit, after },
      );
      return toTicketPage(rows, limit);
    },

    /** Changes the title, description or assignee (null unassigns); only the fields sent change. */
    async update(ctx: RequestContext, ref: string, patch: UpdateTicketInput): Promise<Ticket> {
      if (Object.values(patch).every((v) => v === undefined)) {
        throw new ValidationError('Send at least one field to change (title, description, assignee)');
      }
      const assignee = await assignable(patch.assignee);
      return db.transaction().execute(async (tx) => {
        const current = await findForChange(tx, ref);
        const wanted = { title: patch.title, description: patch.description, assignee };
        const changed = (['title', 'description', 'assignee'] as const).filter(
          (field) => wanted[field] !== undefined && wanted[field] !== current[field],
        );
        if (changed.length === 0) return current;
        const now = deps.clock.now();
        await ticketStore.update(tx, current.id, { ...wanted, updatedAt: now });
        const updated: Ticket = {
          ...current,
          title: wanted.title ?? current.title,
          description: wanted.description ?? current.description,
          assignee: wanted.assignee === undefined ? current.assignee : wanted.assignee,
          updatedAt: now,
        };
        // descriptions can be long: the event says that one changed, not what it says
        const values = (t: Ticket) =>
          Object.fromEntries(changed.filter((f) => f !== 'description').map((f) => [f, t[f]]));
        await deps.audit.append(tx, {
          ...ctx,
          action: 'ticket.updated',
          target: { type: 'ticket', id: current.id },
          ticket: current.ref,
          details: { ref: current.ref, changed, from: values(current), to: values(updated) },
        });
        return updated;
      });
    },

    /** Closes an open ticket; the onClosed listeners run in the same transaction. */
    async close(ctx: RequestContext, ref: string, input: TransitionTicketInput = {}): Promise<Ticket> {
      return db.transaction().execute(async (tx) => {
        const current = await findForChange(tx, ref);
        if (current.state === 'closed') {
          throw new ConflictError(
            `Ticket ${current.ref} is already closed (by ${current.closedBy ?? 'unknown'} at ${current.closedAt?.toISOString() ?? '?'}); nothing to do. Reopen it if the work continues`,
          );
        }
        const now = deps.clock.now();
        const change = {
          state: 'closed' as const,
          closedAt: now,
          closedBy: ctx.actor.name,
          updatedAt: now,
        };
        await ticketStore.setState(tx, current.id, change);
        const closed = { ...current, ...change };
        await deps.audit.append(tx, {
          ...ctx,
          action: 'ticket.closed',
          target: { type: 'ticket', id: current.id },
          ticket: current.ref,
          details: { ref: current.ref, assignee: current.assignee, reason: input.reason ?? null },
        });
        for (const listener of [...closedListeners]) await listener(tx, closedTicket(closed), ctx);
        return closed;
      });
    },

    /** Opens a closed ticket again. Grants revoked when it closed stay revoked: request access anew. */
    async reopen(ctx: RequestContext, ref: string, input: TransitionTicketInput = {}): Promise<Ticket> {
      return db.transaction().execute(async (tx) => {
        const current = await findForChange(tx, ref);
        if (current.state === 'open') {
          throw new ConflictError(
            `Ticket ${current.ref} is already open; nothing to do. Close it when the work is done`,
          );
        }
        const now = deps.clock.now();
        const change = { state: 'open' as const, closedAt: null, closedBy: null, updatedAt: now };
        await ticketStore.setState(tx, current.id, change);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'ticket.reopened',
          target: { type: 'ticket', id: current.id },
          ticket: current.ref,
          details: {
            ref: current.ref,
            closedBy: current.closedBy,
            closedAt: current.closedAt,
            reason: input.reason ?? null,
          },
        });
        return { ...current, ...change };
      });
    },

    /**
     * Subscribes to closes of built-in tickets. The listener runs inside the close transaction (see
     * TicketClosedListener): use only `tx`, do no outside I/O, and throw to refuse the close.
     */
    onClosed(listener: TicketClosedListener): Unsubscribe {
      const entry: TicketClosedListener = (tx, ticket, ctx) => listener(tx, ticket, ctx);
      closedListeners.push(entry);
      return () => {
        const at = closedListeners.indexOf(entry);
        if (at >= 0) closedListeners.splice(at, 1);
      };
    },
  };
}

export type TicketService = ReturnType<typeof createTicketService>;

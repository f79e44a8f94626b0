import { sql, type ColumnType, type Selectable } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import { containsPattern } from '../../platform/paging.js';
import type { TicketCursor } from './domain/paging.js';
import type { Ticket, TicketState } from './tickets.schemas.js';

/**
 * SQL for tickets and their per-project counters (migrations/0005_tickets.sql). The tables are declared
 * here and added to the executor with `withTables`, so this module's SQL stays in this module.
 */
type Timestamp = ColumnType<Date, Date, Date>;

interface TicketsTable {
  id: string;
  ref: string;
  project: string;
  number: number;
  title: string;
  description: string;
  state: TicketState;
  assignee: string | null;
  reporter: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
  closed_by: string | null;
}

interface TicketProjectsTable {
  key: string;
  last_number: number;
}

// a type, not an interface: withTables needs the index signature only type aliases get implicitly
export type TicketTables = {
  tickets: TicketsTable;
  ticket_projects: TicketProjectsTable;
};

const tables = (db: Executor) => db.withTables<TicketTables>();

function toTicket(row: Selectable<TicketsTable>): Ticket {
  return {
    id: row.id,
    ref: row.ref,
    project: row.project,
    number: row.number,
    title: row.title,
    description: row.description,
    state: row.state,
    assignee: row.assignee,
    reporter: row.reporter,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
  };
}

export interface TicketFilters {
  state?: TicketState | undefined;
  assignee?: string | undefined;
  q?: string | undefined;
}

export const ticketStore = {
  /** Takes the project's next number (creating its counter at 1). Holds the counter's row lock until commit. */
  async nextNumber(tx: Executor, project: string): Promise<number> {
    const row = await tables(tx)
      .insertInto('ticket_projects')
      .values({ key: project, last_number: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ last_number: sql<number>`ticket_projects.last_number + 1` }),
      )
      .returning('last_number')
      .executeTakeFirstOrThrow();
    return row.last_number;
  },

  /** Records a given number as used, so the counter never hands it out (it only moves forward). */
  async reserveNumber(tx: Executor, project: string, number: number): Promise<void> {
    await tables(tx)
      .insertInto('ticket_projects')
      .values({ key: project, last_number: number })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          last_number: sql<number>`greatest(ticket_projects.last_number, excluded.last_number)`,
        }),
      )
      .execute();
  },

  async insert(tx: Executor, ticket: Ticket): Promise<void> {
    await tables(tx)
      .insertInto('tickets')
      .values({
        id: ticket.id,
        ref: ticket.ref,
        project: ticket.project,
        number: ticket.number,
        title: ticket.title,
        description: ticket.description,
        state: ticket.state,
        assignee: ticket.assignee,
        reporter: ticket.reporter,
        created_at: ticket.createdAt,
        updated_at: ticket.updatedAt,
        closed_at: ticket.closedAt,
        closed_by: ticket.closedBy,
      })
      .execute();
  },

  /** One ticket by ref or id; `forUpdate` locks its row until the transaction ends. */
  async find(
    db: Executor,
    locator: { ref: string } | { id: string },
    options: { forUpdate?: boolean } = {},
  ): Promise<Ticket | undefined> {
    let query = tables(db).selectFrom('tickets').selectAll();
    query = 'ref' in locator ? query.where('ref', '=', locator.ref) : query.where('id', '=', locator.id);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toTicket(row) : undefined;
  },

  /** Newest first; `limit + 1` rows so the caller can tell whether there is a next page. */
  async list(
    db: Executor,
    filters: TicketFilters,
    page: { limit: number; after?: TicketCursor | undefined },
  ): Promise<Ticket[]> {
    let query = tables(db).selectFrom('tickets').selectAll();
    if (filters.state) query = query.where('state', '=', filters.state);
    if (filters.assignee) query = query.where('assignee', '=', filters.assignee);
    if (filters.q) {
      const pattern = containsPattern(filters.q);
      query = query.where((eb) => eb.or([eb('ref', 'ilike', pattern), eb('title', 'ilike', pattern)]));
    }
    const after = page.after;
    if (after) {
      query = query.where((eb) =>
        eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return rows.map(toTicket);
  },

  async update(
    tx: Executor,
    id: string,
    patch: {
      title?: string | undefined;
      description?: string | undefined;
      assignee?: string | null | undefined;
      updatedAt: Date;
    },
  ): Promise<void> {
    await tables(tx)
      .updateTable('tickets')
      .set({
        title: patch.title,
        description: patch.description,
        assignee: patch.assignee,
        updated_at: patch.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  },

  async setState(
    tx: Executor,
    id: string,
    change: { state: TicketState; closedAt: Date | null; closedBy: string | null; updatedAt: Date },
  ): Promise<void> {
    await tables(tx)
      .updateTable('tickets')
      .set({
        state: change.state,
        closed_at: change.closedAt,
        closed_by: change.closedBy,
        updated_at: change.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  },
};

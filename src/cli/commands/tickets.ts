import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';

interface TicketView {
  id: string;
  ref: string;
  title: string;
  description: string;
  state: 'open' | 'closed';
  assignee: string | null;
  reporter: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
}

const COLUMNS = ['ref', 'state', 'assignee', 'title', 'updatedAt'];
const path = (ref: string) => `/api/v1/tickets/${encodeURIComponent(ref)}`;

function showTicket(ctx: CliContext, t: TicketView): void {
  ctx.out.result(t, () => {
    ctx.out.line(`${t.ref}  ${t.title}`);
    ctx.out.line(
      `  state:     ${t.state}${t.closedAt ? ` (closed by ${t.closedBy ?? '?'} at ${t.closedAt})` : ''}`,
    );
    ctx.out.line(`  assignee:  ${t.assignee ?? '(unassigned)'}`);
    ctx.out.line(`  reporter:  ${t.reporter}, ${t.createdAt}`);
    ctx.out.line(`  id:        ${t.id}`);
    if (t.description) ctx.out.line(`\n${t.description}`);
  });
}

export function registerTickets(program: Command): void {
  const tickets = program
    .command('tickets')
    .description('Built-in tickets: the work access is requested for')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse tickets create "Rotate the acme replica's certificates" --assignee alice
  gatehouse tickets list --state open --assignee alice
  gatehouse tickets update OPS-42 --assignee bob
  gatehouse tickets close OPS-42 --reason "done"`,
    );

  tickets
    .command('list')
    .description('List tickets, newest first')
    .addOption(new Option('--state <state>', 'only tickets in this state').choices(['open', 'closed']))
    .option('--assignee <username>', 'only tickets assigned to this operator')
    .option('--q <text>', 'only tickets whose ref or title contains this')
    .option('--limit <n>', 'per page (1-500)', '50')
    .option('--cursor <cursor>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await ctx
        .api()
        .get<{ items: TicketView[]; nextCursor: string | null }>(`/api/v1/tickets${query(options)}`);
      ctx.out.page(page, COLUMNS);
    });

  tickets
    .command('show <ref>')
    .description('Show a ticket by ref (OPS-42) or id')
    .action(async (ref: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      showTicket(ctx, await ctx.api().get<TicketView>(path(ref)));
    });

  tickets
    .command('create <title>')
    .description("Open a ticket; its ref is the project's next number unless --ref gives one")
    .option('--ref <ref>', 'the ref to use, like OPS-42')
    .option('--project <key>', 'project key of the generated ref, like SEC (default: the server default)')
    .option('--description <text>', 'what the work is, in more words')
    .option('--assignee <username>', 'the operator who does the work')
    .action(
      async (
        title: string,
        options: { ref?: string; project?: string; description?: string; assignee?: string },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const created = await ctx.api().post<TicketView>('/api/v1/tickets', { title, ...options });
        ctx.out.result(created, () => ctx.out.line(`Opened ${created.ref}: ${created.title}`));
      },
    );

  tickets
    .command('update <ref>')
    .description('Change the title, description or assignee')
    .option('--title <text>', 'a new title')
    .option('--description <text>', 'a new description')
    .option('--assignee <username>', 'assign it to this operator')
    .option('--unassign', 'assign it to nobody')
    .action(
      async (
        ref: string,
        options: { title?: string; description?: string; assignee?: string; unassign?: boolean },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const { unassign, ...fields } = options;
        if (unassign && fields.assignee !== undefined) {
          throw new ValidationError('Give either --assignee or --unassign, not both');
        }
        const body = { ...fields, ...(unassign ? { assignee: null } : {}) };
        const updated = await ctx.api().patch<TicketView>(path(ref), body);
        ctx.out.result(updated, () => ctx.out.line(`Updated ${updated.ref}.`));
      },
    );

  for (const [verb, done] of [
    ['close', 'Closed'],
    ['reopen', 'Reopened'],
  ] as const) {
    tickets
      .command(`${verb} <ref>`)
      .description(verb === 'close' ? 'Close an open ticket' : 'Reopen a closed ticket')
      .option('--reason <text>', 'why, for the audit log')
      .action(async (ref: string, options: { reason?: string }, command: Command) => {
        const ctx = contextFor(command);
        const ticket = await ctx.api().post<TicketView>(`${path(ref)}/${verb}`, options);
        ctx.out.result(ticket, () => ctx.out.line(`${done} ${ticket.ref}.`));
      });
  }
}

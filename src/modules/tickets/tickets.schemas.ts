import { z } from 'zod';
import { text } from '../../platform/validation.js';
import { username } from '../identity/identity.schemas.js';
import { PROJECT_KEY, PROJECT_KEY_HINT, TICKET_REF, TICKET_REF_HINT } from './domain/ticket-ref.js';

/**
 * The tickets API contract. Every input object is strict: a field the API does not know is an error,
 * not ignored. A ticket is named by its ref (`OPS-42`) or its id.
 */

export const ticketStates = ['open', 'closed'] as const;
export const ticketState = z.enum(ticketStates);

export const ticketRef = z.string().regex(TICKET_REF, TICKET_REF_HINT);
export const projectKey = z.string().regex(PROJECT_KEY, PROJECT_KEY_HINT);

export const ticketTitle = z
  .string()
  .trim()
  .min(1, 'must not be blank: say in a few words what the work is')
  .max(200, 'at most 200 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must be one line without control characters');
export const ticketDescription = text(4000);
export const ticketAssignee = username.describe("An active operator's username");
const reason = text(500).describe('Why, for the audit log');

export const createTicketBody = z
  .object({
    ref: ticketRef.optional().describe('The ref to use; by default the next number of the project'),
    project: projectKey
      .optional()
      .describe("Project key of the generated ref; defaults to the server's default project"),
    title: ticketTitle,
    description: ticketDescription.optional(),
    assignee: ticketAssignee.nullable().optional(),
  })
  .strict();

/** PATCH: only the fields sent change; `assignee: null` unassigns. */
export const updateTicketBody = z
  .object({
    title: ticketTitle.optional(),
    description: ticketDescription.optional(),
    assignee: ticketAssignee.nullable().optional(),
  })
  .strict();

/** Close and reopen take an optional reason; the body may be left out. */
export const transitionTicketBody = z.object({ reason: reason.optional() }).strict().nullish();

export const ticketListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional().describe('nextCursor from the previous page'),
    state: ticketState.optional(),
    assignee: ticketAssignee.optional(),
    q: text(100).optional().describe('Only tickets whose ref or title contains this (any case)'),
  })
  .strict();

export const ticketParams = z.object({
  ref: z.string().min(1).max(63).describe('The ticket ref, like OPS-42, or its id'),
});

export const ticketResponse = z.object({
  id: z.string(),
  ref: z.string(),
  project: z.string(),
  number: z.number().int(),
  title: z.string(),
  description: z.string(),
  state: ticketState,
  assignee: z.string().nullable(),
  reporter: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  closedAt: z.date().nullable(),
  closedBy: z.string().nullable(),
});

export const ticketPage = z.object({
  items: z.array(ticketResponse),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null at the end'),
});

export type TicketState = z.infer<typeof ticketState>;
export type CreateTicketInput = z.infer<typeof createTicketBody>;
export type UpdateTicketInput = z.infer<typeof updateTicketBody>;
export type TransitionTicketInput = NonNullable<z.infer<typeof transitionTicketBody>>;
export type TicketListQuery = z.infer<typeof ticketListQuery>;
export type Ticket = z.infer<typeof ticketResponse>;
export type TicketPage = z.infer<typeof ticketPage>;

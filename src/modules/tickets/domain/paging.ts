import { ValidationError } from '../../../platform/errors.js';
import { pageOf } from '../../../platform/paging.js';

/**
 * Tickets are listed newest first; a page ends with the (created at, id) of its last ticket, and the
 * next page starts strictly after it. The cursor is opaque to clients (base64url of a small JSON).
 */
export interface TicketCursor {
  createdAt: Date;
  id: string;
}

export function encodeTicketCursor(last: TicketCursor): string {
  return Buffer.from(JSON.stringify({ t: last.createdAt.toISOString(), i: last.id }), 'utf8').toString(
    'base64url',
  );
}

export function decodeTicketCursor(cursor: string): TicketCursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && 't' in parsed && 'i' in parsed) {
      const { t, i } = parsed;
      const createdAt = typeof t === 'string' ? new Date(t) : undefined;
      if (
        createdAt &&
        !Number.isNaN(createdAt.getTime()) &&
        typeof i === 'string' &&
        /^[0-9a-f-]{36}$/.test(i)
      )
        return { createdAt, id: i };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(
    'cursor: not one this API handed out; pass nextCursor from the previous page, or leave it out to start again',
    { details: { field: 'cursor' } },
  );
}

/** Rows were fetched with limit + 1: the extra one tells whether there is a next page. */
export function toTicketPage<T extends TicketCursor>(rows: T[], limit: number) {
  return pageOf(rows, limit, encodeTicketCursor);
}

/**
 * Ticket refs: a project key and a number, like `OPS-42`. Pure; the schemas, the store's CHECKs and the
 * registry all use these grammars.
 */

/** 2-10 upper-case letters and digits, starting with a letter. */
export const PROJECT_KEY = /^[A-Z][A-Z0-9]{1,9}$/;
/** A project key, a dash, a number 1-999999999 without leading zeros. */
export const TICKET_REF = /^[A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,8}$/;
export const MAX_TICKET_NUMBER = 999_999_999;

export const PROJECT_KEY_HINT = 'use 2-10 upper-case letters or digits, starting with a letter, like "OPS"';
export const TICKET_REF_HINT =
  'use a project key, a dash and a number without leading zeros, like "OPS-42" (key: 2-10 upper-case letters or digits, starting with a letter)';

export interface TicketKey {
  project: string;
  number: number;
}

/** The project and number of a ref, or null when it is not a ref. */
export function parseTicketRef(ref: string): TicketKey | null {
  if (!TICKET_REF.test(ref)) return null;
  const dash = ref.lastIndexOf('-');
  return { project: ref.slice(0, dash), number: Number(ref.slice(dash + 1)) };
}

export function formatTicketRef(key: TicketKey): string {
  return `${key.project}-${key.number}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How a path names a ticket: by its ref, or by its id. Null when it is neither. */
export function ticketLocator(value: string): { ref: string } | { id: string } | null {
  if (TICKET_REF.test(value)) return { ref: value };
  if (UUID.test(value)) return { id: value.toLowerCase() };
  return null;
}

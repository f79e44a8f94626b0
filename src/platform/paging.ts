/**
 * Cursor pagination, shared by every list: stores fetch `limit + 1` rows, and the extra one says
 * whether there is a next page. Each list chooses what its cursor is (a name, an id, a sequence number).
 */
export function pageOf<T, C>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => C,
): { items: T[]; nextCursor: C | null } {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last !== undefined ? cursorOf(last) : null };
}

/** Text for a LIKE pattern, matching itself only: LIKE's wildcards and escape character escaped. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** A LIKE pattern matching text that contains `text`. */
export function containsPattern(text: string): string {
  return `%${escapeLike(text)}%`;
}

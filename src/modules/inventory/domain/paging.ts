import { ValidationError } from '../../../platform/errors.js';
import { pageOf } from '../../../platform/paging.js';

/**
 * Cursor pagination by name: a page ends with the name after which the next one starts. The cursor is
 * opaque to clients (base64url of a small JSON) so its shape can change without breaking them.
 */
export interface PageRequest {
  limit: number;
  /** Return names strictly after this one. */
  after?: string | undefined;
  /** Only names containing this text. */
  q?: string | undefined;
}

export function encodeCursor(lastName: string): string {
  return Buffer.from(JSON.stringify({ n: lastName }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && 'n' in parsed && typeof parsed.n === 'string')
      return parsed.n;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor is not one this API handed out; pass nextCursor from the previous page');
}

export function pageRequest(query: {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
}): PageRequest {
  return {
    limit: query.limit,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    q: query.q,
  };
}

/** Rows were fetched with limit + 1: the extra one tells whether there is a next page. */
export function toPage<T extends { name: string }>(rows: T[], limit: number) {
  return pageOf(rows, limit, (last) => encodeCursor(last.name));
}

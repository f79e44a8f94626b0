import { useState } from 'react';
import './pager.css';

/**
 * Cursor pagination for a list: the cursors of the pages before this one, so "Previous" goes back
 * without the API having to page backwards. A new `resetKey` (the filters) starts again at page 1.
 */
export function useCursorPages<C>(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: C[] }>({ key: resetKey, stack: [] });
  const stack = state.key === resetKey ? state.stack : [];
  return {
    cursor: stack.at(-1),
    page: stack.length + 1,
    next: (cursor: C) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.slice(0, -1) }),
  };
}

/** "Previous page · Page 2 · Next page" under a list; `label` names the list for screen readers. */
export function Pager<C>({
  label,
  pages,
  nextCursor,
  shown,
}: {
  label: string;
  pages: ReturnType<typeof useCursorPages<C>>;
  nextCursor: C | null | undefined;
  shown: number;
}) {
  const first = pages.page === 1;
  const last = nextCursor === null || nextCursor === undefined;
  if (first && last) return null;
  // aria-disabled rather than disabled: a button that becomes unavailable keeps the keyboard focus
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="button-secondary"
        aria-disabled={first}
        onClick={() => {
          if (!first) pages.previous();
        }}
      >
        Previous page
      </button>
      <span className="pager-where" aria-live="polite">
        Page {pages.page} ({shown} shown)
      </span>
      <button
        type="button"
        className="button-secondary"
        aria-disabled={last}
        onClick={() => {
          if (!last) pages.next(nextCursor);
        }}
      >
        Next page
      </button>
    </nav>
  );
}

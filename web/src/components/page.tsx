import { useEffect, useRef, type ReactNode } from 'react';
import { useLocation } from 'react-router-dom';

/** The address the document was loaded at: its first page keeps the browser's own focus. */
const loadedAt = `${window.location.pathname}${window.location.search}`;
let navigated = false;

/** The next page is reached by navigation (sign-in done…): its heading takes the focus. */
export function focusNextPage(): void {
  navigated = true;
}

/**
 * A page: sets the document title and, after a navigation, moves focus to the heading so screen-reader
 * and keyboard users land at the top of the new content.
 */
export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const location = useLocation();
  const here = `${location.pathname}${location.search}`;
  useEffect(() => {
    document.title = `${title} · Gatehouse`;
  }, [title]);
  useEffect(() => {
    if (!navigated && here === loadedAt) return;
    navigated = true;
    heading.current?.focus();
  }, [here]);
  return (
    <>
      <div className="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

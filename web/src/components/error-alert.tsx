import type { ApiError } from '../api/client';

/** An API error as the operator sees it: what went wrong, and the request id to quote when reporting it. */
export function ErrorAlert({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      {title ? <p className="alert-title">{title}</p> : null}
      <p>{error.message}</p>
      {error.requestId ? (
        <p className="alert-meta">
          Request id: <code>{error.requestId}</code>
        </p>
      ) : null}
    </div>
  );
}

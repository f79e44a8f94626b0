import { Link } from 'react-router-dom';
import type { AuditEvent } from '../../api/audit';

/** A time to the second in the operator's locale (audit reads need the seconds). */
export function exactTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** An id's last 12 characters (time-ordered ids share their first ones); the detail shows it whole. */
function shortId(id: string): string {
  return id.length > 14 ? `…${id.slice(-12)}` : id;
}

/** One page of events, newest first; the sequence number opens the event's detail. */
export function AuditTable({ events, busy }: { events: AuditEvent[]; busy: boolean }) {
  return (
    <div className="table-wrap">
      <table aria-busy={busy} className="listing audit-table">
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">Ticket</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <th scope="row">
                <Link to={`/audit/events/${e.id}`} aria-label={`Event #${e.seq}`}>
                  #{e.seq}
                </Link>
              </th>
              <td>
                <time dateTime={e.occurredAt}>{exactTime(e.occurredAt)}</time>
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                {e.actorName}
                {e.actorType !== 'operator' ? <span className="muted"> ({e.actorType})</span> : null}
              </td>
              <td>
                {e.targetType ? (
                  <>
                    {e.targetType}
                    {e.targetId ? (
                      <>
                        {' '}
                        <code title={e.targetId}>{shortId(e.targetId)}</code>
                      </>
                    ) : null}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{e.ticket ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import { Link } from 'react-router-dom';
import { auditApi, type AuditEvent, type AuditFilters } from '../../api/audit';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { Loading } from '../../components/status';
import { useApi } from '../../components/use-api';
import { exactTime } from './audit-table';

function Value({ value }: { value: string | null }) {
  return value === null || value === '' ? <span className="muted">—</span> : <code>{value}</code>;
}

function Facts({ event }: { event: AuditEvent }) {
  return (
    <dl className="event-facts">
      <dt>Sequence</dt>
      <dd>#{event.seq}</dd>
      <dt>Event id</dt>
      <dd>
        <Value value={event.id} />
      </dd>
      <dt>Occurred at</dt>
      <dd>
        {exactTime(event.occurredAt)} (<code>{event.occurredAt}</code>)
      </dd>
      <dt>Action</dt>
      <dd>
        <code>{event.action}</code>
      </dd>
      <dt>Actor</dt>
      <dd>
        {event.actorName} ({event.actorType}
        {event.actorId ? (
          <>
            , <code>{event.actorId}</code>
          </>
        ) : null}
        )
      </dd>
      <dt>Target type</dt>
      <dd>
        <Value value={event.targetType} />
      </dd>
      <dt>Target id</dt>
      <dd>
        <Value value={event.targetId} />
      </dd>
      <dt>Ticket</dt>
      <dd>
        <Value value={event.ticket} />
      </dd>
      <dt>API request id</dt>
      <dd>
        <Value value={event.requestId} />
      </dd>
      <dt>Source IP</dt>
      <dd>
        <Value value={event.sourceIp} />
      </dd>
      <dt>Hash</dt>
      <dd className="hash">
        <Value value={event.hash} />
      </dd>
      <dt>Previous hash</dt>
      <dd className="hash">
        <Value value={event.prevHash} />
      </dd>
    </dl>
  );
}

/**
 * One event with every field, its details as JSON and its place in the chain (hash and the previous
 * event's hash), with searches for the events around it.
 */
export function EventDetail({
  id,
  onSearch,
}: {
  id: string;
  /** Replaces the search's filters (the links then go back to the list). */
  onSearch: (filters: AuditFilters) => void;
}) {
  const event = useApi((signal) => auditApi.event(id, signal), [id]);
  const title = event.data ? `Audit event #${event.data.seq}` : 'Audit event';
  const related: { label: string; filters: AuditFilters }[] = [];
  if (event.data) {
    const e = event.data;
    if (e.targetType && e.targetId)
      related.push({
        label: 'Events on this target',
        filters: { targetType: e.targetType, targetId: e.targetId },
      });
    if (e.requestId)
      related.push({ label: 'Events of the same API request', filters: { requestId: e.requestId } });
    related.push({ label: `Events by ${e.actorName}`, filters: { actorName: e.actorName } });
    if (e.ticket) related.push({ label: `Events for ticket ${e.ticket}`, filters: { ticket: e.ticket } });
  }
  return (
    <Page title={title} actions={<Link to="/audit">Back to the search</Link>}>
      {event.status === 'error' ? (
        <ErrorAlert error={event.error} title="The event could not be loaded" />
      ) : null}
      {event.status === 'loading' && !event.data ? <Loading label="Loading the event…" /> : null}
      {event.data ? (
        <>
          <Facts event={event.data} />
          <h2>Details</h2>
          <pre className="event-json" role="region" aria-label="Details as JSON" tabIndex={0}>
            {JSON.stringify(event.data.details, null, 2)}
          </pre>
          <h2>Related events</h2>
          <ul className="related">
            {related.map((r) => (
              <li key={r.label}>
                <Link to="/audit" onClick={() => onSearch(r.filters)}>
                  {r.label}
                </Link>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Page>
  );
}

import { useCallback, useState } from 'react';
import { useParams } from 'react-router-dom';
import { auditApi, type AuditFilters } from '../../api/audit';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { Pager, useCursorPages } from '../../components/pager';
import { EmptyState, Loading } from '../../components/status';
import { useApi } from '../../components/use-api';
import { useSession } from '../../session/session';
import { AuditFilterForm } from './audit-filters';
import { AuditTable } from './audit-table';
import { EventDetail } from './event-detail';
import { VerifyStatus } from './verify-status';
import '../inventory/inventory.css';
import './audit.css';

function ExportLinks({ filters }: { filters: AuditFilters }) {
  const range = { from: filters.from, to: filters.to };
  const ranged = Boolean(filters.from || filters.to);
  return (
    <section className="export" aria-labelledby="export-title">
      <h2 id="export-title">Export</h2>
      <p className="field-hint">
        {ranged ? 'Every event in the time range above' : 'Every event'}, oldest first, with its hash and the
        previous hash (the other filters do not apply to the export).
      </p>
      <div className="form-actions">
        <a className="button button-secondary" href={auditApi.exportUrl('jsonl', range)} download>
          Export as JSON lines
        </a>
        <a className="button button-secondary" href={auditApi.exportUrl('csv', range)} download>
          Export as CSV
        </a>
      </div>
    </section>
  );
}

function Results({ filters }: { filters: AuditFilters }) {
  const key = JSON.stringify(filters);
  const pages = useCursorPages<number>(key);
  const events = useApi((signal) => auditApi.search(filters, pages.cursor, signal), [key, pages.cursor]);
  const filtered = Object.values(filters).some(Boolean);
  if (events.status === 'error') return <ErrorAlert error={events.error} title="The search failed" />;
  // a new search's answer is awaited before saying it found nothing
  if (!events.data || (events.status === 'loading' && events.data.items.length === 0)) {
    return <Loading label="Searching the audit log…" />;
  }
  if (events.data.items.length === 0) {
    return (
      <EmptyState title={filtered ? 'No event matches this search' : 'The audit log is empty'}>
        {filtered ? <p>Loosen the filters, or clear them to see every event.</p> : null}
      </EmptyState>
    );
  }
  return (
    <>
      <AuditTable events={events.data.items} busy={events.status === 'loading'} />
      <Pager
        label="Pages of audit events"
        pages={pages}
        nextCursor={events.data.nextCursor}
        shown={events.data.items.length}
      />
    </>
  );
}

/**
 * Audit: the chain's verification, a search (action, actor, target, ticket, time range) over the log
 * newest first with cursor pages, each event's detail at /audit/events/<id>, and the export. The search
 * is kept while an event is open, so "Back to the search" returns to the same results.
 */
export function AuditPage() {
  const { can } = useSession();
  const rest = useParams()['*'] ?? '';
  const [filters, setFilters] = useState<AuditFilters>({});
  const [generation, setGeneration] = useState(0);
  const replace = useCallback((next: AuditFilters) => {
    setFilters(next);
    setGeneration((g) => g + 1);
  }, []);

  const open = /^events\/([0-9a-f-]{36})$/i.exec(rest)?.[1];
  if (open) return <EventDetail id={open} onSearch={replace} />;

  return (
    <Page title="Audit">
      <VerifyStatus />
      <h2>Events</h2>
      <AuditFilterForm key={generation} filters={filters} onSearch={setFilters} />
      <Results filters={filters} />
      {can('audit:export') ? <ExportLinks filters={filters} /> : null}
    </Page>
  );
}

import { useId, useState, type FormEvent } from 'react';
import type { AuditFilters, filterKeys } from '../../api/audit';

/** An ISO time as a datetime-local input shows it (the operator's local time, to the minute). */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A datetime-local value (local time) as ISO 8601, or undefined when empty or not a time. */
export function fromLocalInput(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

type Draft = Record<(typeof filterKeys)[number], string>;

function draftOf(filters: AuditFilters): Draft {
  return {
    action: filters.action ?? '',
    actorName: filters.actorName ?? '',
    targetType: filters.targetType ?? '',
    targetId: filters.targetId ?? '',
    ticket: filters.ticket ?? '',
    requestId: filters.requestId ?? '',
    from: toLocalInput(filters.from),
    to: toLocalInput(filters.to),
  };
}

function filtersOf(draft: Draft): AuditFilters {
  const text = (value: string) => value.trim() || undefined;
  return {
    action: text(draft.action),
    actorName: text(draft.actorName),
    targetType: text(draft.targetType),
    targetId: text(draft.targetId),
    ticket: text(draft.ticket),
    requestId: text(draft.requestId),
    from: fromLocalInput(draft.from),
    to: fromLocalInput(draft.to),
  };
}

const fields: { key: keyof Draft; label: string; hint?: string; type?: string }[] = [
  { key: 'action', label: 'Action', hint: 'e.g. auth.signed-in, or a prefix: access-request.*' },
  { key: 'actorName', label: 'Actor', hint: 'Username, token or system name' },
  { key: 'targetType', label: 'Target type', hint: 'e.g. access-request, grant, operator' },
  { key: 'targetId', label: 'Target id' },
  { key: 'ticket', label: 'Ticket' },
  { key: 'requestId', label: 'API request id' },
  { key: 'from', label: 'From', hint: 'Your local time', type: 'datetime-local' },
  { key: 'to', label: 'To', hint: 'Your local time', type: 'datetime-local' },
];

/**
 * The search form: edited freely, applied with "Search" (or Enter); "Clear" shows everything again.
 * Re-created (by key) when the filters are replaced from outside, e.g. from an event's detail.
 */
export function AuditFilterForm({
  filters,
  onSearch,
}: {
  filters: AuditFilters;
  onSearch: (filters: AuditFilters) => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState<Draft>(() => draftOf(filters));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(filtersOf(draft));
  };
  return (
    <form className="audit-filters" role="search" aria-label="Search the audit log" onSubmit={submit}>
      {fields.map((f) => (
        <div className="field" key={f.key}>
          <label htmlFor={`${id}-${f.key}`}>{f.label}</label>
          {f.hint ? (
            <p className="field-hint" id={`${id}-${f.key}-hint`}>
              {f.hint}
            </p>
          ) : null}
          <input
            id={`${id}-${f.key}`}
            type={f.type ?? 'text'}
            autoComplete="off"
            spellCheck={false}
            value={draft[f.key]}
            aria-describedby={f.hint ? `${id}-${f.key}-hint` : undefined}
            onChange={(event) => setDraft({ ...draft, [f.key]: event.target.value })}
          />
        </div>
      ))}
      <div className="audit-filters-actions">
        <button type="submit">Search</button>
        <button
          type="button"
          className="button-secondary"
          onClick={() => {
            setDraft(draftOf({}));
            onSearch({});
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

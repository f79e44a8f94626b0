import { useId, useRef, useState, type FormEvent } from 'react';
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

const ACTION = /^[a-z0-9_.-]+(\.\*)?$/;

/** What the API would refuse, said next to the field before asking it (empty when all is well). */
export function problemsOf(draft: Draft): Partial<Record<keyof Draft, string>> {
  const problems: Partial<Record<keyof Draft, string>> = {};
  const action = draft.action.trim();
  if (action && !ACTION.test(action)) {
    problems.action =
      'Use lower-case letters, digits and . _ -, like auth.signed-in, or a prefix ending in .*, like access-request.*';
  }
  for (const key of ['actorName', 'targetId', 'ticket', 'requestId'] as const) {
    if (draft[key].trim().length > 100) problems[key] = 'At most 100 characters';
  }
  if (draft.targetType.trim().length > 50) problems.targetType = 'At most 50 characters';
  for (const key of ['from', 'to'] as const) {
    if (draft[key] && !fromLocalInput(draft[key])) problems[key] = 'Enter a date and a time';
  }
  const from = fromLocalInput(draft.from);
  const to = fromLocalInput(draft.to);
  if (from && to && from > to) problems.to = 'Must not be before From';
  return problems;
}

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
  const [problems, setProblems] = useState<Partial<Record<keyof Draft, string>>>({});
  const form = useRef<HTMLFormElement>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = problemsOf(draft);
    setProblems(found);
    const first = fields.find((f) => found[f.key]);
    if (first) {
      form.current?.querySelector<HTMLInputElement>(`#${CSS.escape(`${id}-${first.key}`)}`)?.focus();
      return;
    }
    onSearch(filtersOf(draft));
  };
  return (
    <form
      ref={form}
      className="audit-filters"
      role="search"
      aria-label="Search the audit log"
      noValidate
      onSubmit={submit}
    >
      {fields.map((f) => (
        <div className={problems[f.key] ? 'field field-invalid' : 'field'} key={f.key}>
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
            aria-invalid={problems[f.key] ? true : undefined}
            aria-describedby={
              [f.hint ? `${id}-${f.key}-hint` : '', problems[f.key] ? `${id}-${f.key}-error` : '']
                .filter(Boolean)
                .join(' ') || undefined
            }
            onChange={(event) => setDraft({ ...draft, [f.key]: event.target.value })}
          />
          {problems[f.key] ? (
            <p className="field-error" id={`${id}-${f.key}-error`}>
              {problems[f.key]}
            </p>
          ) : null}
        </div>
      ))}
      <div className="audit-filters-actions">
        <button type="submit">Search</button>
        <button
          type="button"
          className="button-secondary"
          onClick={() => {
            setDraft(draftOf({}));
            setProblems({});
            onSearch({});
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, asApiError } from '../../api/client';
import {
  networkApi,
  protocols,
  scopeTypes,
  type CheckFinding,
  type FormField,
  type Protocol,
  type Rule,
  type RuleDraft,
  type ScopeType,
  type Where,
} from '../../api/network';
import { ErrorAlert } from '../../components/error-alert';
import { useSession } from '../../session/session';
import { InputField, SelectField } from './form-fields';

/**
 * Add or edit one customer rule. While the operator types, the draft goes to the checks (nothing is
 * saved) and each message appears next to the field it is about; a refused save shows the server's
 * messages the same way. An edit is saved from the version it was opened at.
 */
const scopeLabels: Record<ScopeType, string> = {
  'asset-group': 'Asset group',
  'machine-type': 'Machine type',
  asset: 'One asset',
};

const CHECK_DELAY_MS = 400;

function draftOf(rule: Rule | undefined, owner: string): RuleDraft {
  return {
    scope: rule?.scope ?? { type: 'asset-group', name: '' },
    protocol: rule?.protocol ?? 'tcp',
    ports: rule?.ports ?? '',
    source: rule?.source ?? '',
    description: rule?.description ?? '',
    owner: rule?.owner ?? owner,
    // an edit is a new change: it needs its own ticket
    ticket: '',
  };
}

/** A finding as the operator reads it: the check's id first, so it can be looked up. */
const say = (f: CheckFinding) => (f.check === 'input' ? f.message : `${f.check}: ${f.message}`);

/** The findings of a refused save, from the error's details. */
function refusalFindings(error: ApiError): CheckFinding[] | undefined {
  const details = error.details ?? {};
  const list = (details.findings ?? details.problems) as
    { check?: string; field: string; message: string }[] | undefined;
  if (Array.isArray(list) && list.length > 0)
    return list.map((f) => ({ check: f.check ?? 'input', field: f.field, message: f.message }));
  if (typeof details.field === 'string')
    return [{ check: 'input', field: details.field, message: error.message }];
  return undefined;
}

export function RuleForm({
  where,
  choices,
  editing,
  onSaved,
  onCancel,
}: {
  where: Where;
  choices: Record<ScopeType, string[]>;
  editing: Rule | undefined;
  onSaved: (rule: Rule, how: 'created' | 'updated') => void;
  onCancel: () => void;
}) {
  const { me } = useSession();
  const [draft, setDraft] = useState<RuleDraft>(() => draftOf(editing, me?.operator.username ?? ''));
  /** the rule as this edit started from it: what the operator changed is what differs from it */
  const [base, setBase] = useState<RuleDraft>(draft);
  const [version, setVersion] = useState(editing?.version ?? 1);
  const [findings, setFindings] = useState<CheckFinding[]>([]);
  const [checking, setChecking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [current, setCurrent] = useState<Rule>();
  const [focusInvalid, setFocusInvalid] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const ruleErrorsId = useId();

  // after a refused save, the first field with a message takes the focus
  useEffect(() => {
    if (focusInvalid === 0) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusInvalid]);
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  // opened: keyboard and screen-reader users land on the form's heading
  useEffect(() => heading.current?.focus(), []);

  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));

  // the checks, a moment after the operator stops typing; nothing is saved
  const ready = draft.source.trim() !== '' && draft.scope.name !== '';
  const { customer, environment } = where;
  const editingId = editing?.id;
  useEffect(() => {
    if (!ready) {
      setFindings([]);
      return undefined;
    }
    let live = true;
    const timer = setTimeout(() => {
      setChecking(true);
      networkApi.check({ customer, environment }, draft, editingId).then(
        (answer) => {
          if (!live) return;
          setFindings(answer.findings);
          setChecking(false);
        },
        () => {
          // a failed check is not a finding: the save will say what is wrong
          if (!live) return;
          setFindings([]);
          setChecking(false);
        },
      );
    }, CHECK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [ready, draft, customer, environment, editingId]);

  const byField = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const f of findings) map.set(f.field, [...(map.get(f.field) ?? []), say(f)]);
    return (field: FormField) => map.get(field);
  }, [findings]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCurrent(undefined);
    try {
      // the checks first, on exactly what would be saved: a refused draft is never sent
      const checked = await networkApi.check(where, draft, editing?.id);
      if (!checked.ok) {
        setFindings(checked.findings);
        setError(new ApiError(400, 'refused', 'Not saved: fix what is marked below.'));
        setFocusInvalid((n) => n + 1);
        setBusy(false);
        return;
      }
      const saved = editing
        ? await networkApi.update(editing.id, version, draft)
        : await networkApi.create(where, draft);
      onSaved(saved, editing ? 'updated' : 'created');
    } catch (e) {
      const failure = asApiError(e);
      const refused = failure.status === 400 ? refusalFindings(failure) : undefined;
      if (refused) {
        setFindings(refused);
        setError(new ApiError(400, failure.code, 'Not saved: fix what is marked below.', failure.requestId));
        setFocusInvalid((n) => n + 1);
      } else {
        setError(failure);
        if (failure.status === 409) setCurrent(failure.details?.current as Rule | undefined);
      }
      setBusy(false);
    }
  };

  /**
   * After a 409: start again from the other editor's version, with this operator's own changes (the
   * fields that differ from where this edit started) on top of it; the operator then saves again.
   */
  const rebase = () => {
    if (!current) return;
    const theirs = draftOf(current, '');
    const merged = { ...theirs, ticket: draft.ticket };
    for (const key of ['scope', 'protocol', 'ports', 'source', 'description', 'owner'] as const) {
      if (JSON.stringify(draft[key]) !== JSON.stringify(base[key]))
        Object.assign(merged, { [key]: draft[key] });
    }
    setBase(theirs);
    setDraft(merged);
    setVersion(current.version ?? version);
    setError(undefined);
    setCurrent(undefined);
  };

  const ruleMessages = byField('rule');
  const problems = findings.length;
  return (
    <section
      className="panel network-form"
      aria-labelledby={headingId}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        {editing
          ? `Edit rule ${editing.protocol} ${editing.ports ?? ''} from ${editing.source}`
          : 'Add a rule'}
      </h2>
      <p className="field-hint">
        Customer {where.customer}, environment {where.environment}.{' '}
        {editing ? `Editing version ${version}.` : null}
      </p>
      <ErrorAlert
        error={error}
        title={error?.status === 409 ? 'Someone else changed this rule' : undefined}
      />
      {current ? (
        <div className="form-actions">
          <p>
            Now: {current.protocol} {current.ports ?? ''} from {current.source} ({current.description}),
            version {current.version}.
          </p>
          <button type="button" className="button-secondary" onClick={rebase}>
            Keep my changes on top of version {current.version}
          </button>
        </div>
      ) : null}
      <form
        ref={form}
        onSubmit={(event) => void submit(event)}
        aria-describedby={ruleMessages ? ruleErrorsId : undefined}
      >
        <div className="network-form-grid">
          <SelectField
            label="Applies to"
            value={draft.scope.type}
            onChange={(type) => set('scope', { type: type as ScopeType, name: '' })}
            options={scopeTypes.map((t) => ({ value: t, label: scopeLabels[t] }))}
          />
          <SelectField
            label={scopeLabels[draft.scope.type]}
            value={draft.scope.name}
            onChange={(name) => set('scope', { ...draft.scope, name })}
            options={choices[draft.scope.type]}
            placeholder="Choose…"
            messages={byField('scope')}
            required
          />
          <SelectField
            label="Protocol"
            value={draft.protocol}
            onChange={(p) => set('protocol', p as Protocol)}
            options={[...protocols]}
            messages={byField('protocol')}
          />
          <InputField
            label="Ports"
            hint="A port (443) or a range (8000-8100); none for icmp."
            value={draft.protocol === 'icmp' ? '' : (draft.ports ?? '')}
            onChange={(v) => set('ports', v)}
            disabled={draft.protocol === 'icmp'}
            inputMode="numeric"
            autoComplete="off"
            messages={byField('ports')}
            required={draft.protocol !== 'icmp'}
          />
          <InputField
            label="Source"
            hint="A CIDR (198.51.100.0/24) or a group: jumpboxes, an asset group, customer:<customer>:<group>."
            value={draft.source}
            onChange={(v) => set('source', v)}
            autoComplete="off"
            spellCheck={false}
            messages={byField('source')}
            required
          />
          <InputField
            label="Description"
            hint="Why this opening exists."
            value={draft.description}
            onChange={(v) => set('description', v)}
            messages={byField('description')}
            maxLength={200}
            required
          />
          <InputField
            label="Owner"
            value={draft.owner}
            onChange={(v) => set('owner', v)}
            messages={byField('owner')}
            maxLength={80}
            required
          />
          <InputField
            label="Ticket"
            hint={editing ? 'The change ticket of this edit.' : 'The ticket that asks for this opening.'}
            value={draft.ticket}
            onChange={(v) => set('ticket', v)}
            autoComplete="off"
            messages={byField('ticket')}
            maxLength={60}
            required
          />
        </div>
        {ruleMessages ? (
          <div className="field-error" id={ruleErrorsId}>
            {ruleMessages.map((m) => (
              <p key={m}>{m}</p>
            ))}
          </div>
        ) : null}
        <p className="network-check-status" role="status">
          {!ready
            ? 'Choose what the rule applies to and its source to run the security checks.'
            : checking
              ? 'Checking…'
              : problems === 0
                ? 'The security checks pass.'
                : `${problems} problem${problems === 1 ? '' : 's'}: see the messages next to the fields.`}
        </p>
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save changes' : 'Add rule'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

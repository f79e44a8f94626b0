import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { asApiError, type ApiError } from '../../api/client';
import { networkApi, type Rule, type Where } from '../../api/network';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { EmptyState, Loading, Notice } from '../../components/status';
import { useApi } from '../../components/use-api';
import { useSession } from '../../session/session';
import { InputField, SelectField } from './form-fields';
import { PlanPanel } from './plan-panel';
import { RuleForm } from './rule-form';
import './network.css';

/**
 * Customer network rules: pick a customer and environment (kept in the address, so a link shows the
 * same view); list, add, edit and delete its rules with the security checks inline; then preview the
 * plan per layer and apply it.
 */
export function NetworkPage() {
  const [params, setParams] = useSearchParams();
  const customer = params.get('customer') ?? '';
  const environment = params.get('environment') ?? '';
  const customers = useApi((signal) => networkApi.customers(signal), []);
  const environments = useApi(
    (signal) => (customer ? networkApi.environments(customer, signal) : Promise.resolve([])),
    [customer],
  );

  const choose = (next: { customer?: string; environment?: string }) => {
    const value = { customer, environment, ...next };
    setParams(Object.fromEntries(Object.entries(value).filter(([, v]) => v)), { replace: false });
  };

  const where = useMemo(
    () => (customer && environment ? { customer, environment } : undefined),
    [customer, environment],
  );

  return (
    <Page title="Network rules">
      <ErrorAlert
        error={customers.status === 'error' ? customers.error : undefined}
        title="Customers could not be loaded"
      />
      <form
        className="network-picker"
        aria-label="Customer and environment"
        onSubmit={(e) => e.preventDefault()}
      >
        <SelectField
          label="Customer"
          value={customer}
          onChange={(c) => choose({ customer: c, environment: '' })}
          options={(customers.data ?? []).map((c) => ({ value: c.name, label: c.displayName ?? c.name }))}
          placeholder={customers.status === 'loading' ? 'Loading…' : 'Choose a customer'}
        />
        <SelectField
          label="Environment"
          value={environment}
          onChange={(e) => choose({ environment: e })}
          options={(environments.data ?? []).map((e) => ({
            value: e.name,
            label: `${e.name} (${e.tier}, ${e.region})`,
          }))}
          placeholder={customer ? 'Choose an environment' : 'Choose a customer first'}
          disabled={!customer}
        />
      </form>
      <ErrorAlert
        error={environments.status === 'error' ? environments.error : undefined}
        title="Environments could not be loaded"
      />
      {where ? (
        <EnvironmentRules key={`${where.customer}/${where.environment}`} where={where} />
      ) : (
        <EmptyState title="Choose a customer and an environment">
          <p>Its customer rules are listed here, with what an apply would change on each layer.</p>
        </EmptyState>
      )}
    </Page>
  );
}

type Editing = { mode: 'add' } | { mode: 'edit'; rule: Rule } | undefined;

function EnvironmentRules({ where }: { where: Where }) {
  const { can } = useSession();
  const writer = can('network:write');
  const rules = useApi((signal) => networkApi.rules(where, signal), [where]);
  const choices = useApi((signal) => networkApi.scopeChoices(where, signal), [where]);
  const [editing, setEditing] = useState<Editing>();
  const [deleting, setDeleting] = useState<Rule>();
  const [notice, setNotice] = useState<string>();
  const [changedAt, setChangedAt] = useState(0);
  const headingId = useId();
  const addButton = useRef<HTMLButtonElement>(null);

  const changed = (message: string) => {
    setNotice(message);
    setEditing(undefined);
    setDeleting(undefined);
    setChangedAt(Date.now());
    rules.reload();
    addButton.current?.focus();
  };

  const list = rules.data?.rules ?? [];
  return (
    <>
      <section aria-labelledby={headingId}>
        <div className="page-head">
          <h2 id={headingId}>
            Rules of {where.customer}/{where.environment}
          </h2>
          {writer ? (
            <div className="page-actions">
              <button
                ref={addButton}
                type="button"
                onClick={() => {
                  setNotice(undefined);
                  setDeleting(undefined);
                  setEditing({ mode: 'add' });
                }}
              >
                Add a rule
              </button>
            </div>
          ) : null}
        </div>
        {notice ? <Notice>{notice}</Notice> : null}
        <ErrorAlert
          error={rules.status === 'error' ? rules.error : undefined}
          title="The rules could not be loaded"
        />
        {editing && choices.data ? (
          <RuleForm
            key={editing.mode === 'edit' ? `${editing.rule.id}@${editing.rule.version}` : 'new'}
            where={where}
            choices={choices.data}
            editing={editing.mode === 'edit' ? editing.rule : undefined}
            onSaved={(rule, how) =>
              changed(
                `Rule ${rule.protocol} ${rule.ports ?? ''} from ${rule.source} ${how} (version ${rule.version}). Preview the plan to see what an apply changes.`,
              )
            }
            onCancel={() => {
              setEditing(undefined);
              addButton.current?.focus();
            }}
          />
        ) : null}
        {editing && choices.status === 'error' ? (
          <ErrorAlert error={choices.error} title="The form's choices could not be loaded" />
        ) : null}
        {deleting ? (
          <DeleteRule
            rule={deleting}
            onDeleted={() =>
              changed(`Rule ${deleting.protocol} ${deleting.ports ?? ''} from ${deleting.source} deleted.`)
            }
            onCancel={() => setDeleting(undefined)}
          />
        ) : null}
        {rules.status === 'loading' && !rules.data ? <Loading label="Loading the rules…" /> : null}
        {rules.data && list.length === 0 ? (
          <EmptyState title="No customer rules here yet">
            <p>
              Only the platform’s system rules apply.{' '}
              {writer ? 'Add a rule to open a port for this customer.' : ''}
            </p>
          </EmptyState>
        ) : null}
        {list.length > 0 ? (
          <div className="table-wrap">
            <table className="network-rules">
              <caption className="network-caption">
                {list.length} customer rule{list.length === 1 ? '' : 's'}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Applies to</th>
                  <th scope="col">Protocol</th>
                  <th scope="col">Ports</th>
                  <th scope="col">Source</th>
                  <th scope="col">Description</th>
                  <th scope="col">Ticket</th>
                  <th scope="col">Owner</th>
                  {writer ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((rule) => (
                  <tr key={rule.id}>
                    <td>
                      {rule.scope.type} <strong>{rule.scope.name}</strong>
                    </td>
                    <td>{rule.protocol}</td>
                    <td>{rule.ports ?? '—'}</td>
                    <td>
                      <code>{rule.source}</code>
                    </td>
                    <td>{rule.description}</td>
                    <td>{rule.ticket ?? '—'}</td>
                    <td>{rule.owner}</td>
                    {writer ? (
                      <td className="network-actions">
                        <button
                          type="button"
                          className="button-link"
                          aria-label={`Edit rule ${rule.protocol} ${rule.ports ?? ''} from ${rule.source}`}
                          onClick={() => {
                            setNotice(undefined);
                            setDeleting(undefined);
                            setEditing({ mode: 'edit', rule });
                          }}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="button-link"
                          aria-label={`Delete rule ${rule.protocol} ${rule.ports ?? ''} from ${rule.source}`}
                          onClick={() => {
                            setNotice(undefined);
                            setEditing(undefined);
                            setDeleting(rule);
                          }}
                        >
                          Delete
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <PlanPanel where={where} changedAt={changedAt} canApply={can('network:apply')} />
    </>
  );
}

/** Deleting asks for the change's ticket; it takes effect at the next apply. */
function DeleteRule({
  rule,
  onDeleted,
  onCancel,
}: {
  rule: Rule;
  onDeleted: () => void;
  onCancel: () => void;
}) {
  const [ticket, setTicket] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await networkApi.remove(rule.id, ticket.trim());
      onDeleted();
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };

  return (
    <section className="panel network-form" aria-labelledby={headingId}>
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        Delete rule {rule.protocol} {rule.ports ?? ''} from {rule.source}?
      </h2>
      <p>It stops being enforced at the next apply. {rule.description}</p>
      <ErrorAlert error={error} title="Not deleted" />
      <form onSubmit={(event) => void submit(event)}>
        <InputField
          label="Ticket"
          hint="The change ticket of this deletion."
          value={ticket}
          onChange={setTicket}
          autoComplete="off"
          maxLength={60}
          required
        />
        <div className="form-actions">
          <button type="submit" className="button-danger" disabled={busy}>
            {busy ? 'Deleting…' : 'Delete rule'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

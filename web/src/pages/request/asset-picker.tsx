import { useEffect, useId, useState } from 'react';
import { accessApi, type Asset } from '../../api/access';
import { ErrorAlert } from '../../components/error-alert';
import { TextField } from '../../components/field';
import { Loading } from '../../components/status';
import { useApi } from '../../components/use-api';

/** Waits until a value has stopped changing for `ms` (search as one types, without a call per key). */
export function useSettled<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function describe(asset: Asset): string {
  const what = asset.kind === 'database' ? (asset.engine ?? 'database') : (asset.os ?? 'server');
  const where = [asset.customer, asset.environment].filter(Boolean).join(' / ') || asset.region;
  return `${what} · ${where}`;
}

/**
 * The asset picker: a name search with customer, environment and kind filters over the inventory,
 * the matches as radio buttons (arrow keys move between them).
 */
export function AssetPicker({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (asset: string) => void;
  error?: string | undefined;
}) {
  const [q, setQ] = useState('');
  const [customer, setCustomer] = useState('');
  const [environment, setEnvironment] = useState('');
  const [kind, setKind] = useState('');
  const search = useSettled({ q, customer, environment, kind });
  const id = useId();

  const customers = useApi((signal) => accessApi.customers(signal), []);
  const environments = useApi(
    (signal) =>
      customer ? accessApi.environments(customer, signal) : Promise.resolve({ items: [], nextCursor: null }),
    [customer],
  );
  const assets = useApi(
    (signal) =>
      accessApi.assets(
        {
          q: search.q.trim() || undefined,
          customer: search.customer || undefined,
          environment: search.environment || undefined,
          kind: search.kind || undefined,
        },
        signal,
      ),
    [search.q, search.customer, search.environment, search.kind],
  );

  return (
    <fieldset className="picker" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Asset</legend>
      <div className="picker-filters">
        <TextField label="Search by name" value={q} onChange={setQ} type="search" autoComplete="off" />
        <div className="field">
          <label htmlFor={`${id}-customer`}>Customer</label>
          <select
            id={`${id}-customer`}
            value={customer}
            onChange={(event) => {
              setCustomer(event.target.value);
              setEnvironment('');
            }}
          >
            <option value="">Any customer</option>
            {(customers.data?.items ?? []).map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-environment`}>Environment</label>
          <select
            id={`${id}-environment`}
            value={environment}
            disabled={!customer}
            onChange={(event) => setEnvironment(event.target.value)}
          >
            <option value="">{customer ? 'Any environment' : 'Choose a customer first'}</option>
            {(environments.data?.items ?? []).map((e) => (
              <option key={e.id} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={kind} onChange={(event) => setKind(event.target.value)}>
            <option value="">Databases and servers</option>
            <option value="database">Databases</option>
            <option value="server">Servers</option>
          </select>
        </div>
      </div>
      <ErrorAlert error={customers.status === 'error' ? customers.error : undefined} />
      {assets.status === 'error' ? <ErrorAlert error={assets.error} title="The search failed" /> : null}
      {assets.status === 'loading' && !assets.data ? <Loading label="Searching assets…" /> : null}
      {assets.data && assets.data.items.length === 0 ? (
        <p className="picker-empty">No asset matches; change the search or the filters.</p>
      ) : null}
      {assets.data && assets.data.items.length > 0 ? (
        <div className="picker-results" role="radiogroup" aria-label="Matching assets">
          {assets.data.items.map((asset) => (
            <label key={asset.id} className={asset.name === value ? 'choice choice-selected' : 'choice'}>
              <input
                type="radio"
                name={`${id}-asset`}
                value={asset.name}
                checked={asset.name === value}
                onChange={() => onChange(asset.name)}
              />
              <span className="choice-name">{asset.name}</span>
              <span className="choice-meta">{describe(asset)}</span>
            </label>
          ))}
          {assets.data.nextCursor ? (
            <p className="picker-more">More assets match: narrow the search to see them.</p>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

import { useEffect, useId, useState } from 'react';
import type { Customer, Environment } from '../../api/inventory';

export interface InventoryFilters {
  q: string;
  customer: string;
  environment: string;
  kind: string;
}
export const noFilters: InventoryFilters = { q: '', customer: '', environment: '', kind: '' };

/** Which filters a view offers: every view searches by name; assets also by customer, environment, kind. */
export type FilterSet = 'assets' | 'environments' | 'name-only';

/**
 * The filter bar: a name search (applied once typing pauses) and, where the view has them, customer,
 * environment and kind. The customer list comes from the inventory; environments from the customer.
 */
export function FilterBar({
  filters,
  set,
  onChange,
  customers,
  environments,
}: {
  filters: InventoryFilters;
  set: FilterSet;
  onChange: (patch: Partial<InventoryFilters>) => void;
  customers: readonly Customer[];
  environments: readonly Environment[];
}) {
  const id = useId();
  const [q, setQ] = useState(filters.q);
  useEffect(() => {
    if (q === filters.q) return;
    const timer = setTimeout(() => onChange({ q }), 300);
    return () => clearTimeout(timer);
  }, [q, filters.q, onChange]);

  return (
    <form
      className="inventory-filters"
      role="search"
      aria-label="Filter the inventory"
      onSubmit={(event) => {
        event.preventDefault();
        onChange({ q });
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-q`}>Search by name</label>
        <input
          id={`${id}-q`}
          type="search"
          autoComplete="off"
          value={q}
          onChange={(event) => setQ(event.target.value)}
        />
      </div>
      {set !== 'name-only' ? (
        <div className="field">
          <label htmlFor={`${id}-customer`}>Customer</label>
          <select
            id={`${id}-customer`}
            value={filters.customer}
            onChange={(event) => onChange({ customer: event.target.value, environment: '' })}
          >
            <option value="">{set === 'environments' ? 'Choose a customer' : 'Any customer'}</option>
            {customers.map((c) => (
              <option key={c.id} value={c.name}>
                {c.displayName === c.name ? c.name : `${c.displayName} (${c.name})`}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {set === 'assets' ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-environment`}>Environment</label>
            <select
              id={`${id}-environment`}
              value={filters.environment}
              disabled={!filters.customer}
              onChange={(event) => onChange({ environment: event.target.value })}
            >
              <option value="">{filters.customer ? 'Any environment' : 'Choose a customer first'}</option>
              {environments.map((e) => (
                <option key={e.id} value={e.name}>
                  {e.name} ({e.tier})
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-kind`}>Kind</label>
            <select
              id={`${id}-kind`}
              value={filters.kind}
              onChange={(event) => onChange({ kind: event.target.value })}
            >
              <option value="">Servers and databases</option>
              <option value="server">Servers</option>
              <option value="database">Databases</option>
            </select>
          </div>
        </>
      ) : null}
      <div className="inventory-filters-actions">
        <button type="submit" className="button-secondary">
          Search
        </button>
      </div>
    </form>
  );
}

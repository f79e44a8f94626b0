import { useCallback, useState } from 'react';
import { NavLink, useParams } from 'react-router-dom';
import { inventoryApi } from '../../api/inventory';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { useApi } from '../../components/use-api';
import { FilterBar, noFilters, type FilterSet, type InventoryFilters } from './inventory-filters';
import { AssetList, CustomerList, EnvironmentList, JumpboxList } from './inventory-lists';
import './inventory.css';

const views = [
  { path: '', label: 'Assets', filters: 'assets' },
  { path: 'customers', label: 'Customers', filters: 'name-only' },
  { path: 'environments', label: 'Environments', filters: 'environments' },
  { path: 'jumpboxes', label: 'Jumpboxes', filters: 'name-only' },
] as const satisfies readonly { path: string; label: string; filters: FilterSet }[];

/**
 * Inventory: assets (the default view), customers, a customer's environments and jumpboxes, each a
 * paginated table with a name search; assets also filter by customer, environment and kind. The
 * filters stay while switching views, so "acme" narrows assets and environments alike.
 */
export function InventoryPage() {
  const rest = useParams()['*'] ?? '';
  const view = views.find((v) => v.path === rest) ?? views[0];
  const [filters, setFilters] = useState<InventoryFilters>(noFilters);
  // a new filter bar (its search text) when the filters are replaced from outside it
  const [generation, setGeneration] = useState(0);
  const change = useCallback(
    (patch: Partial<InventoryFilters>) => setFilters((previous) => ({ ...previous, ...patch })),
    [],
  );
  const replace = useCallback((next: Partial<InventoryFilters>) => {
    setFilters({ ...noFilters, ...next });
    setGeneration((g) => g + 1);
  }, []);
  const clear = useCallback(() => replace({}), [replace]);

  const customers = useApi((signal) => inventoryApi.customers({ limit: 500 }, signal), []);
  const environments = useApi(
    (signal) =>
      filters.customer
        ? inventoryApi.environments(filters.customer, { limit: 500 }, signal)
        : Promise.resolve({ items: [], nextCursor: null }),
    [filters.customer],
  );
  const listProps = { filters, onClearFilters: clear, onBrowse: replace };

  return (
    <Page title="Inventory">
      <nav aria-label="Inventory views" className="subnav">
        <ul>
          {views.map((v) => (
            <li key={v.path}>
              <NavLink to={v.path ? `/inventory/${v.path}` : '/inventory'} end>
                {v.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <h2 className="view-title">{view.label}</h2>
      <FilterBar
        key={generation}
        filters={filters}
        set={view.filters}
        onChange={change}
        customers={customers.data?.items ?? []}
        environments={environments.data?.items ?? []}
      />
      <ErrorAlert
        error={customers.status === 'error' ? customers.error : undefined}
        title="The customer filter could not be loaded"
      />
      {view.path === '' ? <AssetList {...listProps} /> : null}
      {view.path === 'customers' ? <CustomerList {...listProps} /> : null}
      {view.path === 'environments' ? <EnvironmentList {...listProps} /> : null}
      {view.path === 'jumpboxes' ? <JumpboxList {...listProps} /> : null}
    </Page>
  );
}

import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { inventoryApi, type Asset, type CursorPage } from '../../api/inventory';
import { ErrorAlert } from '../../components/error-alert';
import { Pager, useCursorPages } from '../../components/pager';
import { EmptyState, Loading } from '../../components/status';
import { useApi } from '../../components/use-api';
import type { InventoryFilters } from './inventory-filters';

interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/**
 * One page of a list as a table, its pager, and the states around it: loading, the API's error, and
 * an empty list that says whether the filters or the inventory are empty.
 */
function ListTable<T extends { id: string }>({
  what,
  caption,
  columns,
  load,
  filterKey,
  filtered,
  onClearFilters,
  emptyHint,
}: {
  what: string;
  caption: string;
  columns: Column<T>[];
  load: (cursor: string | undefined, signal: AbortSignal) => Promise<CursorPage<T>>;
  filterKey: string;
  filtered: boolean;
  onClearFilters: () => void;
  emptyHint: ReactNode;
}) {
  const pages = useCursorPages<string>(filterKey);
  const list = useApi((signal) => load(pages.cursor, signal), [filterKey, pages.cursor]);
  if (list.status === 'error') {
    return <ErrorAlert error={list.error} title={`The ${what} could not be loaded`} />;
  }
  if (!list.data) return <Loading label={`Loading ${what}…`} />;
  if (list.data.items.length === 0) {
    return filtered ? (
      <EmptyState title={`No ${what} match these filters`}>
        <p>
          <button type="button" className="button-secondary" onClick={onClearFilters}>
            Clear the filters
          </button>
        </p>
      </EmptyState>
    ) : (
      <EmptyState title={`No ${what} yet`}>{emptyHint}</EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap">
        <table className="listing" aria-busy={list.status === 'loading'}>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.header} scope="col">
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((row) => (
              <tr key={row.id}>
                {columns.map((c, i) =>
                  i === 0 ? (
                    <th key={c.header} scope="row">
                      {c.cell(row)}
                    </th>
                  ) : (
                    <td key={c.header}>{c.cell(row)}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        label={`Pages of ${what}`}
        pages={pages}
        nextCursor={list.data.nextCursor}
        shown={list.data.items.length}
      />
    </>
  );
}

const addHint = (
  <p>
    Add them through the API (<code>/api/v1</code>) or <code>gatehouse inventory import</code>.
  </p>
);

function what(asset: Asset): string {
  return asset.kind === 'database' ? `Database (${asset.engine})` : `Server (${asset.os})`;
}

function endpointOf(asset: Asset): string {
  return asset.kind === 'database'
    ? `${asset.host}:${asset.port}`
    : `${asset.address} (ssh ${asset.sshPort})`;
}

function Labels({ asset }: { asset: Asset }) {
  const labels = Object.entries(asset.labels).map(([k, v]) => (v ? `${k}=${v}` : k));
  const all = [...asset.groups.map((g) => `group ${g}`), ...labels];
  if (all.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="tags">
      {all.map((tag) => (
        <li key={tag}>{tag}</li>
      ))}
    </ul>
  );
}

interface ListProps {
  filters: InventoryFilters;
  onClearFilters: () => void;
  /** Sets the filters a row's link goes with (the view itself changes by the link). */
  onBrowse: (filters: Partial<InventoryFilters>) => void;
}

export function AssetList({ filters, onClearFilters }: ListProps) {
  const query = {
    q: filters.q.trim() || undefined,
    customer: filters.customer || undefined,
    environment: filters.environment || undefined,
    kind: filters.kind || undefined,
  };
  return (
    <ListTable<Asset>
      what="assets"
      caption="Assets"
      filterKey={JSON.stringify(query)}
      filtered={Object.values(query).some(Boolean)}
      onClearFilters={onClearFilters}
      load={(cursor, signal) => inventoryApi.assets({ ...query, cursor }, signal)}
      emptyHint={addHint}
      columns={[
        { header: 'Name', cell: (a) => a.name },
        { header: 'Kind', cell: what },
        {
          header: 'Customer / environment',
          cell: (a) =>
            a.customer ? `${a.customer} / ${a.environment ?? '—'}` : <span className="muted">platform</span>,
        },
        { header: 'Region', cell: (a) => a.region },
        { header: 'Endpoint', cell: (a) => <code>{endpointOf(a)}</code> },
        { header: 'Groups and labels', cell: (a) => <Labels asset={a} /> },
      ]}
    />
  );
}

export function CustomerList({ filters, onClearFilters, onBrowse }: ListProps) {
  const q = filters.q.trim() || undefined;
  return (
    <ListTable
      what="customers"
      caption="Customers"
      filterKey={q ?? ''}
      filtered={Boolean(q)}
      onClearFilters={onClearFilters}
      load={(cursor, signal) => inventoryApi.customers({ q, cursor }, signal)}
      emptyHint={addHint}
      columns={[
        { header: 'Name', cell: (c) => c.name },
        { header: 'Display name', cell: (c) => c.displayName },
        {
          header: 'Browse',
          cell: (c) => (
            <span className="row-links">
              <Link to="/inventory/environments" onClick={() => onBrowse({ customer: c.name })}>
                Environments<span className="visually-hidden"> of {c.name}</span>
              </Link>
              <Link to="/inventory" onClick={() => onBrowse({ customer: c.name })}>
                Assets<span className="visually-hidden"> of {c.name}</span>
              </Link>
            </span>
          ),
        },
      ]}
    />
  );
}

export function EnvironmentList({ filters, onClearFilters, onBrowse }: ListProps) {
  const q = filters.q.trim() || undefined;
  if (!filters.customer) {
    return (
      <EmptyState title="Choose a customer">
        <p>Environments belong to a customer: choose one above to list its environments.</p>
      </EmptyState>
    );
  }
  const customer = filters.customer;
  return (
    <ListTable
      what="environments"
      caption={`Environments of ${customer}`}
      filterKey={`${customer}\n${q ?? ''}`}
      filtered={Boolean(q)}
      onClearFilters={onClearFilters}
      load={(cursor, signal) => inventoryApi.environments(customer, { q, cursor }, signal)}
      emptyHint={<p>This customer has no environment yet.</p>}
      columns={[
        { header: 'Name', cell: (e) => e.name },
        { header: 'Tier', cell: (e) => e.tier },
        { header: 'Customer', cell: (e) => e.customer },
        { header: 'Region', cell: (e) => e.region },
        {
          header: 'Browse',
          cell: (e) => (
            <Link to="/inventory" onClick={() => onBrowse({ customer: e.customer, environment: e.name })}>
              Assets<span className="visually-hidden"> in {e.name}</span>
            </Link>
          ),
        },
      ]}
    />
  );
}

export function JumpboxList({ filters, onClearFilters }: ListProps) {
  const q = filters.q.trim() || undefined;
  return (
    <ListTable
      what="jumpboxes"
      caption="Jumpboxes"
      filterKey={q ?? ''}
      filtered={Boolean(q)}
      onClearFilters={onClearFilters}
      load={(cursor, signal) => inventoryApi.jumpboxes({ q, cursor }, signal)}
      emptyHint={addHint}
      columns={[
        { header: 'Name', cell: (j) => j.name },
        { header: 'Region', cell: (j) => j.region },
        { header: 'Address', cell: (j) => <code>{j.address}</code> },
        {
          header: 'Connections come from',
          cell: (j) => (
            <ul className="tags">
              {j.sourceCidrs.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
          ),
        },
        { header: 'Description', cell: (j) => j.description || <span className="muted">—</span> },
      ]}
    />
  );
}

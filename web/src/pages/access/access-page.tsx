import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { accessApi, when } from '../../api/access';
import { asApiError, type ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { EmptyState, Loading } from '../../components/status';
import { useApi } from '../../components/use-api';
import { GrantCard } from './grant-card';
import './access.css';

/** The current time, ticking once a second (for countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

const settling = new Set(['pending', 'provisioning', 'revoking']);
const closedStatuses = new Set(['denied', 'cancelled', 'expired']);

/** My access: my grants with their countdowns and actions, and my requests still waiting for review. */
export function AccessPage() {
  const now = useNow();
  const grants = useApi((signal) => accessApi.grants({ mine: true, limit: 50 }, signal), []);
  const requests = useApi((signal) => accessApi.requests({ mine: true, limit: 30 }, signal), []);
  const [cancelError, setCancelError] = useState<ApiError>();
  const { reload: reloadGrants } = grants;
  const { reload: reloadRequests } = requests;

  // while an account is being created or removed, look again every few seconds
  const busy = (grants.data?.items ?? []).some((g) => settling.has(g.status));
  const pending = (requests.data?.items ?? []).filter((r) => r.status === 'pending-approval');
  const closed = (requests.data?.items ?? []).filter((r) => closedStatuses.has(r.status)).slice(0, 5);
  const waiting = pending.length > 0;
  useEffect(() => {
    if (!busy && !waiting) return;
    const timer = setInterval(() => {
      reloadGrants();
      reloadRequests();
    }, 3000);
    return () => clearInterval(timer);
  }, [busy, waiting, reloadGrants, reloadRequests]);

  const current = (grants.data?.items ?? []).filter((g) => !['revoked', 'failed'].includes(g.status));
  const past = (grants.data?.items ?? [])
    .filter((g) => ['revoked', 'failed'].includes(g.status))
    .slice(0, 10);

  const cancel = async (id: string) => {
    setCancelError(undefined);
    try {
      await accessApi.cancel(id);
      reloadRequests();
    } catch (e) {
      setCancelError(asApiError(e));
    }
  };

  return (
    <Page
      title="My access"
      actions={
        <Link className="button" to="/request">
          Request access
        </Link>
      }
    >
      <h2>Waiting for review</h2>
      {requests.status === 'error' ? (
        <ErrorAlert error={requests.error} title="Your requests could not be loaded" />
      ) : null}
      <ErrorAlert error={cancelError} title="The request was not withdrawn" />
      {requests.data && pending.length === 0 ? (
        <p className="muted">No request is waiting for review.</p>
      ) : null}
      {pending.length > 0 ? (
        <ul className="cards">
          {pending.map((r) => (
            <li key={r.id} className="card">
              <h3>
                {r.asset} <span className="badge">{r.level}</span>
              </h3>
              <p>
                {r.duration}, asked {when(r.createdAt)}.{' '}
                <span className="tally">
                  {r.tally.approvers} of {r.tally.quorum} approvals
                  {r.tally.missingGroups.length > 0
                    ? `; still needed from ${r.tally.missingGroups.join(', ')}`
                    : ''}
                </span>
              </p>
              <button type="button" className="button-secondary" onClick={() => void cancel(r.id)}>
                Withdraw request
              </button>
            </li>
          ))}
        </ul>
      ) : null}

      {closed.length > 0 ? (
        <>
          <h2>Recently closed requests</h2>
          <ul className="closed-requests">
            {closed.map((r) => {
              const denial = r.reviews.find((review) => review.verdict === 'deny');
              return (
                <li key={r.id}>
                  <strong>{r.asset}</strong> ({r.level}, {r.duration}):{' '}
                  <span className="request-state">{r.status}</span>
                  {denial ? ` by ${denial.reviewer}${denial.comment ? `: “${denial.comment}”` : ''}` : ''}
                </li>
              );
            })}
          </ul>
        </>
      ) : null}

      <h2>Grants</h2>
      {grants.status === 'error' ? (
        <ErrorAlert error={grants.error} title="Your grants could not be loaded" />
      ) : null}
      {!grants.data && grants.status === 'loading' ? <Loading label="Loading your grants…" /> : null}
      {grants.data && current.length === 0 ? (
        <EmptyState title="You have no access right now">
          <p>
            <Link to="/request">Request access</Link> to an asset for a ticket.
          </p>
        </EmptyState>
      ) : null}
      {current.length > 0 ? (
        <ul className="cards cards-wide">
          {current.map((g) => (
            <GrantCard key={g.id} grant={g} now={now} onChange={reloadGrants} />
          ))}
        </ul>
      ) : null}
      {past.length > 0 ? (
        <>
          <h2>Ended</h2>
          <ul className="cards cards-wide">
            {past.map((g) => (
              <GrantCard key={g.id} grant={g} now={now} onChange={reloadGrants} />
            ))}
          </ul>
        </>
      ) : null}
    </Page>
  );
}

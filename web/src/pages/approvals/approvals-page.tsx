import { useState } from 'react';
import { accessApi, when, type Extension } from '../../api/access';
import { asApiError, type ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { Page } from '../../components/page';
import { EmptyState, Loading, Notice } from '../../components/status';
import { useApi } from '../../components/use-api';
import { useSession } from '../../session/session';
import { QuorumProgress, ReviewCard } from './review-card';
import '../access/access.css';

function ExtensionCard({ extension, onDone }: { extension: Extension; onDone: (message: string) => void }) {
  const [error, setError] = useState<ApiError>();
  const [comment, setComment] = useState('');
  const review = async (verdict: 'approve' | 'deny') => {
    setError(undefined);
    try {
      await accessApi.reviewExtension(extension.id, verdict, comment);
      onDone(
        `${verdict === 'approve' ? 'Approved' : 'Denied'} ${extension.requester}'s extension on ${extension.asset}.`,
      );
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <li className="card review">
      <h3>
        {extension.requester} asks {extension.extendBy} more on {extension.asset}
      </h3>
      <dl className="facts">
        <dt>Reason</dt>
        <dd className="reason">{extension.reason}</dd>
        <dt>New end</dt>
        <dd>
          {when(extension.notAfter)} (now {when(extension.fromNotAfter)})
        </dd>
      </dl>
      <QuorumProgress request={extension} />
      <div className="field">
        <label htmlFor={`ext-${extension.id}-comment`}>Comment</label>
        <textarea
          id={`ext-${extension.id}-comment`}
          rows={2}
          value={comment}
          onChange={(event) => setComment(event.target.value)}
        />
      </div>
      <ErrorAlert error={error} title="The review was not recorded" />
      <div className="form-actions">
        <button type="button" onClick={() => void review('approve')}>
          Approve extension
        </button>
        <button type="button" className="button-danger" onClick={() => void review('deny')}>
          Deny extension
        </button>
      </div>
    </li>
  );
}

/** Approvals: requests (and extensions) waiting for review, other people's only, with their context. */
export function ApprovalsPage() {
  const { me } = useSession();
  const [notice, setNotice] = useState('');
  const requests = useApi(
    (signal) => accessApi.requests({ status: 'pending-approval', limit: 50 }, signal),
    [],
  );
  const extensions = useApi((signal) => accessApi.extensions({ status: 'pending-approval' }, signal), []);
  const self = me?.operator.id;
  const theirs = (requests.data?.items ?? []).filter((r) => r.requesterId !== self);
  const theirExtensions = (extensions.data?.items ?? []).filter((x) => x.requesterId !== self);
  const done = (message: string) => {
    setNotice(message);
    requests.reload();
    extensions.reload();
  };

  return (
    <Page title="Approvals">
      {notice ? <Notice>{notice}</Notice> : null}
      {requests.status === 'error' ? (
        <ErrorAlert error={requests.error} title="Pending requests could not be loaded" />
      ) : null}
      {!requests.data && requests.status === 'loading' ? <Loading label="Loading pending requests…" /> : null}
      {requests.data && extensions.data && theirs.length === 0 && theirExtensions.length === 0 ? (
        <EmptyState title="Nothing to review">
          <p>
            No one else&apos;s request or extension is waiting for review. Your own are reviewed by others.
          </p>
        </EmptyState>
      ) : null}
      {theirs.length > 0 ? (
        <ul className="cards cards-wide">
          {theirs.map((r) => (
            <ReviewCard key={r.id} request={r} onDone={done} />
          ))}
        </ul>
      ) : null}
      {extensions.status === 'error' ? (
        <ErrorAlert error={extensions.error} title="Pending extensions could not be loaded" />
      ) : null}
      {theirExtensions.length > 0 ? (
        <>
          <h2>Extensions</h2>
          <ul className="cards cards-wide">
            {theirExtensions.map((x) => (
              <ExtensionCard key={x.id} extension={x} onDone={done} />
            ))}
          </ul>
        </>
      ) : null}
    </Page>
  );
}

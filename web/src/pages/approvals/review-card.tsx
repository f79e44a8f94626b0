import { useId, useState } from 'react';
import { accessApi, when, type AccessRequest } from '../../api/access';
import { asApiError, type ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { useApi } from '../../components/use-api';
import { useSession } from '../../session/session';

/** Approvals so far against the quorum, and the groups still missing, as words and a meter. */
export function QuorumProgress({
  request,
}: {
  request: Pick<AccessRequest, 'tally' | 'approvals' | 'reviews'>;
}) {
  const { tally, approvals } = request;
  const approvers = request.reviews.filter((r) => r.verdict === 'approve');
  return (
    <div className="quorum">
      <p>
        <strong>
          {tally.approvers} of {tally.quorum}
        </strong>{' '}
        approval{tally.quorum === 1 ? '' : 's'}
        {approvals.requiredGroups.length > 0
          ? ` (one each from ${approvals.requiredGroups.join(' and ')})`
          : ''}
        {tally.missingGroups.length > 0 ? `; still needed from ${tally.missingGroups.join(', ')}` : ''}
      </p>
      <meter min={0} max={tally.quorum} value={tally.approvers} aria-label="Approvals so far" />
      {approvers.length > 0 ? (
        <ul className="reviews">
          {approvers.map((r) => (
            <li key={`${r.reviewer}-${r.at}`}>
              {r.reviewer} approved{r.countedFor.length > 0 ? ` for ${r.countedFor.join(', ')}` : ''}
              {r.comment ? `: “${r.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The requester's last grants, for a reviewer to judge the request by. */
function RecentGrants({ holderId, holder }: { holderId: string; holder: string }) {
  const grants = useApi((signal) => accessApi.grants({ holder: holderId, limit: 5 }, signal), [holderId]);
  if (grants.status === 'error')
    return <ErrorAlert error={grants.error} title={`${holder}'s grants could not be loaded`} />;
  if (!grants.data) return <p className="muted">Loading {holder}&apos;s recent grants…</p>;
  if (grants.data.items.length === 0) return <p className="muted">{holder} has had no grant yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Recent grants of {holder}</caption>
        <thead>
          <tr>
            <th scope="col">Asset</th>
            <th scope="col">Level</th>
            <th scope="col">State</th>
            <th scope="col">Ticket</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {grants.data.items.map((g) => (
            <tr key={g.id}>
              <td>{g.asset}</td>
              <td>{g.level}</td>
              <td>{g.status}</td>
              <td>{g.ticket ?? '—'}</td>
              <td>{when(g.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One pending request with its context, and approve or deny with a comment. */
export function ReviewCard({
  request,
  onDone,
}: {
  request: AccessRequest;
  onDone: (message: string) => void;
}) {
  const id = useId();
  const { me } = useSession();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<ApiError>();
  const [sending, setSending] = useState(false);
  const [commentError, setCommentError] = useState('');
  const reviewers = [...new Set([...request.approvals.approverGroups, ...request.approvals.requiredGroups])];
  const mine = me?.operator.groups ?? [];
  const eligible = reviewers.some((group) => mine.includes(group));
  const reviewed = request.reviews.find((r) => r.reviewerId === me?.operator.id);

  const review = async (verdict: 'approve' | 'deny') => {
    if (verdict === 'deny' && !comment.trim()) {
      setCommentError('Say why you deny it: the requester sees this comment.');
      return;
    }
    setCommentError('');
    setSending(true);
    setError(undefined);
    try {
      const after = await accessApi.review(request.id, verdict, comment);
      onDone(
        verdict === 'deny'
          ? `Denied ${request.requester}'s request for ${request.asset}.`
          : after.tally.satisfied
            ? `Approved ${request.requester}'s request for ${request.asset}; access is being granted.`
            : `Approved ${request.requester}'s request for ${request.asset}; ${after.tally.approvers} of ${after.tally.quorum} approvals so far.`,
      );
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <li className="card review" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        {request.requester} asks for <span className="badge">{request.level}</span> on {request.asset}
      </h3>
      <dl className="facts">
        <dt>Duration</dt>
        <dd>{request.duration}</dd>
        <dt>Ticket</dt>
        <dd>{request.ticket ?? 'none'}</dd>
        <dt>Reason</dt>
        <dd className="reason">{request.reason}</dd>
        <dt>Asked</dt>
        <dd>
          {when(request.createdAt)}; review by {when(request.reviewDeadline)}
        </dd>
        {request.fileTransfer ? (
          <>
            <dt>File transfer</dt>
            <dd>yes</dd>
          </>
        ) : null}
        <dt>Policy</dt>
        <dd>{request.policy}</dd>
      </dl>
      <QuorumProgress request={request} />
      <h4>Recent grants of {request.requester}</h4>
      <RecentGrants holderId={request.requesterId} holder={request.requester} />
      {reviewed ? (
        <p className="muted">
          You {reviewed.verdict === 'approve' ? 'approved' : 'denied'} this request; a reviewer counts once.
        </p>
      ) : !eligible ? (
        <p className="muted">
          Only members of {reviewers.join(' or ')} may review this request, and you are in none of them.
        </p>
      ) : (
        <>
          <div className={commentError ? 'field field-invalid' : 'field'}>
            <label htmlFor={`${id}-comment`}>Comment</label>
            <textarea
              id={`${id}-comment`}
              rows={2}
              value={comment}
              onChange={(event) => setComment(event.target.value)}
              aria-invalid={commentError ? true : undefined}
              aria-describedby={commentError ? `${id}-comment-error` : undefined}
            />
            {commentError ? (
              <p className="field-error" id={`${id}-comment-error`}>
                {commentError}
              </p>
            ) : null}
          </div>
          <ErrorAlert error={error} title="The review was not recorded" />
          <div className="form-actions">
            <button type="button" disabled={sending} onClick={() => void review('approve')}>
              Approve
            </button>
            <button
              type="button"
              className="button-danger"
              disabled={sending}
              onClick={() => void review('deny')}
            >
              Deny
            </button>
          </div>
        </>
      )}
    </li>
  );
}

import type { ApiError } from '../../api/client';
import type { Preview } from '../../api/access';

const list = (items: readonly string[]) =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

function approvalsText(preview: Preview): string {
  const a = preview.approvals;
  if (!a) return '';
  const who = [
    ...a.requiredGroups.map((g) => `one from ${g}`),
    ...(a.approverGroups.length > 0 ? [`members of ${list(a.approverGroups)}`] : []),
  ];
  return `${a.quorum} approval${a.quorum === 1 ? '' : 's'} needed (${list(who)}), reviewed within ${a.reviewWindow}`;
}

function verdict(preview: Preview): string {
  switch (preview.outcome) {
    case 'auto-approved':
      return 'Allowed: approved automatically';
    case 'needs-approval':
      return 'Allowed after review';
    case 'break-glass':
      return 'Allowed as break-glass: self-approved, alerts, reviewed afterwards';
    case 'refused':
      return 'Not allowed as it stands';
  }
}

/**
 * What the policies say about the form as filled in, before it is sent. The whole panel is a polite
 * live region: it changes only when the answer does, not on each key press.
 */
export function PolicyPreview({
  preview,
  error,
  waiting,
}: {
  preview: Preview | undefined;
  error: ApiError | undefined;
  waiting: boolean;
}) {
  let body;
  if (error) {
    body = <p className="preview-verdict preview-refused">{error.message}</p>;
  } else if (!preview) {
    body = <p className="muted">{waiting ? 'Checking…' : 'Choose an asset to see what the policy says.'}</p>;
  } else {
    body = (
      <>
        <p className={`preview-verdict ${preview.allowed ? 'preview-allowed' : 'preview-refused'}`}>
          {verdict(preview)}
        </p>
        {preview.reasons.length > 0 ? (
          <ul className="preview-reasons">
            {preview.reasons.map((r) => (
              <li key={r.code}>{r.message}</li>
            ))}
          </ul>
        ) : null}
        <dl className="facts">
          {preview.policy ? (
            <>
              <dt>Policy</dt>
              <dd>{preview.policy}</dd>
            </>
          ) : null}
          {preview.maxDuration ? (
            <>
              <dt>Maximum duration</dt>
              <dd>{preview.maxDuration}</dd>
            </>
          ) : null}
          {preview.approvals ? (
            <>
              <dt>Approvals</dt>
              <dd>
                {preview.outcome === 'auto-approved'
                  ? 'none: approved automatically'
                  : approvalsText(preview)}
              </dd>
            </>
          ) : null}
          {preview.autoApprovalRules.length > 0 && preview.outcome !== 'auto-approved' ? (
            <>
              <dt>Auto-approval</dt>
              <dd>
                {preview.autoApprovalRules
                  .map(
                    (r) =>
                      `${r.levels.join(' or ')} for ${r.maxDuration} or less${r.requireTicket ? ' with a ticket assigned to you' : ''}`,
                  )
                  .join('; ')}
              </dd>
            </>
          ) : null}
          {preview.ticket ? (
            <>
              <dt>Ticket</dt>
              <dd>{preview.ticket}</dd>
            </>
          ) : null}
          <dt>Break-glass</dt>
          <dd>
            {preview.breakGlass.available
              ? `available, for ${preview.breakGlass.maxDuration ?? 'the policy maximum'} at most`
              : 'not available for this request'}
          </dd>
        </dl>
      </>
    );
  }
  return (
    <section className="panel preview" aria-labelledby="preview-title">
      <h2 id="preview-title">What the policy says</h2>
      <div aria-live="polite" aria-busy={waiting}>
        {body}
      </div>
    </section>
  );
}

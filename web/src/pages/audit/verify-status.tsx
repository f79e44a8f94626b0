import { auditApi } from '../../api/audit';
import { ErrorAlert } from '../../components/error-alert';
import { useApi } from '../../components/use-api';

/**
 * The chain's verification (/api/v1/audit/verify): every event's hash recomputed and linked to its
 * predecessor, and the signed checkpoints checked. Shown as verified, or broken at a named event.
 */
export function VerifyStatus() {
  const result = useApi((signal) => auditApi.verify(signal), []);
  const again = (
    <button type="button" className="button-secondary" onClick={result.reload}>
      Verify again
    </button>
  );
  return (
    <section className="verify" aria-labelledby="verify-title">
      <h2 id="verify-title">Chain verification</h2>
      {result.status === 'loading' ? (
        <p className="loading" role="status">
          Verifying the chain…
        </p>
      ) : null}
      {result.status === 'error' ? (
        <>
          <ErrorAlert error={result.error} title="The chain could not be verified" />
          {again}
        </>
      ) : null}
      {result.status === 'ok' && result.data.ok ? (
        <div className="verify-result verify-ok" role="status">
          <p className="verify-verdict">
            <span aria-hidden="true">✓ </span>Verified: the chain is intact
          </p>
          <p>
            {result.data.checked === 0
              ? 'The log is empty.'
              : `Events #${result.data.fromSeq} to #${result.data.toSeq}: ${result.data.checked} checked, each linked to the one before.`}{' '}
            Signed checkpoints: {result.data.checkpoints.verified} of {result.data.checkpoints.total}{' '}
            verified.
          </p>
          {again}
        </div>
      ) : null}
      {result.status === 'ok' && !result.data.ok ? (
        <div className="verify-result verify-broken" role="alert">
          <p className="verify-verdict">
            <span aria-hidden="true">✗ </span>Broken: the chain does not verify
          </p>
          <p>
            {result.data.broken
              ? `At event #${result.data.broken.seq}: ${result.data.broken.reason}.`
              : 'No event is named.'}{' '}
            {result.data.checked} events checked. Report this to the security office: the log may have been
            altered.
          </p>
          {again}
        </div>
      ) : null}
    </section>
  );
}

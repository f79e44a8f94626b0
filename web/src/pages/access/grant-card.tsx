import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { accessApi, remaining, when, type Credential, type Extension, type Grant } from '../../api/access';
import { asApiError, type ApiError } from '../../api/client';
import { CopyButton } from '../../components/copy-button';
import { ErrorAlert } from '../../components/error-alert';
import { TextField } from '../../components/field';

const statusWords: Record<string, string> = {
  pending: 'waiting to be created',
  provisioning: 'being created',
  active: 'active',
  revoking: 'being removed',
  revoked: 'ended',
  revocation_failed: 'removal failing (retrying)',
  failed: 'failed',
};

/** The one-time reveal: the password and the connection line, each with its own copy button. */
function RevealedCredential({ credential }: { credential: Credential }) {
  const panel = useRef<HTMLDivElement>(null);
  // shown once: take the reader there (Tab then reaches its copy buttons)
  useEffect(() => panel.current?.focus(), []);
  return (
    <div
      className="credential"
      role="region"
      aria-label={`Credential for ${credential.account}`}
      ref={panel}
      tabIndex={-1}
    >
      <p className="credential-warning">
        Shown this once: copy it now. It is not kept anywhere in readable form.
      </p>
      <dl className="facts">
        <dt>Username</dt>
        <dd>
          <code>{credential.username}</code>
        </dd>
        <dt>Password</dt>
        <dd className="credential-line">
          <code className="secret" data-testid="password">
            {credential.password}
          </code>
          <CopyButton text={credential.password} label="Copy password" />
        </dd>
        <dt>Connect with</dt>
        <dd className="credential-line">
          <code data-testid="connection-line">{credential.connection}</code>
          <CopyButton text={credential.connection} label="Copy connection line" />
        </dd>
      </dl>
      <p className="field-hint">
        The client asks for the password: paste it there, never into the command line.
      </p>
    </div>
  );
}

function ExtendForm({ grant, onDone }: { grant: Grant; onDone: (extension: Extension) => void }) {
  const [duration, setDuration] = useState('30m');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError>();
  const [sending, setSending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSending(true);
    setError(undefined);
    try {
      onDone(await accessApi.extend(grant.id, duration.trim(), reason));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setSending(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)}>
      <TextField label="Extend by" hint="Like 30m or 1h." value={duration} onChange={setDuration} />
      <TextField label="Why the work needs more time" value={reason} onChange={setReason} />
      <ErrorAlert error={error} title="The extension was not requested" />
      <div className="form-actions">
        <button type="submit" disabled={sending}>
          Request extension
        </button>
      </div>
    </form>
  );
}

/** One grant: its state and countdown, the reveal, early revoke (confirmed) and extension. */
export function GrantCard({ grant, now, onChange }: { grant: Grant; now: number; onChange: () => void }) {
  const headingId = useId();
  const [credential, setCredential] = useState<Credential>();
  const [error, setError] = useState<ApiError>();
  const [confirming, setConfirming] = useState(false);
  const [extending, setExtending] = useState(false);
  const [notice, setNotice] = useState('');
  const keepButton = useRef<HTMLButtonElement>(null);
  const noticeText = useRef<HTMLParagraphElement>(null);
  const active = grant.status === 'active';
  // keyboard users land on the safe choice when asked to confirm, and on the outcome afterwards
  useEffect(() => {
    if (confirming) keepButton.current?.focus();
  }, [confirming]);
  useEffect(() => {
    if (notice) noticeText.current?.focus();
  }, [notice]);
  const ended = ['revoked', 'failed'].includes(grant.status);

  const act = async (what: () => Promise<unknown>, after: string) => {
    setError(undefined);
    try {
      await what();
      setNotice(after);
      onChange();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const reveal = () => act(async () => setCredential(await accessApi.reveal(grant.id)), '');
  const revoke = () =>
    act(async () => {
      setConfirming(false);
      setCredential(undefined);
      await accessApi.revoke(grant.id);
    }, 'Access revoked; the account is being removed.');

  return (
    <li className="card grant" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {grant.asset} <span className="badge">{grant.level}</span>
      </h3>
      <dl className="facts">
        <dt>State</dt>
        <dd className={`grant-status status-${grant.status}`}>{statusWords[grant.status] ?? grant.status}</dd>
        {active && grant.notAfter ? (
          <>
            <dt>Time left</dt>
            <dd>
              <span role="timer" className="countdown">
                {remaining(grant.notAfter, now)}
              </span>{' '}
              <span className="muted">(until {when(grant.notAfter)})</span>
            </dd>
          </>
        ) : null}
        {active && !grant.notAfter && grant.claimDeadline ? (
          <>
            <dt>Reveal within</dt>
            <dd>
              <span role="timer">{remaining(grant.claimDeadline, now)}</span>: the clock starts at the reveal
            </dd>
          </>
        ) : null}
        <dt>Account</dt>
        <dd>
          <code>{grant.account}</code>
        </dd>
        {grant.ticket ? (
          <>
            <dt>Ticket</dt>
            <dd>{grant.ticket}</dd>
          </>
        ) : null}
        {grant.revealedAt ? (
          <>
            <dt>Revealed</dt>
            <dd>
              {when(grant.revealedAt)} by {grant.revealedBy ?? 'its holder'}
            </dd>
          </>
        ) : null}
        {grant.connection && !credential ? (
          <>
            <dt>Connect with</dt>
            <dd className="credential-line">
              <code>{grant.connection}</code>
              <CopyButton text={grant.connection} label="Copy connection line" />
            </dd>
          </>
        ) : null}
        {ended ? (
          <>
            <dt>Ended</dt>
            <dd>
              {when(grant.endedAt)}
              {grant.endReason ? ` (${grant.endReason.replace(/-/g, ' ')})` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {credential ? <RevealedCredential credential={credential} /> : null}
      <ErrorAlert error={error} />
      {notice ? (
        <p className="notice" role="status" ref={noticeText} tabIndex={-1}>
          {notice}
        </p>
      ) : null}
      {active ? (
        <div className="form-actions">
          {!grant.revealedAt && !credential ? (
            <button type="button" onClick={() => void reveal()}>
              Reveal credential
            </button>
          ) : null}
          <button type="button" className="button-secondary" onClick={() => setExtending((x) => !x)}>
            {extending ? 'Close extension' : 'Request extension'}
          </button>
          {confirming ? (
            <span className="confirm" role="group" aria-label="Confirm revoke">
              <span>Revoke now? Your sessions are ended.</span>
              <button type="button" className="button-danger" onClick={() => void revoke()}>
                Yes, revoke
              </button>
              <button
                type="button"
                ref={keepButton}
                className="button-secondary"
                onClick={() => setConfirming(false)}
              >
                Keep access
              </button>
            </span>
          ) : (
            <button type="button" className="button-secondary" onClick={() => setConfirming(true)}>
              Revoke
            </button>
          )}
        </div>
      ) : null}
      {active && extending ? (
        <ExtendForm
          grant={grant}
          onDone={(extension) => {
            setExtending(false);
            setNotice(
              extension.status === 'pending-approval'
                ? `Extension to ${when(extension.notAfter)} sent for review.`
                : `Extended to ${when(extension.notAfter)}.`,
            );
            onChange();
          }}
        />
      ) : null}
    </li>
  );
}

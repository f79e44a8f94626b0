import { toDataURL } from 'qrcode';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { asApiError, type ApiError } from '../../api/client';
import { identityApi } from '../../api/identity';
import { CopyButton } from '../../components/copy-button';
import { ErrorAlert } from '../../components/error-alert';
import { TextField } from '../../components/field';

/** The base32 seed in groups of four, easier to type into an app. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

/** Step 2: a TOTP code, after enrolling the seed (QR code and key) on first sign-in; or a recovery code. */
export function SecondFactorStep({
  enrol,
  onSignedIn,
  onStartOver,
}: {
  enrol: { secret: string; otpauthUri: string } | undefined;
  onSignedIn: (recoveryCodes: string[] | undefined) => void;
  onStartOver: (error?: ApiError) => void;
}) {
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [qr, setQr] = useState<string>();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!enrol) return;
    toDataURL(enrol.otpauthUri, { margin: 1, width: 208, errorCorrectionLevel: 'M' }).then(setQr, () =>
      setQr(undefined),
    );
  }, [enrol]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const value = code.replace(/\s+/g, '');
      const done = await identityApi.secondFactor(useRecovery ? { recoveryCode: value } : { code: value });
      onSignedIn(done.recoveryCodes);
    } catch (e) {
      const failure = asApiError(e);
      // the pending sign-in lasts minutes: once it is gone, start again from the password
      if (failure.status === 401 && /username and password first|sign in again/i.test(failure.message)) {
        onStartOver(failure);
        return;
      }
      setError(failure);
      setCode('');
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <>
      <h1>{enrol ? 'Set up two-step verification' : 'Two-step verification'}</h1>
      {enrol ? (
        <div className="enrol">
          <p>
            Gatehouse asks for a code from an authenticator app at every sign-in. Add this account to your app
            (FreeOTP, Google Authenticator, 1Password…) once:
          </p>
          <ol className="steps">
            <li>
              Scan this QR code with the app
              <div className="qr">
                {qr ? (
                  <img src={qr} width={208} height={208} alt="QR code for your authenticator app" />
                ) : (
                  <span role="status">Drawing the QR code…</span>
                )}
              </div>
              or type this key into it: <code className="secret">{grouped(enrol.secret)}</code>{' '}
              <CopyButton text={enrol.secret} label="Copy key" />
            </li>
            <li>Enter the 6-digit code the app shows for Gatehouse.</li>
          </ol>
        </div>
      ) : (
        <p>
          {useRecovery
            ? 'Enter one of the recovery codes you saved when you set up two-step verification. Each works once.'
            : 'Enter the 6-digit code your authenticator app shows for Gatehouse.'}
        </p>
      )}
      <ErrorAlert error={error} title="That code was not accepted" />
      <form onSubmit={(event) => void submit(event)}>
        {useRecovery ? (
          <TextField
            key="recovery"
            label="Recovery code"
            name="recoveryCode"
            value={code}
            onChange={setCode}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            autoFocus
          />
        ) : (
          <TextField
            key="totp"
            label="Code"
            name="code"
            value={code}
            onChange={(value) => setCode(value.replace(/[^\d]/g, '').slice(0, 6))}
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="\d{6}"
            maxLength={6}
            required
            autoFocus
            ref={input}
          />
        )}
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : enrol ? 'Confirm and sign in' : 'Sign in'}
          </button>
          {!enrol ? (
            <button
              type="button"
              className="button-link"
              onClick={() => {
                setUseRecovery(!useRecovery);
                setCode('');
                setError(undefined);
              }}
            >
              {useRecovery ? 'Use a code from your app' : 'Use a recovery code instead'}
            </button>
          ) : null}
          <button type="button" className="button-link" onClick={() => onStartOver()}>
            Start over
          </button>
        </div>
      </form>
    </>
  );
}

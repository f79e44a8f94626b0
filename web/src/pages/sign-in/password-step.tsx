import { useState, type FormEvent } from 'react';
import { asApiError, type ApiError } from '../../api/client';
import { identityApi, type PasswordStep as PasswordAnswer } from '../../api/identity';
import { ErrorAlert } from '../../components/error-alert';
import { TextField } from '../../components/field';

/** Step 1: username and password (or the identity provider). */
export function PasswordStep({
  sso,
  initialError,
  onNext,
}: {
  sso: string | undefined;
  initialError: ApiError | undefined;
  onNext: (answer: PasswordAnswer) => void;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(initialError);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onNext(await identityApi.password(username.trim(), password));
    } catch (e) {
      setError(asApiError(e));
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Sign in</h1>
      <ErrorAlert error={error} title="Sign-in failed" />
      <form onSubmit={(event) => void submit(event)} noValidate={false}>
        <TextField
          label="Username"
          name="username"
          value={username}
          onChange={setUsername}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Continue'}
        </button>
      </form>
      {sso ? (
        <div className="sso">
          <p className="divider">or</p>
          <a className="button button-secondary" href={sso}>
            Sign in with SSO
          </a>
        </div>
      ) : null}
    </>
  );
}

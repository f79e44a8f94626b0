import { useEffect, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { type ApiError } from '../../api/client';
import { identityApi } from '../../api/identity';
import { focusNextPage } from '../../components/page';
import { Notice } from '../../components/status';
import { useSession } from '../../session/session';
import { PasswordStep } from './password-step';
import { RecoveryCodesStep } from './recovery-codes-step';
import { SecondFactorStep } from './second-factor-step';
import { SsoFailure } from './sso-failure';

/** Where to go after signing in: a path of this site only (never another origin). */
export function safeNext(next: string | null): string {
  // one leading slash and no backslash (browsers read a backslash as a slash: //host), not sign-in itself
  return next && /^\/(?![/\\])/.test(next) && !next.includes('\\') && !next.startsWith('/sign-in')
    ? next
    : '/';
}

type Step =
  | { kind: 'password' }
  | { kind: 'totp' }
  | { kind: 'enrol'; secret: string; otpauthUri: string }
  | { kind: 'recovery-codes'; codes: string[] };

/**
 * Sign-in: username and password, then a TOTP code (enrolling the seed with a QR code the first time,
 * then showing the recovery codes once), or a recovery code; or the identity provider when configured.
 */
export function SignInPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [sso, setSso] = useState<string>();
  const [lastError, setLastError] = useState<ApiError>();

  useEffect(() => {
    document.title = 'Sign in · Gatehouse';
    identityApi.methods().then(
      (methods) => setSso(methods.oidc?.start),
      () => setSso(undefined),
    );
  }, []);

  if (session.state.status === 'signed-in' && step.kind !== 'recovery-codes') {
    return <Navigate to={next} replace />;
  }

  const finish = async () => {
    focusNextPage();
    await session.refresh();
    void navigate(next, { replace: true });
  };

  const reason = session.state.status === 'signed-out' ? session.state.reason : undefined;

  return (
    <div className="sign-in">
      <header className="app-header sign-in-header">
        <div className="header-row">
          <span className="brand">Gatehouse</span>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="sign-in-main">
        <div className="panel">
          {step.kind === 'password' && reason === 'expired' ? (
            <Notice>Your session has ended. Sign in again to continue.</Notice>
          ) : null}
          {step.kind === 'password' && reason === 'signed-out' ? <Notice>You are signed out.</Notice> : null}
          {step.kind === 'password' ? (
            <SsoFailure reason={params.get('sso')} requestId={params.get('requestId')} />
          ) : null}
          {step.kind === 'password' ? (
            <PasswordStep
              sso={sso && next !== '/' ? `${sso}?next=${encodeURIComponent(next)}` : sso}
              initialError={lastError}
              onNext={(answer) => {
                setLastError(undefined);
                setStep(
                  answer.next === 'enrol-totp' && answer.enrol
                    ? { kind: 'enrol', ...answer.enrol }
                    : { kind: 'totp' },
                );
              }}
            />
          ) : null}
          {step.kind === 'totp' || step.kind === 'enrol' ? (
            <SecondFactorStep
              enrol={step.kind === 'enrol' ? step : undefined}
              onStartOver={(error) => {
                setLastError(error);
                setStep({ kind: 'password' });
              }}
              onSignedIn={(recoveryCodes) => {
                if (recoveryCodes && recoveryCodes.length > 0)
                  setStep({ kind: 'recovery-codes', codes: recoveryCodes });
                else void finish();
              }}
            />
          ) : null}
          {step.kind === 'recovery-codes' ? (
            <RecoveryCodesStep codes={step.codes} onDone={() => void finish()} />
          ) : null}
        </div>
      </main>
    </div>
  );
}

import { ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';

/**
 * Why a sign-in with the identity provider failed, from the reason code the server's callback puts in
 * the address. The words are the page's own: nothing from the address is shown but the code and the
 * request id (for the audit log).
 */
const reasons: Record<string, string> = {
  'no-mfa':
    'Your identity provider did not report a second factor (MFA) for this sign-in. Sign in there with MFA, then try again.',
  inactive: 'Your Gatehouse account is deactivated. Ask an administrator.',
  restart:
    'The sign-in with your identity provider did not complete: it took too long or was started elsewhere. Try again.',
  'no-username': 'Your identity provider did not send a username Gatehouse can use. Ask an administrator.',
  'bad-username':
    'Your username at the identity provider is not one Gatehouse accepts. Ask an administrator.',
};

export function SsoFailure({ reason, requestId }: { reason: string | null; requestId: string | null }) {
  if (!reason) return null;
  const known = reasons[reason];
  const id = requestId && /^[0-9a-f-]{36}$/.test(requestId) ? requestId : undefined;
  const message =
    known ??
    `Gatehouse could not use your identity provider's answer (${/^[a-z-]{1,40}$/.test(reason) ? reason : 'refused'}). Ask an administrator: the audit log has the details.`;
  return <ErrorAlert title="Sign-in with SSO failed" error={new ApiError(0, reason, message, id)} />;
}

import { useEffect, useRef } from 'react';
import { CopyButton } from '../../components/copy-button';

/** After enrolment: the recovery codes, shown this once. */
export function RecoveryCodesStep({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Save your recovery codes
      </h1>
      <p>
        Two-step verification is set up. If you lose your authenticator app, each of these codes signs you in
        once. They are shown <strong>only now</strong>: keep them in a password manager or on paper.
      </p>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="form-actions">
        <CopyButton text={codes.join('\n')} label="Copy all codes" />
        <button type="button" onClick={onDone}>
          I have saved them, continue
        </button>
      </div>
    </>
  );
}

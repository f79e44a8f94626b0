import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import {
  accessApi,
  levels,
  type AccessRequest,
  type Level,
  type Preview,
  type RequestFields,
} from '../../api/access';
import { asApiError, type ApiError } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { TextField } from '../../components/field';
import { Page } from '../../components/page';
import { AssetPicker, useSettled } from './asset-picker';
import { PolicyPreview } from './policy-preview';
import '../access/access.css';

const DURATION = /^(?:\d{1,4}d)?(?:\d{1,5}h)?(?:\d{1,6}m)?$/;

/** The request as the API will be asked, or undefined while a required field is missing or malformed. */
function fieldsOf(form: Form): RequestFields | undefined {
  if (!form.asset || !form.duration || !DURATION.test(form.duration)) return undefined;
  return {
    asset: form.asset,
    level: form.level,
    duration: form.duration,
    fileTransfer: form.fileTransfer,
    breakGlass: form.breakGlass,
    ...(form.ticket.trim() ? { ticket: form.ticket.trim() } : {}),
    ...(form.reason.trim() ? { reason: form.reason } : {}),
  };
}

interface Form {
  asset: string;
  level: Level;
  duration: string;
  reason: string;
  ticket: string;
  fileTransfer: boolean;
  breakGlass: boolean;
}

function RequestSent({ request, onAnother }: { request: AccessRequest; onAnother: () => void }) {
  const state =
    request.status === 'pending-approval'
      ? `waiting for review: ${request.tally.approvers} of ${request.tally.quorum} approvals`
      : request.status === 'approved' && request.autoApproved
        ? 'approved automatically; the account is being created'
        : request.status;
  return (
    <div className="panel" role="status">
      <h2>Request sent</h2>
      <p>
        Your request for <strong>{request.level}</strong> on <strong>{request.asset}</strong> for{' '}
        {request.duration} is <strong className="request-state">{state}</strong>.
      </p>
      <div className="form-actions">
        <Link className="button" to="/access">
          Go to My access
        </Link>
        <button type="button" className="button-secondary" onClick={onAnother}>
          Request other access
        </button>
      </div>
    </div>
  );
}

const empty: Form = {
  asset: '',
  level: 'read-only',
  duration: '1h',
  reason: '',
  ticket: '',
  fileTransfer: false,
  breakGlass: false,
};

export function RequestPage() {
  const id = useId();
  const [form, setForm] = useState<Form>(empty);
  const [preview, setPreview] = useState<Preview>();
  const [previewError, setPreviewError] = useState<ApiError>();
  const [checking, setChecking] = useState(false);
  const [submitError, setSubmitError] = useState<ApiError>();
  const [missing, setMissing] = useState<Partial<Record<keyof Form, string>>>({});
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<AccessRequest>();
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

  // the preview follows the form once it has settled; a newer answer replaces an older one
  const settled = useSettled(form, 300);
  useEffect(() => {
    const fields = fieldsOf(settled);
    if (!fields) {
      setPreview(undefined);
      setPreviewError(undefined);
      return;
    }
    let current = true;
    setChecking(true);
    accessApi.preview(fields).then(
      (answer) => {
        if (!current) return;
        setPreview(answer);
        setPreviewError(undefined);
        setChecking(false);
      },
      (error: unknown) => {
        if (!current) return;
        setPreview(undefined);
        setPreviewError(asApiError(error));
        setChecking(false);
      },
    );
    return () => {
      current = false;
    };
  }, [settled]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems: Partial<Record<keyof Form, string>> = {};
    if (!form.asset) problems.asset = 'Choose the asset you need access to.';
    if (!DURATION.test(form.duration) || !form.duration)
      problems.duration = 'Give a duration like 30m, 2h or 1h30m.';
    if (!form.reason.trim()) problems.reason = 'Say what you will do and why.';
    setMissing(problems);
    if (Object.keys(problems).length > 0) return;
    setSending(true);
    setSubmitError(undefined);
    try {
      setSent(await accessApi.request({ ...fieldsOf(form)!, reason: form.reason }));
    } catch (error) {
      setSubmitError(asApiError(error));
    } finally {
      setSending(false);
    }
  };

  if (sent) {
    return (
      <Page title="Request access">
        <RequestSent
          request={sent}
          onAnother={() => {
            setSent(undefined);
            setForm(empty);
          }}
        />
      </Page>
    );
  }

  return (
    <Page title="Request access">
      <form className="request-layout" onSubmit={(event) => void submit(event)} noValidate>
        <div className="request-fields">
          <AssetPicker value={form.asset} onChange={(asset) => set('asset', asset)} error={missing.asset} />
          <div className="field">
            <label htmlFor={`${id}-level`}>Permission level</label>
            <select
              id={`${id}-level`}
              value={form.level}
              onChange={(event) => set('level', event.target.value as Level)}
            >
              {levels.map((level) => (
                <option key={level} value={level}>
                  {level}
                </option>
              ))}
            </select>
          </div>
          <TextField
            label="Duration"
            hint="Like 30m, 2h or 1h30m."
            value={form.duration}
            onChange={(value) => set('duration', value.trim())}
            error={missing.duration}
            autoComplete="off"
          />
          <div className={missing.reason ? 'field field-invalid' : 'field'}>
            <label htmlFor={`${id}-reason`}>Reason</label>
            <p className="field-hint" id={`${id}-reason-hint`}>
              What you will do and why; reviewers read it.
            </p>
            <textarea
              id={`${id}-reason`}
              rows={3}
              value={form.reason}
              onChange={(event) => set('reason', event.target.value)}
              aria-invalid={missing.reason ? true : undefined}
              aria-describedby={`${id}-reason-hint${missing.reason ? ` ${id}-reason-error` : ''}`}
            />
            {missing.reason ? (
              <p className="field-error" id={`${id}-reason-error`}>
                {missing.reason}
              </p>
            ) : null}
          </div>
          <TextField
            label="Ticket"
            hint="The ticket this work is for, like OPS-42."
            value={form.ticket}
            onChange={(value) => set('ticket', value)}
            autoComplete="off"
          />
          <div className="checkbox">
            <input
              id={`${id}-files`}
              type="checkbox"
              checked={form.fileTransfer}
              onChange={(event) => set('fileTransfer', event.target.checked)}
            />
            <label htmlFor={`${id}-files`}>File transfer</label>
          </div>
          <div className="checkbox">
            <input
              id={`${id}-glass`}
              type="checkbox"
              checked={form.breakGlass}
              onChange={(event) => set('breakGlass', event.target.checked)}
            />
            <label htmlFor={`${id}-glass`}>
              Break-glass: emergency, self-approved, alerts and is reviewed afterwards
            </label>
          </div>
          <ErrorAlert error={submitError} title="The request was not sent" />
          <div className="form-actions">
            <button type="submit" disabled={sending}>
              {sending ? 'Sending…' : 'Request access'}
            </button>
          </div>
        </div>
        <PolicyPreview preview={preview} error={previewError} waiting={checking} />
      </form>
    </Page>
  );
}

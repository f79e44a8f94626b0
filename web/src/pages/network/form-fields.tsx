import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

/**
 * Labelled inputs and selects that show the security checks' messages next to themselves: the messages
 * and the hint are tied to the control with aria-describedby, and a control with a message is
 * aria-invalid. The markup and classes are the shell's TextField's.
 */
interface Common {
  label: ReactNode;
  hint?: ReactNode;
  /** the checks' messages about this field */
  messages?: readonly string[] | undefined;
}

function useDescribed(hint: ReactNode, messages: readonly string[] | undefined) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const invalid = (messages?.length ?? 0) > 0;
  const describedBy = [hint ? hintId : undefined, invalid ? errorId : undefined].filter(Boolean).join(' ');
  return { id, hintId, errorId, invalid, describedBy: describedBy || undefined };
}

function Messages({ id, messages }: { id: string; messages: readonly string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <div className="field-error" id={id}>
      {messages.map((message) => (
        <p key={message}>{message}</p>
      ))}
    </div>
  );
}

export function InputField({
  label,
  hint,
  messages,
  value,
  onChange,
  ...input
}: Common &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'> & {
    value: string;
    onChange: (value: string) => void;
  }) {
  const d = useDescribed(hint, messages);
  return (
    <div className={d.invalid ? 'field field-invalid' : 'field'}>
      <label htmlFor={d.id}>{label}</label>
      {hint ? (
        <p className="field-hint" id={d.hintId}>
          {hint}
        </p>
      ) : null}
      <input
        id={d.id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={d.invalid ? true : undefined}
        aria-describedby={d.describedBy}
        {...input}
      />
      <Messages id={d.errorId} messages={messages} />
    </div>
  );
}

export function SelectField({
  label,
  hint,
  messages,
  value,
  onChange,
  options,
  placeholder,
  ...select
}: Common &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'value' | 'onChange'> & {
    value: string;
    onChange: (value: string) => void;
    options: readonly (string | { value: string; label: string })[];
    /** a first, empty choice such as "Choose a customer" */
    placeholder?: string;
  }) {
  const d = useDescribed(hint, messages);
  return (
    <div className={d.invalid ? 'field field-invalid' : 'field'}>
      <label htmlFor={d.id}>{label}</label>
      {hint ? (
        <p className="field-hint" id={d.hintId}>
          {hint}
        </p>
      ) : null}
      <select
        id={d.id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={d.invalid ? true : undefined}
        aria-describedby={d.describedBy}
        {...select}
      >
        {placeholder !== undefined ? <option value="">{placeholder}</option> : null}
        {options.map((option) => {
          const o = typeof option === 'string' ? { value: option, label: option } : option;
          return (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          );
        })}
      </select>
      <Messages id={d.errorId} messages={messages} />
    </div>
  );
}

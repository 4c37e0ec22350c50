interface Props {
  id: string;
  label: string;
  placeholder: string;
  value: string;
  error?: string;
  onInput: (value: string) => void;
  autoFocus?: boolean;
}

/** A labelled number input whose error is announced and tied to it (aria-describedby). */
export function NumberField({ id, label, placeholder, value, error, onInput, autoFocus }: Props) {
  const errorId = `${id}-error`;
  return (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        type="tel"
        autoComplete="tel"
        placeholder={placeholder}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? errorId : undefined}
        onInput={(event) => onInput(event.currentTarget.value)}
        autoFocus={autoFocus}
      />
      {error ? (
        <p id={errorId} class="inline-error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

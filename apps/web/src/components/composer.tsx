import { useState } from 'preact/hooks';
import { countSms, MAX_MESSAGE_LENGTH, plural } from '../format.js';

interface Props {
  recipientName: string;
  onSend: (text: string) => void;
  /** The id of the notice that says why nothing can be sent now (an opt-out); unset when it can. */
  blockedBy?: string;
}

/** Writes a message; shows what it will cost as an SMS before it is sent. */
export function Composer({ recipientName, onSend, blockedBy }: Props) {
  const [text, setText] = useState('');
  const count = countSms(text);
  const tooLong = count.characters > MAX_MESSAGE_LENGTH;
  const canSend = text.trim() !== '' && !tooLong && !blockedBy;

  const submit = (event?: Event) => {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text);
    setText('');
  };

  return (
    <form class="composer" onSubmit={submit}>
      <label class="visually-hidden" for="composer-text">
        Message to {recipientName}
      </label>
      <textarea
        id="composer-text"
        rows={2}
        value={text}
        placeholder={`Message ${recipientName}`}
        aria-describedby={`${blockedBy ? `${blockedBy} ` : ''}composer-count composer-hint`}
        aria-invalid={tooLong ? 'true' : undefined}
        disabled={blockedBy !== undefined}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          // Enter sends, Shift+Enter starts a new line; not while an IME composes.
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event);
        }}
      />
      <div class="composer-side">
        <p id="composer-count" class={`sms-count${tooLong ? ' too-long' : ''}`}>
          {text === '' ? (
            'SMS: 160 GSM-7 characters per segment'
          ) : (
            <>
              {plural(count.characters, 'character')} · {plural(count.segments, 'segment')} ·{' '}
              {count.encoding}
              {tooLong ? ` · over ${MAX_MESSAGE_LENGTH}` : ` · ${count.remaining} left`}
            </>
          )}
        </p>
        <p id="composer-hint" class="visually-hidden">
          Enter sends, Shift+Enter starts a new line.
        </p>
        <button type="submit" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}

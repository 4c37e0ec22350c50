import type { CountryCode } from 'libphonenumber-js';
import { useState } from 'preact/hooks';
import { readParty } from '../format.js';
import { NumberField } from './number-field.js';

interface Props {
  home?: CountryCode;
  onOpen: (counterpart: string) => void;
}

/** The thread endpoint's rule: any party a conversation can be with. */
const ANY_PARTY = ['phone', 'shortCode', 'senderId'] as const;

/** Asks for a number (or short code, or sender ID) and opens its thread. */
export function NewConversation({ home, onOpen }: Props) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string>();

  const submit = (event: Event) => {
    event.preventDefault();
    const party = readParty(typed, ANY_PARTY, home);
    if ('problem' in party) {
      setError(`The recipient ${party.problem}`);
      return;
    }
    setTyped('');
    setError(undefined);
    onOpen(party.value);
  };

  return (
    <form id="new-conversation" class="new-conversation" onSubmit={submit}>
      <NumberField
        id="new-number"
        label="To"
        placeholder="Phone number or short code"
        value={typed}
        error={error}
        onInput={setTyped}
        autoFocus
      />
      <button type="submit">Open</button>
    </form>
  );
}

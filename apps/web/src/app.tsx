import { useCallback, useEffect, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { formatPhone } from './format.js';
import { Inbox } from './inbox.js';
import { NumberField } from './components/number-field.js';
import type { Session } from './types.js';

/**
 * The key lives in sessionStorage: it survives a reload but not closing the
 * tab, and is never put in a URL or a cookie.
 */
const KEY_STORAGE = 'sms.apiKey';
const PHONE_STORAGE = 'sms.phone';

interface SignedIn {
  api: Api;
  session: Session;
}

export function App() {
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [phone, setPhone] = useState<string | null>(() => sessionStorage.getItem(PHONE_STORAGE));
  const [notice, setNotice] = useState<string>();
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(KEY_STORAGE) !== null);

  const signIn = useCallback(async (key: string): Promise<void> => {
    const api = new Api(key);
    const session = await api.session();
    sessionStorage.setItem(KEY_STORAGE, key);
    setSignedIn({ api, session });
    setNotice(undefined);
    setPhone((current) => {
      const chosen =
        current && (session.isAdmin || session.phones.includes(current))
          ? current
          : !session.isAdmin && session.phones.length === 1
            ? session.phones[0]
            : null;
      if (chosen) sessionStorage.setItem(PHONE_STORAGE, chosen);
      else sessionStorage.removeItem(PHONE_STORAGE);
      return chosen;
    });
  }, []);

  const signOut = useCallback((message?: string) => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(PHONE_STORAGE);
    setSignedIn(null);
    setPhone(null);
    setNotice(message);
  }, []);

  const onUnauthorized = useCallback(
    () => signOut('The key is no longer accepted (revoked?). Sign in again.'),
    [signOut],
  );

  useEffect(() => {
    const stored = sessionStorage.getItem(KEY_STORAGE);
    if (!stored) return;
    signIn(stored)
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.isUnauthorized) onUnauthorized();
        else setNotice(error instanceof Error ? error.message : String(error));
      })
      .finally(() => setRestoring(false));
  }, [signIn, onUnauthorized]);

  const choose = (chosen: string) => {
    sessionStorage.setItem(PHONE_STORAGE, chosen);
    setPhone(chosen);
  };

  if (!signedIn) {
    return restoring ? (
      <p class="placeholder page" role="status">
        Signing in…
      </p>
    ) : (
      <SignIn notice={notice} onSignIn={signIn} />
    );
  }
  if (!phone) {
    return (
      <ChooseNumber session={signedIn.session} onChoose={choose} onSignOut={() => signOut()} />
    );
  }
  return (
    <Inbox
      key={phone}
      api={signedIn.api}
      phone={phone}
      canSwitch={signedIn.session.isAdmin || signedIn.session.phones.length > 1}
      onSwitchNumber={() => {
        sessionStorage.removeItem(PHONE_STORAGE);
        setPhone(null);
      }}
      onSignOut={() => signOut()}
      onUnauthorized={onUnauthorized}
    />
  );
}

function SignIn({
  notice,
  onSignIn,
}: {
  notice?: string;
  onSignIn: (key: string) => Promise<void>;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSignIn(key.trim());
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'This key is not valid (unknown or revoked).'
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
      setBusy(false);
    }
  };

  return (
    <main class="card page">
      <h1>Your conversations</h1>
      <p>Sign in with an API key to read and send the messages of its numbers.</p>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          spellcheck={false}
          placeholder="sms_…"
          value={key}
          required
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        {error ? (
          <p id="sign-in-error" class="inline-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function ChooseNumber({
  session,
  onChoose,
  onSignOut,
}: {
  session: Session;
  onChoose: (phone: string) => void;
  onSignOut: () => void;
}) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string>();

  const submit = (event: Event) => {
    event.preventDefault();
    // The admin key has no number of its own, so no country to read a national
    // number in: the server reads what was typed (in its DEFAULT_COUNTRY), and
    // the inbox shows its 400 if that is not a number.
    const phone = typed.trim();
    if (phone) onChoose(phone);
    else setError('Enter a number');
  };

  return (
    <main class="card page">
      <h1>Which number?</h1>
      {session.phones.length > 0 ? (
        <ul class="numbers" aria-label="Numbers of this key">
          {session.phones.map((phone) => (
            <li key={phone}>
              <button type="button" onClick={() => onChoose(phone)}>
                {formatPhone(phone)}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {session.isAdmin ? (
        <form onSubmit={submit}>
          <NumberField
            id="any-number"
            label="The admin key may open any number"
            placeholder="+1 202 555 0143"
            value={typed}
            error={error}
            onInput={setTyped}
          />
          <button type="submit">Open</button>
        </form>
      ) : null}
      <button type="button" class="link" onClick={onSignOut}>
        Sign out
      </button>
    </main>
  );
}

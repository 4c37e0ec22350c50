import { useCallback, useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { type Api, ApiError } from './api.js';
import { ConversationList } from './components/conversation-list.js';
import { Composer } from './components/composer.js';
import { ThreadView } from './components/thread-view.js';
import { countSms, countryOf, formatPhone, parsePhoneInput } from './format.js';
import { counterpartOf, inboxReducer, initialInbox, type UiMessage } from './inbox-state.js';
import { LiveConnection, type LiveStatus } from './live.js';
import { newUuid } from './uuid.js';

interface Props {
  api: Api;
  phone: string;
  canSwitch: boolean;
  onSwitchNumber: () => void;
  onSignOut: () => void;
  onUnauthorized: () => void;
}

const LIVE_LABELS: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
};

/** After live changes, the first page of threads is read again for exact counts and new threads. */
const REFRESH_DELAY_MS = 800;

const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : 'Something went wrong';

/** The signed-in view of one number: its threads, the open thread, the composer, live updates. */
export function Inbox({ api, phone, canSwitch, onSwitchNumber, onSignOut, onUnauthorized }: Props) {
  const [state, dispatch] = useReducer(inboxReducer, initialInbox);
  const [live, setLive] = useState<{ status: LiveStatus; detail?: string }>({
    status: 'connecting',
  });
  const [composing, setComposing] = useState(false);
  const [newNumber, setNewNumber] = useState('');
  const [newNumberError, setNewNumberError] = useState<string>();
  const stateRef = useRef(state);
  stateRef.current = state;
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>();
  const home = countryOf(phone);

  const fail = useCallback(
    (error: unknown) => {
      if (error instanceof ApiError && error.isUnauthorized) onUnauthorized();
      return messageOf(error);
    },
    [onUnauthorized],
  );

  const loadList = useCallback(
    async (more: boolean) => {
      dispatch({ type: 'list/loading', more });
      try {
        const cursor = more ? stateRef.current.list.nextCursor : undefined;
        dispatch({ type: 'list/loaded', page: await api.conversations(phone, cursor), more });
      } catch (error) {
        dispatch({ type: 'list/failed', error: fail(error) });
      }
    },
    [api, phone, fail],
  );

  const refreshList = useCallback(async () => {
    try {
      dispatch({ type: 'list/refreshed', page: await api.conversations(phone) });
    } catch (error) {
      dispatch({ type: 'list/failed', error: fail(error) });
    }
  }, [api, phone, fail]);

  const scheduleRefresh = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void refreshList(), REFRESH_DELAY_MS);
  }, [refreshList]);

  const loadThread = useCallback(
    async (counterpart: string, older: boolean) => {
      dispatch({ type: 'thread/loading', older });
      try {
        const cursor = older ? stateRef.current.thread?.nextCursor : undefined;
        const page = await api.thread(phone, counterpart, cursor);
        dispatch({ type: 'thread/loaded', counterpart, page, older });
      } catch (error) {
        dispatch({ type: 'thread/failed', counterpart, error: fail(error) });
      }
    },
    [api, phone, fail],
  );

  // The stream opens first and the lists load once it is live: a message
  // recorded in between is then in the lists, in the stream, or in both.
  useEffect(() => {
    let loaded = false;
    const connection = new LiveConnection(api.eventsUrl(phone), api.authorization, {
      message: (type, message) => {
        dispatch({ type: 'live', event: type, message });
        scheduleRefresh();
      },
      resync: () => {
        void refreshList();
        const open = stateRef.current.thread;
        if (open) void loadThread(open.counterpart, false);
      },
      status: (status, detail) => {
        setLive({ status, detail });
        if (!loaded && (status === 'live' || status === 'stopped' || status === 'reconnecting')) {
          // Without a stream the page still works, just not live.
          loaded = true;
          void loadList(false);
        }
      },
      unauthorized: onUnauthorized,
    });
    connection.start();
    return () => {
      connection.stop();
      clearTimeout(refreshTimer.current);
    };
  }, [api, phone, loadList, refreshList, loadThread, scheduleRefresh, onUnauthorized]);

  const open = (counterpart: string) => {
    setComposing(false);
    if (stateRef.current.thread?.counterpart === counterpart) return;
    dispatch({ type: 'thread/open', counterpart });
    void loadThread(counterpart, false);
  };

  const send = async (message: UiMessage) => {
    dispatch({ type: 'send/started', message: { ...message, local: 'sending', error: undefined } });
    try {
      await api.sendSms({
        senderPhone: message.senderPhone,
        receiverPhone: message.receiverPhone,
        messageText: message.text,
        timestamp: message.sentAt ?? Math.floor(Date.now() / 1000),
        uuid: message.uuid,
      });
      dispatch({ type: 'send/done', uuid: message.uuid });
      if (
        !stateRef.current.list.items.some((item) => item.counterpart === counterpartOf(message))
      ) {
        scheduleRefresh();
      }
    } catch (error) {
      dispatch({ type: 'send/failed', uuid: message.uuid, error: fail(error) });
    }
  };

  const compose = (text: string) => {
    const counterpart = stateRef.current.thread?.counterpart;
    if (!counterpart) return;
    const { encoding, segments } = countSms(text);
    const now = Math.floor(Date.now() / 1000);
    // A fresh uuid per message; resending after a failure reuses it, so the server stores it once.
    void send({
      uuid: newUuid(),
      senderPhone: phone,
      receiverPhone: counterpart,
      text,
      direction: 'sent',
      status: 'sent',
      sentAt: now,
      receivedAt: null,
      timestamp: now,
      encoding,
      segments,
    });
  };

  const startNew = (event: Event) => {
    event.preventDefault();
    const counterpart = parsePhoneInput(newNumber, home);
    if (!counterpart) {
      setNewNumberError('Enter a phone number or a short code');
      return;
    }
    setNewNumber('');
    setNewNumberError(undefined);
    open(counterpart);
  };

  const thread = state.thread;
  const threadName = thread ? formatPhone(thread.counterpart, home) : '';

  return (
    <div class={`inbox${thread ? ' has-thread' : ''}`}>
      <header class="top-bar">
        <h1>
          <span class="app-name">SMS</span> <span class="me">{formatPhone(phone, home)}</span>
        </h1>
        <p class={`live live-${live.status}`} role="status" title={live.detail}>
          <span class="dot" aria-hidden="true" />
          <span class="label">{LIVE_LABELS[live.status]}</span>
        </p>
        <nav class="account" aria-label="Account">
          {canSwitch ? (
            <button type="button" class="link" onClick={onSwitchNumber}>
              Switch number
            </button>
          ) : null}
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      <nav class="sidebar" aria-label="Conversations">
        <div class="sidebar-head">
          <h2>Conversations</h2>
          <button
            type="button"
            aria-expanded={composing}
            aria-controls="new-conversation"
            onClick={() => setComposing(!composing)}
          >
            New message
          </button>
        </div>
        {composing ? (
          <form id="new-conversation" class="new-conversation" onSubmit={startNew}>
            <label for="new-number">To</label>
            <input
              id="new-number"
              type="tel"
              autoComplete="tel"
              placeholder="Phone number or short code"
              value={newNumber}
              aria-invalid={newNumberError ? 'true' : undefined}
              aria-describedby={newNumberError ? 'new-number-error' : undefined}
              onInput={(event) => setNewNumber(event.currentTarget.value)}
              autoFocus
            />
            <button type="submit">Open</button>
            {newNumberError ? (
              <p id="new-number-error" class="inline-error" role="alert">
                {newNumberError}
              </p>
            ) : null}
          </form>
        ) : null}
        <ConversationList
          list={state.list}
          selected={thread?.counterpart ?? null}
          home={home}
          onSelect={open}
          onLoadMore={() => void loadList(true)}
          onRetry={() => void loadList(false)}
        />
      </nav>
      <main
        class="conversation"
        aria-label={thread ? `Conversation with ${threadName}` : 'Conversation'}
      >
        {thread ? (
          <>
            <header class="conversation-head">
              <button
                type="button"
                class="back"
                onClick={() => dispatch({ type: 'thread/close' })}
                aria-label="Back to conversations"
              >
                ←
              </button>
              <h2>{threadName}</h2>
            </header>
            <ThreadView
              key={thread.counterpart}
              thread={thread}
              home={home}
              onLoadOlder={() => void loadThread(thread.counterpart, true)}
              onRetry={() => void loadThread(thread.counterpart, false)}
              onResend={(message) => void send(message)}
            />
            <Composer
              key={`composer:${thread.counterpart}`}
              recipientName={threadName}
              onSend={compose}
            />
          </>
        ) : (
          <p class="placeholder">Choose a conversation to read it.</p>
        )}
      </main>
    </div>
  );
}

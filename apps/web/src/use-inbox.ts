import { useCallback, useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { type Api, ApiError } from './api.js';
import { countSms, formatPhone } from './format.js';
import {
  counterpartOf,
  type FailureReason,
  inboxReducer,
  initialInbox,
  type ListState,
  type ThreadState,
  type UiMessage,
} from './inbox-state.js';
import { LiveConnection, type LiveStatus } from './live.js';
import { newUuid } from './uuid.js';

/** After live changes, the first page of threads is read again for exact counts and new threads. */
const REFRESH_DELAY_MS = 800;

/** The words that opt a number out (or back in): the server's opt-out rule, libs/messaging/src/opt-out.ts. */
const OPT_OUT_KEYWORD = /^ *(STOP|STOPALL|UNSUBSCRIBE|CANCEL|END|QUIT|START|UNSTOP) *$/i;

export interface Live {
  status: LiveStatus;
  detail?: string;
}

/** One number's inbox as the page shows it, and what the reader can do with it. */
export interface InboxView {
  list: ListState;
  thread: ThreadState | null;
  /** Why failed messages failed, by uuid, once read from the server. */
  failures: Readonly<Record<string, FailureReason>>;
  live: Live;
  open: (counterpart: string) => void;
  close: () => void;
  loadMoreThreads: () => void;
  reloadThreads: () => void;
  loadOlderMessages: () => void;
  reloadThread: () => void;
  /** Reads the first page of threads and the open thread again: after an import, say. */
  refresh: () => void;
  /** Sends `text` to the open thread, through the number's outbound gateway. */
  compose: (text: string) => void;
  /** Sends a message again with the same uuid: after a failed request, or a failed delivery. */
  resend: (message: UiMessage) => void;
  /** Records a message the server could not send (no outbound gateway), as the phone's own. */
  recordOnly: (message: UiMessage) => void;
}

const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : 'Something went wrong';

/**
 * The state of one number's inbox: its threads, the open thread, messages on
 * their way, and the live stream that keeps them current.
 */
export function useInbox(api: Api, phone: string, onUnauthorized: () => void): InboxView {
  const [state, dispatch] = useReducer(inboxReducer, initialInbox);
  const [live, setLive] = useState<Live>({ status: 'connecting' });
  const stateRef = useRef(state);
  stateRef.current = state;
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>();

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
        // A keyword from the counterpart (STOP, START) changes whether it may be
        // sent to: the newest page tells the server's view of it.
        const open = stateRef.current.thread;
        if (
          type === 'message.created' &&
          message.direction === 'received' &&
          OPT_OUT_KEYWORD.test(message.text) &&
          open?.counterpart === counterpartOf(message)
        ) {
          void loadThread(open.counterpart, false);
        }
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

  // A failed message shows why: read once per failure (a retry forgets it).
  const reading = useRef(new Set<string>());
  const messages = state.thread?.messages;
  useEffect(() => {
    for (const message of messages ?? []) {
      const { uuid } = message;
      if (message.status !== 'failed' || message.direction !== 'sent' || message.local) continue;
      if (stateRef.current.failures[uuid] || reading.current.has(uuid)) continue;
      reading.current.add(uuid);
      api.message(uuid).then(
        ({ delivery }) => {
          reading.current.delete(uuid);
          dispatch({
            type: 'failure/read',
            uuid,
            failure: { code: delivery?.errorCode ?? null, reason: delivery?.errorReason ?? null },
          });
        },
        (error: unknown) => {
          reading.current.delete(uuid);
          dispatch({
            type: 'failure/read',
            uuid,
            failure: { code: null, reason: null, error: fail(error) },
          });
        },
      );
    }
  }, [api, messages, fail]);

  const refreshIfNew = (message: UiMessage) => {
    if (!stateRef.current.list.items.some((item) => item.counterpart === counterpartOf(message))) {
      scheduleRefresh();
    }
  };

  const send = async (message: UiMessage) => {
    // Shown as queued at once; a retry of a failed one goes back to queued too.
    dispatch({
      type: 'send/started',
      message: {
        ...message,
        status: 'queued',
        local: 'sending',
        error: undefined,
        refused: undefined,
      },
    });
    try {
      const { accepted, queued } = await api.sendMessage({
        from: message.senderPhone,
        to: message.receiverPhone,
        text: message.text,
        uuid: message.uuid,
      });
      dispatch({ type: 'send/done', uuid: message.uuid, status: accepted.status, queued });
      refreshIfNew(message);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.concerns('from')) {
        dispatch({
          type: 'send/failed',
          uuid: message.uuid,
          refused: 'from',
          error: `${formatPhone(message.senderPhone)} has no outbound gateway, so nothing was sent. You can record the message as sent by the phone itself.`,
        });
      } else if (error instanceof ApiError && error.status === 422 && error.concerns('to')) {
        dispatch({
          type: 'send/failed',
          uuid: message.uuid,
          refused: 'to',
          error: `${formatPhone(message.receiverPhone)} opted out (STOP), so nothing was sent.`,
        });
        // The newest page tells since when.
        const open = stateRef.current.thread;
        if (open?.counterpart === message.receiverPhone) void loadThread(open.counterpart, false);
      } else {
        dispatch({ type: 'send/failed', uuid: message.uuid, error: fail(error) });
      }
    }
  };

  /** The old way: the server records the message and sends nothing. */
  const record = async (message: UiMessage) => {
    dispatch({
      type: 'send/started',
      message: {
        ...message,
        status: 'sent',
        local: 'recording',
        error: undefined,
        refused: undefined,
      },
    });
    try {
      await api.sendSms({
        senderPhone: message.senderPhone,
        receiverPhone: message.receiverPhone,
        messageText: message.text,
        timestamp: message.sentAt ?? Math.floor(Date.now() / 1000),
        uuid: message.uuid,
      });
      dispatch({ type: 'send/done', uuid: message.uuid, status: 'sent' });
      refreshIfNew(message);
    } catch (error) {
      dispatch({
        type: 'send/failed',
        uuid: message.uuid,
        refused: 'from',
        error: `Could not record it: ${fail(error)}`,
      });
    }
  };

  /** Runs `load` for the open thread, if there is one. */
  const withThread = (load: (counterpart: string) => void) => () => {
    const open = stateRef.current.thread;
    if (open) load(open.counterpart);
  };

  return {
    list: state.list,
    thread: state.thread,
    failures: state.failures,
    live,
    open: (counterpart) => {
      if (stateRef.current.thread?.counterpart === counterpart) return;
      dispatch({ type: 'thread/open', counterpart });
      void loadThread(counterpart, false);
    },
    close: () => dispatch({ type: 'thread/close' }),
    loadMoreThreads: () => void loadList(true),
    reloadThreads: () => void loadList(false),
    loadOlderMessages: withThread((counterpart) => void loadThread(counterpart, true)),
    reloadThread: withThread((counterpart) => void loadThread(counterpart, false)),
    refresh: () => {
      void refreshList();
      withThread((counterpart) => void loadThread(counterpart, false))();
    },
    compose: (text) => {
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
        status: 'queued',
        sentAt: now,
        receivedAt: null,
        timestamp: now,
        encoding,
        segments,
      });
    },
    resend: (message) => {
      reading.current.delete(message.uuid);
      void send(message);
    },
    recordOnly: (message) => void record(message),
  };
}

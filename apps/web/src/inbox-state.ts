import type {
  ConversationSummary,
  ConversationsPage,
  OptOut,
  Status,
  ThreadMessage,
  ThreadPage,
} from './types.js';

/**
 * A message as shown: the server's, or one of ours whose request is still on
 * its way (`sending` through a gateway, `recording` the old way) or did not
 * get through (`failed`, with the reason in `error`).
 */
export interface UiMessage extends ThreadMessage {
  local?: 'sending' | 'recording' | 'failed';
  error?: string;
  /**
   * The server refused to send it (422): `from` has no outbound gateway (it
   * can still be recorded), or `to` opted out (nothing may go to it).
   */
  refused?: 'from' | 'to';
}

/** Why a message sent through a gateway failed, as GET /api/messages/{uuid} tells it. */
export interface FailureReason {
  code: string | null;
  reason: string | null;
  /** The reason could not be read. */
  error?: string;
}

type Load = 'loading' | 'ready' | 'error';

export interface ListState {
  items: ConversationSummary[];
  nextCursor: string | null;
  load: Load;
  loadingMore: boolean;
  error?: string;
}

export interface ThreadState {
  counterpart: string;
  messages: UiMessage[];
  nextCursor: string | null;
  load: Load;
  loadingOlder: boolean;
  error?: string;
  /** The counterpart opted out (STOP): nothing can be sent to it until it sends START. */
  optOut: OptOut | null;
}

export interface InboxState {
  list: ListState;
  thread: ThreadState | null;
  /** Messages already counted in the list, so a repeated event does not count twice. */
  counted: ReadonlySet<string>;
  /** Why failed messages failed, by uuid, once read. */
  failures: Readonly<Record<string, FailureReason>>;
}

export type InboxAction =
  | { type: 'list/loading'; more: boolean }
  | { type: 'list/loaded'; page: ConversationsPage; more: boolean }
  | { type: 'list/refreshed'; page: ConversationsPage }
  | { type: 'list/failed'; error: string }
  | { type: 'thread/open'; counterpart: string }
  | { type: 'thread/close' }
  | { type: 'thread/loading'; older: boolean }
  | { type: 'thread/loaded'; counterpart: string; page: ThreadPage; older: boolean }
  | { type: 'thread/failed'; counterpart: string; error: string }
  | { type: 'live'; event: 'message.created' | 'message.updated'; message: ThreadMessage }
  | { type: 'send/started'; message: UiMessage }
  | { type: 'send/done'; uuid: string; status?: Status; queued?: boolean }
  | { type: 'send/failed'; uuid: string; error: string; refused?: 'from' | 'to' }
  | { type: 'failure/read'; uuid: string; failure: FailureReason };

export const initialInbox: InboxState = {
  list: { items: [], nextCursor: null, load: 'loading', loadingMore: false },
  thread: null,
  counted: new Set(),
  failures: {},
};

/** The other party of a message, seen from the signed-in number. */
export function counterpartOf(message: ThreadMessage): string {
  return message.direction === 'sent' ? message.receiverPhone : message.senderPhone;
}

/** The message's place in time (the thread endpoint orders by the first reported event). */
export function timeOf(message: ThreadMessage): number {
  return message.timestamp;
}

/**
 * How far a message got. A message sent through a gateway goes queued →
 * sending → sent → delivered or failed; a reported one is sent or received,
 * then delivered once both phones reported it.
 */
const STATUS_RANK: Record<Status, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  received: 2,
  delivered: 3,
  failed: 3,
};

/**
 * Whether `incoming` is news about `current`. A repeated or late event must
 * not undo a newer status: a status only moves forward, and delivered and
 * failed are where it ends, with one way out: a failed message sent again
 * (Retry) is queued again, and goes on from there.
 */
export function newer(current: UiMessage, incoming: ThreadMessage): boolean {
  // Our own copy, still on its way or not sent: the server's is the truth.
  if (current.local !== undefined) return true;
  if (incoming.status === current.status) return true;
  if (current.status === 'failed') return incoming.status === 'queued';
  return STATUS_RANK[incoming.status] > STATUS_RANK[current.status];
}

/** Inserts or updates `message`, keeping the thread in time order. */
export function upsertMessage(messages: UiMessage[], message: UiMessage): UiMessage[] {
  const index = messages.findIndex((existing) => existing.uuid === message.uuid);
  if (index !== -1) {
    if (!newer(messages[index], message)) return messages;
    const copy = messages.slice();
    copy[index] = message;
    return copy;
  }
  // New messages are nearly always the newest: look from the end.
  let at = messages.length;
  while (at > 0 && timeOf(messages[at - 1]) > timeOf(message)) at -= 1;
  return [...messages.slice(0, at), message, ...messages.slice(at)];
}

function sortByActivity(items: ConversationSummary[]): ConversationSummary[] {
  return items
    .slice()
    .sort(
      (a, b) =>
        b.lastMessage.timestamp - a.lastMessage.timestamp ||
        (b.counterpart < a.counterpart ? -1 : 1),
    );
}

function liveList(
  list: ListState,
  counted: ReadonlySet<string>,
  event: 'message.created' | 'message.updated',
  message: ThreadMessage,
): { list: ListState; counted: ReadonlySet<string> } {
  const counterpart = counterpartOf(message);
  const index = list.items.findIndex((item) => item.counterpart === counterpart);
  // Unknown threads come with the next refresh of the first page.
  if (index === -1) return { list, counted };
  const item = list.items[index];
  const countIt = event === 'message.created' && !counted.has(message.uuid);
  const isLast = item.lastMessage.uuid === message.uuid;
  const replacesLast = isLast || timeOf(message) >= item.lastMessage.timestamp;
  if (!countIt && !replacesLast) return { list, counted };
  const updated: ConversationSummary = {
    counterpart,
    messageCount: item.messageCount + (countIt && !isLast ? 1 : 0),
    lastMessage: replacesLast
      ? {
          uuid: message.uuid,
          text: message.text,
          timestamp: isLast ? item.lastMessage.timestamp : timeOf(message),
          direction: message.direction,
          status: message.status,
        }
      : item.lastMessage,
  };
  const items = list.items.slice();
  items[index] = updated;
  return {
    list: { ...list, items: sortByActivity(items) },
    counted: countIt ? new Set([...counted, message.uuid]) : counted,
  };
}

export function inboxReducer(state: InboxState, action: InboxAction): InboxState {
  switch (action.type) {
    case 'list/loading':
      return action.more
        ? { ...state, list: { ...state.list, loadingMore: true } }
        : { ...state, list: { ...state.list, load: 'loading', error: undefined } };
    case 'list/loaded': {
      const items = action.more
        ? [
            ...state.list.items,
            ...action.page.conversations.filter(
              (item) => !state.list.items.some((known) => known.counterpart === item.counterpart),
            ),
          ]
        : action.page.conversations;
      return {
        ...state,
        list: { items, nextCursor: action.page.nextCursor, load: 'ready', loadingMore: false },
        counted: action.more ? state.counted : new Set(),
      };
    }
    case 'list/refreshed': {
      // The first page again: its threads replace ours; threads further down stay.
      const fresh = new Set(action.page.conversations.map((item) => item.counterpart));
      const rest = state.list.items.filter((item) => !fresh.has(item.counterpart));
      const items = sortByActivity([...action.page.conversations, ...rest]);
      const nextCursor = rest.length > 0 ? state.list.nextCursor : action.page.nextCursor;
      return {
        ...state,
        list: { ...state.list, items, nextCursor, load: 'ready' },
        counted: new Set(),
      };
    }
    case 'list/failed':
      return {
        ...state,
        list: {
          ...state.list,
          load: state.list.items.length > 0 ? 'ready' : 'error',
          loadingMore: false,
          error: action.error,
        },
      };
    case 'thread/open':
      if (state.thread?.counterpart === action.counterpart) return state;
      return {
        ...state,
        thread: {
          counterpart: action.counterpart,
          messages: [],
          nextCursor: null,
          load: 'loading',
          loadingOlder: false,
          optOut: null,
        },
      };
    case 'thread/close':
      return { ...state, thread: null };
    case 'thread/loading':
      if (!state.thread) return state;
      return {
        ...state,
        thread: action.older
          ? { ...state.thread, loadingOlder: true }
          : { ...state.thread, load: 'loading', error: undefined },
      };
    case 'thread/loaded': {
      const thread = state.thread;
      if (thread?.counterpart !== action.counterpart) return state;
      let messages: UiMessage[];
      if (action.older) {
        const known = new Set(thread.messages.map((message) => message.uuid));
        messages = [
          ...action.page.messages.filter((message) => !known.has(message.uuid)),
          ...thread.messages,
        ];
      } else {
        // Keep what arrived live or is being sent while the page loaded.
        messages = action.page.messages;
        for (const message of thread.messages) messages = upsertMessage(messages, message);
      }
      return {
        ...state,
        thread: {
          ...thread,
          messages,
          nextCursor:
            action.older || thread.load !== 'ready' ? action.page.nextCursor : thread.nextCursor,
          load: 'ready',
          loadingOlder: false,
          error: undefined,
          // Only the newest page tells the thread's opt-out.
          optOut: action.older ? thread.optOut : action.page.optOut,
        },
      };
    }
    case 'thread/failed':
      if (state.thread?.counterpart !== action.counterpart) return state;
      return {
        ...state,
        thread: {
          ...state.thread,
          load: state.thread.messages.length > 0 ? 'ready' : 'error',
          loadingOlder: false,
          error: action.error,
        },
      };
    case 'live': {
      const { list, counted } = liveList(state.list, state.counted, action.event, action.message);
      const thread =
        state.thread?.counterpart === counterpartOf(action.message)
          ? { ...state.thread, messages: upsertMessage(state.thread.messages, action.message) }
          : state.thread;
      return { ...state, list, counted, thread };
    }
    case 'send/started': {
      if (!state.thread) return state;
      // The reader's own doing (a send, a retry): it replaces what is shown.
      const { messages } = state.thread;
      const index = messages.findIndex((message) => message.uuid === action.message.uuid);
      const failures = { ...state.failures };
      delete failures[action.message.uuid];
      return {
        ...state,
        failures,
        thread: {
          ...state.thread,
          messages:
            index === -1
              ? upsertMessage(messages, action.message)
              : messages.map((message, at) => (at === index ? action.message : message)),
        },
      };
    }
    case 'send/done':
    case 'send/failed': {
      if (!state.thread) return state;
      const messages = state.thread.messages.map((message) => {
        if (message.uuid !== action.uuid || message.local === undefined) return message;
        if (action.type === 'send/failed') {
          return {
            ...message,
            local: 'failed' as const,
            error: action.error,
            refused: action.refused,
          };
        }
        const sent: UiMessage = { ...message };
        delete sent.local;
        delete sent.error;
        delete sent.refused;
        // Queued just now (202) is the newest there is; a known uuid (200) answers
        // its current status, which counts only if it is news.
        if (action.status && (action.queued || newer(sent, { ...sent, status: action.status }))) {
          sent.status = action.status;
        }
        return sent;
      });
      return { ...state, thread: { ...state.thread, messages } };
    }
    case 'failure/read':
      return { ...state, failures: { ...state.failures, [action.uuid]: action.failure } };
  }
}

import type {
  ConversationSummary,
  ConversationsPage,
  Status,
  ThreadMessage,
  ThreadPage,
} from './types.js';

/** A message as shown: the server's, or one of ours still on its way. */
export interface UiMessage extends ThreadMessage {
  local?: 'sending' | 'failed';
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
}

export interface InboxState {
  list: ListState;
  thread: ThreadState | null;
  /** Messages already counted in the list, so a repeated event does not count twice. */
  counted: ReadonlySet<string>;
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
  | { type: 'send/done'; uuid: string }
  | { type: 'send/failed'; uuid: string; error: string };

export const initialInbox: InboxState = {
  list: { items: [], nextCursor: null, load: 'loading', loadingMore: false },
  thread: null,
  counted: new Set(),
};

/** The other party of a message, seen from the signed-in number. */
export function counterpartOf(message: ThreadMessage): string {
  return message.direction === 'sent' ? message.receiverPhone : message.senderPhone;
}

/** The message's place in time (the thread endpoint orders by the first reported event). */
export function timeOf(message: ThreadMessage): number {
  return message.timestamp;
}

const STATUS_RANK: Record<Status, number> = { sent: 0, received: 0, delivered: 1 };

/** A repeated or late event must not undo a newer status. */
function newer(current: UiMessage, incoming: ThreadMessage): boolean {
  return current.local !== undefined || STATUS_RANK[incoming.status] >= STATUS_RANK[current.status];
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
    case 'send/started':
      if (!state.thread) return state;
      return {
        ...state,
        thread: { ...state.thread, messages: upsertMessage(state.thread.messages, action.message) },
      };
    case 'send/done':
    case 'send/failed': {
      if (!state.thread) return state;
      const messages = state.thread.messages.map((message) => {
        if (message.uuid !== action.uuid || message.local === undefined) return message;
        if (action.type === 'send/failed')
          return { ...message, local: 'failed' as const, error: action.error };
        const sent = { ...message };
        delete sent.local;
        delete sent.error;
        return sent;
      });
      return { ...state, thread: { ...state.thread, messages } };
    }
  }
}

import type { CountryCode } from 'libphonenumber-js';
import { Fragment } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { formatClock, formatDay, formatFullTime, formatPhone, plural } from '../format.js';
import { type FailureReason, type ThreadState, timeOf, type UiMessage } from '../inbox-state.js';

interface Props {
  thread: ThreadState;
  /** Why failed messages failed, by uuid, once read. */
  failures: Readonly<Record<string, FailureReason>>;
  home?: CountryCode;
  onLoadOlder: () => void;
  onRetry: () => void;
  onResend: (message: UiMessage) => void;
  onRecordOnly: (message: UiMessage) => void;
  /** A message to bring into view (a search result), loading older pages until it is there. */
  focusUuid?: string | null;
  onFocused?: () => void;
}

const NEAR_BOTTOM_PX = 80;
/** How many older pages a search result may load to reach its message. */
const MAX_PAGES_TO_FOCUS = 50;

/** The bubble's look: on its way (the request), or not sent or not delivered. */
function bubbleState(message: UiMessage): string {
  if (message.local === 'failed' || (message.direction === 'sent' && message.status === 'failed')) {
    return ' failed';
  }
  return message.local ? ' sending' : '';
}
const NEAR_TOP_PX = 80;

/**
 * The status in the reader's terms. A message sent through a gateway is
 * queued, sending (handed to the provider), sent (the provider took it), then
 * delivered or failed as the provider reports. A reported message is
 * `delivered` once both phones reported it; with one report only, what is
 * known depends on which side reported: our own message the recipient
 * reported is delivered all the same, while one sent to us that our phone has
 * not reported is only "sent".
 */
function statusLabel(message: UiMessage): string {
  if (message.local === 'failed') return 'Not sent';
  if (message.local === 'recording') return 'Recording…';
  if (message.direction === 'received') {
    return message.receivedAt === null ? 'Sent, no receipt yet' : 'Received';
  }
  switch (message.status) {
    case 'queued':
      return 'Queued';
    case 'sending':
      return 'Sending…';
    case 'failed':
      return 'Failed';
    case 'delivered':
      return 'Delivered';
    default:
      return message.receivedAt === null ? 'Sent' : 'Delivered';
  }
}

/** What `data-status` and the status class say: the server's status, or that our request failed. */
const shownStatus = (message: UiMessage) =>
  message.local === 'failed' ? 'not-sent' : message.status;

/** The provider's reason, with its code when the reason does not already say it. */
function failureText(failure: FailureReason | undefined): string {
  if (!failure) return 'Not delivered. Looking up why…';
  if (failure.error) return `Not delivered (the reason could not be read: ${failure.error}).`;
  const { reason, code } = failure;
  if (!reason && !code) return 'Not delivered; the provider gave no reason.';
  if (!reason) return `Not delivered: ${code}.`;
  return code && !reason.includes(code)
    ? `Not delivered: ${reason} (${code}).`
    : `Not delivered: ${reason}.`;
}

/** Below a message that did not go: why, and what can be done about it. */
function Problem({
  message,
  failure,
  onResend,
  onRecordOnly,
}: {
  message: UiMessage;
  failure: FailureReason | undefined;
  onResend: (message: UiMessage) => void;
  onRecordOnly: (message: UiMessage) => void;
}) {
  if (message.local === 'failed') {
    return (
      <div class="send-error">
        <p>{message.error}</p>
        {message.refused === 'from' ? (
          <button type="button" class="link" onClick={() => onRecordOnly(message)}>
            Record only
          </button>
        ) : message.refused === 'to' ? null : (
          <button type="button" class="link" onClick={() => onResend(message)}>
            Try again
          </button>
        )}
      </div>
    );
  }
  if (message.direction === 'sent' && message.status === 'failed') {
    return (
      <div class="send-error">
        <p>{failureText(failure)}</p>
        <button type="button" class="link" onClick={() => onResend(message)}>
          Retry
        </button>
      </div>
    );
  }
  return null;
}

/**
 * One thread as chat bubbles, oldest at the top. Scrolling to the top loads
 * the page before; new messages scroll into view when the reader is at the
 * bottom, and otherwise wait behind a "new messages" button.
 */
export function ThreadView({
  thread,
  failures,
  home,
  onLoadOlder,
  onRetry,
  onResend,
  onRecordOnly,
  focusUuid,
  onFocused,
}: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const pagesLoadedToFocus = useRef(0);
  const previous = useRef({ first: '', last: '', height: 0, atBottom: true });
  const [unseen, setUnseen] = useState(0);
  const name = formatPhone(thread.counterpart, home);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const before = previous.current;
    const first = thread.messages[0]?.uuid ?? '';
    const lastMessage = thread.messages.at(-1);
    const last = lastMessage?.uuid ?? '';
    if (before.first && first !== before.first && last === before.last) {
      // An older page came in above: keep what the reader was looking at in place.
      element.scrollTop += element.scrollHeight - before.height;
    } else if (last !== before.last) {
      if (!before.last || before.atBottom || lastMessage?.local) {
        element.scrollTop = element.scrollHeight;
      } else {
        setUnseen((count) => count + 1);
      }
    }
    previous.current = {
      first,
      last,
      height: element.scrollHeight,
      atBottom: element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX,
    };
  }, [thread.messages]);

  // A search result's message: shown once it is loaded, older pages read until it is.
  useLayoutEffect(() => {
    if (!focusUuid || thread.load !== 'ready') return;
    const element = scroller.current?.querySelector<HTMLElement>(
      `[data-uuid="${CSS.escape(focusUuid)}"]`,
    );
    if (element) {
      pagesLoadedToFocus.current = 0;
      element.scrollIntoView({ block: 'center' });
      element.classList.add('focused');
      element.focus();
      onFocused?.();
    } else if (
      thread.nextCursor &&
      !thread.loadingOlder &&
      pagesLoadedToFocus.current < MAX_PAGES_TO_FOCUS
    ) {
      pagesLoadedToFocus.current += 1;
      onLoadOlder();
    } else if (!thread.loadingOlder) {
      pagesLoadedToFocus.current = 0;
      onFocused?.();
    }
  }, [focusUuid, thread.messages, thread.load, thread.loadingOlder, thread.nextCursor]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const atBottom =
      element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
    previous.current = { ...previous.current, atBottom, height: element.scrollHeight };
    if (atBottom && unseen > 0) setUnseen(0);
    if (element.scrollTop < NEAR_TOP_PX && thread.nextCursor && !thread.loadingOlder) onLoadOlder();
  };

  const toBottom = () => {
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
    setUnseen(0);
  };

  let body;
  if (thread.load === 'loading' && thread.messages.length === 0) {
    body = (
      <p class="placeholder" role="status">
        Loading messages…
      </p>
    );
  } else if (thread.load === 'error') {
    body = (
      <div class="placeholder error" role="alert">
        <p>Could not load the messages: {thread.error}</p>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  } else if (thread.messages.length === 0) {
    body = <p class="placeholder">No messages with {name} yet. Say hello below.</p>;
  } else {
    let day = '';
    body = (
      <>
        {thread.nextCursor ? (
          <button
            type="button"
            class="load-more"
            onClick={onLoadOlder}
            disabled={thread.loadingOlder}
          >
            {thread.loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        ) : (
          <p class="thread-start">This is the beginning of your conversation with {name}.</p>
        )}
        {/* The log is a wrapper: on the <ol> itself the role would take away its list. */}
        <div role="log" aria-live="polite" aria-label={`Messages with ${name}`}>
          <ol class="messages">
            {thread.messages.map((message) => {
              const time = timeOf(message);
              const messageDay = formatDay(time);
              const separator = messageDay !== day;
              day = messageDay;
              return (
                <Fragment key={message.uuid}>
                  {separator ? (
                    <li class="day" aria-hidden="true">
                      {messageDay}
                    </li>
                  ) : null}
                  <li
                    class={`bubble ${message.direction}${bubbleState(message)}`}
                    data-uuid={message.uuid}
                    tabIndex={-1}
                    data-status={shownStatus(message)}
                  >
                    <span class="visually-hidden">
                      {message.direction === 'sent' ? 'You' : name} ({messageDay}):
                    </span>
                    <p class="text">{message.text}</p>
                    <p class="meta">
                      <time
                        dateTime={new Date(time * 1000).toISOString()}
                        title={formatFullTime(time)}
                      >
                        {formatClock(time)}
                      </time>
                      <span class={`status status-${shownStatus(message)}`}>
                        {statusLabel(message)}
                      </span>
                      <span title={`${message.encoding} encoding`}>
                        {plural(message.segments, 'segment')}
                      </span>
                    </p>
                    <Problem
                      message={message}
                      failure={failures[message.uuid]}
                      onResend={onResend}
                      onRecordOnly={onRecordOnly}
                    />
                  </li>
                </Fragment>
              );
            })}
          </ol>
        </div>
      </>
    );
  }

  return (
    <div class="thread-scroll-wrap">
      <div
        class="thread-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        aria-label={`Conversation with ${name}`}
      >
        {body}
      </div>
      {unseen > 0 ? (
        <button type="button" class="unseen" onClick={toBottom}>
          {plural(unseen, 'new message')} ↓
        </button>
      ) : null}
      {thread.error && thread.load === 'ready' ? (
        <p class="inline-error" role="alert">
          {thread.error}
        </p>
      ) : null}
    </div>
  );
}

import type { CountryCode } from 'libphonenumber-js';
import { useRef } from 'preact/hooks';
import { formatFullTime, formatListTime, formatPhone, plural } from '../format.js';
import type { ListState } from '../inbox-state.js';

interface Props {
  list: ListState;
  selected: string | null;
  home?: CountryCode;
  onSelect: (counterpart: string) => void;
  onLoadMore: () => void;
  onRetry: () => void;
}

/** Threads, most recent first; scrolling to the end (or the button) loads the next page. */
export function ConversationList({ list, selected, home, onSelect, onLoadMore, onRetry }: Props) {
  const listRef = useRef<HTMLUListElement>(null);

  const onScroll = (event: Event) => {
    const element = event.currentTarget as HTMLElement;
    if (
      list.nextCursor &&
      !list.loadingMore &&
      element.scrollTop + element.clientHeight > element.scrollHeight - 120
    ) {
      onLoadMore();
    }
  };

  // Up and down move between threads, as in a list box.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [
      ...(listRef.current?.querySelectorAll('button.thread') ?? []),
    ] as HTMLElement[];
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    if (at === -1) return;
    event.preventDefault();
    buttons[
      Math.min(buttons.length - 1, Math.max(0, at + (event.key === 'ArrowDown' ? 1 : -1)))
    ]?.focus();
  };

  if (list.load === 'loading') {
    return (
      <p class="placeholder" role="status">
        Loading conversations…
      </p>
    );
  }
  if (list.load === 'error') {
    return (
      <div class="placeholder error" role="alert">
        <p>Could not load the conversations: {list.error}</p>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (list.items.length === 0) {
    return <p class="placeholder">No conversations yet. Start one with “New message”.</p>;
  }
  return (
    <div class="thread-list-scroll" onScroll={onScroll}>
      <ul class="thread-list" ref={listRef} onKeyDown={onKeyDown} aria-label="Conversations">
        {list.items.map((item) => {
          const name = formatPhone(item.counterpart, home);
          const last = item.lastMessage;
          return (
            <li key={item.counterpart}>
              <button
                type="button"
                class="thread"
                aria-current={item.counterpart === selected ? 'true' : undefined}
                data-counterpart={item.counterpart}
                onClick={() => onSelect(item.counterpart)}
              >
                <span class="thread-top">
                  <span class="thread-name">{name}</span>
                  <time
                    dateTime={new Date(last.timestamp * 1000).toISOString()}
                    title={formatFullTime(last.timestamp)}
                  >
                    {formatListTime(last.timestamp)}
                  </time>
                </span>
                <span class="thread-bottom">
                  <span class="thread-last">
                    {last.direction === 'sent' ? <span class="you">You: </span> : null}
                    {last.text}
                  </span>
                  <span class="count" title={plural(item.messageCount, 'message')}>
                    <span class="visually-hidden">, </span>
                    {plural(item.messageCount, 'message')}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {list.nextCursor ? (
        <button type="button" class="load-more" onClick={onLoadMore} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : 'Load more conversations'}
        </button>
      ) : null}
      {list.error ? (
        <p class="inline-error" role="alert">
          {list.error}
        </p>
      ) : null}
    </div>
  );
}

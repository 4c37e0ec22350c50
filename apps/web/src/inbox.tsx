import { useState } from 'preact/hooks';
import type { Api } from './api.js';
import { Composer } from './components/composer.js';
import { ConversationList } from './components/conversation-list.js';
import { ExportButtons } from './components/export-buttons.js';
import { ImportFile } from './components/import-file.js';
import { NewConversation } from './components/new-conversation.js';
import { SearchPanel } from './components/search-panel.js';
import { ThreadView } from './components/thread-view.js';
import { countryOf, formatDate, formatPhone } from './format.js';
import type { LiveStatus } from './live.js';
import { useInbox } from './use-inbox.js';

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

/** The signed-in view of one number: its threads, the open thread, the composer, live updates. */
export function Inbox({ api, phone, canSwitch, onSwitchNumber, onSignOut, onUnauthorized }: Props) {
  const inbox = useInbox(api, phone, onUnauthorized);
  const [composing, setComposing] = useState(false);
  /** The message a search result asked to show, until the thread shows it. */
  const [focus, setFocus] = useState<string | null>(null);
  const home = countryOf(phone);

  const open = (counterpart: string, uuid?: string) => {
    setComposing(false);
    setFocus(uuid ?? null);
    if (inbox.thread?.counterpart !== counterpart) inbox.open(counterpart);
  };

  const { thread, live } = inbox;
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
          <ExportButtons api={api} phone={phone} onUnauthorized={onUnauthorized} />
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
      <main class="panes">
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
          <SearchPanel
            api={api}
            phone={phone}
            home={home}
            onOpen={open}
            onUnauthorized={onUnauthorized}
          />
          <ImportFile
            api={api}
            phone={phone}
            onImported={inbox.refresh}
            onUnauthorized={onUnauthorized}
          />
          {composing ? <NewConversation home={home} onOpen={open} /> : null}
          <ConversationList
            list={inbox.list}
            selected={thread?.counterpart ?? null}
            home={home}
            onSelect={open}
            onLoadMore={inbox.loadMoreThreads}
            onRetry={inbox.reloadThreads}
          />
        </nav>
        <section
          class="conversation"
          aria-label={thread ? `Conversation with ${threadName}` : 'Conversation'}
        >
          {thread ? (
            <>
              <header class="conversation-head">
                <button
                  type="button"
                  class="back"
                  onClick={() => {
                    setFocus(null);
                    inbox.close();
                  }}
                  aria-label="Back to conversations"
                >
                  ←
                </button>
                <h2>{threadName}</h2>
              </header>
              <ThreadView
                key={thread.counterpart}
                thread={thread}
                failures={inbox.failures}
                home={home}
                onLoadOlder={inbox.loadOlderMessages}
                onRetry={inbox.reloadThread}
                onResend={inbox.resend}
                onRecordOnly={inbox.recordOnly}
                focusUuid={focus}
                onFocused={() => setFocus(null)}
              />
              {thread.optOut ? (
                <p id="opt-out-notice" class="opt-out-notice" role="status">
                  {threadName} replied {thread.optOut.keyword} on {formatDate(thread.optOut.since)}:
                  messages to it are blocked until it sends START.
                </p>
              ) : null}
              <Composer
                key={`composer:${thread.counterpart}`}
                recipientName={threadName}
                onSend={inbox.compose}
                blockedBy={thread.optOut ? 'opt-out-notice' : undefined}
              />
            </>
          ) : (
            <p class="placeholder">Choose a conversation to read it.</p>
          )}
        </section>
      </main>
    </div>
  );
}

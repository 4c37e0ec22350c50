import type { CountryCode } from 'libphonenumber-js';
import { useRef, useState } from 'preact/hooks';
import { type Api, ApiError } from '../api.js';
import { formatFullTime, formatPhone } from '../format.js';
import type { SearchHit } from '../types.js';

interface Props {
  api: Api;
  phone: string;
  home?: CountryCode;
  /** Opens the result's thread at the message. */
  onOpen: (counterpart: string, uuid: string) => void;
  onUnauthorized: () => void;
}

interface Results {
  query: string;
  hits: SearchHit[];
  nextCursor: string | null;
}

const counterpartOf = (hit: SearchHit) =>
  hit.direction === 'sent' ? hit.receiverPhone : hit.senderPhone;

/**
 * A search box over the open number's messages: best match first, each with
 * the server's snippet (HTML it escaped, matches in <mark>). A result opens
 * its thread at that message.
 */
export function SearchPanel({ api, phone, home, onOpen, onUnauthorized }: Props) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<Results | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Answers to a search the reader has since replaced are dropped.
  const latest = useRef(0);

  const run = async (query: string, more: boolean) => {
    const ticket = (latest.current += 1);
    setBusy(true);
    setError(null);
    try {
      const page = await api.search(phone, query, more ? results?.nextCursor : undefined);
      if (ticket !== latest.current) return;
      setResults({
        query,
        hits: more && results ? [...results.hits, ...page.messages] : page.messages,
        nextCursor: page.nextCursor,
      });
    } catch (caught) {
      if (ticket !== latest.current) return;
      if (caught instanceof ApiError && caught.isUnauthorized) onUnauthorized();
      setError(caught instanceof Error ? caught.message : 'The search failed');
    } finally {
      if (ticket === latest.current) setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const query = text.trim();
    if (query) void run(query, false);
    else setResults(null);
  };

  return (
    <section class="search" aria-label="Search messages">
      <form role="search" onSubmit={submit}>
        <label for="search-input" class="visually-hidden">
          Search messages
        </label>
        <input
          id="search-input"
          type="search"
          placeholder="Search messages"
          maxLength={200}
          value={text}
          onInput={(event) => setText((event.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          Search
        </button>
      </form>
      {error ? (
        <p class="inline-error" role="alert">
          {error}
        </p>
      ) : null}
      {results ? (
        <div class="search-results">
          <p role="status">
            {results.hits.length === 0
              ? `No messages match “${results.query}”.`
              : `Messages matching “${results.query}”`}
          </p>
          <ol>
            {results.hits.map((hit) => (
              <li key={hit.uuid}>
                <button
                  type="button"
                  class="search-hit"
                  data-uuid={hit.uuid}
                  onClick={() => onOpen(counterpartOf(hit), hit.uuid)}
                >
                  <span class="search-hit-head">
                    <span>
                      {hit.direction === 'sent' ? 'To ' : 'From '}
                      {formatPhone(counterpartOf(hit), home)}
                    </span>
                    <time dateTime={new Date(hit.timestamp * 1000).toISOString()}>
                      {formatFullTime(hit.timestamp)}
                    </time>
                  </span>
                  {/* The server escaped the text; only its <mark> elements are markup. */}
                  <span class="snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />
                </button>
              </li>
            ))}
          </ol>
          {results.nextCursor ? (
            <button
              type="button"
              class="load-more"
              disabled={busy}
              onClick={() => void run(results.query, true)}
            >
              {busy ? 'Loading…' : 'More results'}
            </button>
          ) : null}
          <button type="button" class="link" onClick={() => setResults(null)}>
            Clear search
          </button>
        </div>
      ) : null}
    </section>
  );
}

/**
 * Server-Sent Events over fetch(). `EventSource` cannot send an Authorization
 * header, and API keys must not travel in URLs (they end up in logs), so the
 * page reads the stream itself. The parser follows the WHATWG "event stream
 * interpretation" rules; it has no DOM dependency, so tests use it too.
 */

export interface SseEvent {
  /** `message` when the server named none. */
  type: string;
  data: string;
  /** The stream's last event id when this event was dispatched (ids persist across events). */
  lastEventId: string;
}

export interface SseHandlers {
  event(event: SseEvent): void;
  comment?(text: string): void;
  /** The server's `retry:` advice, in milliseconds. */
  retry?(ms: number): void;
}

export class SseParser {
  private buffer = '';
  /** A chunk ended in CR: an LF starting the next chunk belongs to the same line end. */
  private pendingCr = false;
  private data: string[] = [];
  private type = '';
  private idBuffer = '';
  private id = '';

  /** `lastEventId`: where a resumed stream starts, until the server names a newer id. */
  constructor(
    private readonly handlers: SseHandlers,
    lastEventId = '',
  ) {
    this.id = lastEventId;
    this.idBuffer = lastEventId;
  }

  /** The id to send as Last-Event-ID when reconnecting. */
  get lastEventId(): string {
    return this.id;
  }

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = text.endsWith('\r');
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.handlers.comment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.retry?.(Number(value));
        break;
      default:
      // Unknown fields are ignored.
    }
  }

  private dispatch(): void {
    // The id takes effect even for an event without data.
    this.id = this.idBuffer;
    const type = this.type || 'message';
    const data = this.data.join('\n');
    const hadData = this.data.length > 0;
    this.data = [];
    this.type = '';
    if (hadData) this.handlers.event({ type, data, lastEventId: this.id });
  }
}

export interface StreamRequest {
  url: string;
  headers?: Record<string, string>;
  lastEventId?: string;
  signal?: AbortSignal;
}

/** An answer that is not an event stream; `body` is the API's error body when it sent one. */
export class StreamRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : `The event stream answered ${status}`,
    );
  }
}

/**
 * Opens one event stream and reads it to its end. Resolves when the server
 * ends the stream; rejects with StreamRefused for a non-200 answer, or with
 * the network error (an AbortError when `signal` aborts).
 * `onOpen` runs once the stream is accepted, before any event.
 */
export async function readEventStream(
  request: StreamRequest,
  handlers: SseHandlers & { open?(): void },
): Promise<{ lastEventId: string }> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...request.headers };
  if (request.lastEventId) headers['Last-Event-ID'] = request.lastEventId;
  const response = await fetch(request.url, {
    headers,
    signal: request.signal,
    cache: 'no-store',
  });
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.ok || !contentType.startsWith('text/event-stream') || !response.body) {
    const body: unknown = await response.json().catch(() => undefined);
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new StreamRefused(
      response.status,
      body,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
  handlers.open?.();
  const parser = new SseParser(handlers, request.lastEventId);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.push(value);
  }
  return { lastEventId: parser.lastEventId };
}

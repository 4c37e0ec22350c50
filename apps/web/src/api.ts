import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api-schema.js';
import type {
  ConversationsPage,
  ErrorBody,
  ImportRequest,
  ImportResponse,
  MessageRecord,
  SendAccepted,
  SendMessageBody,
  SearchPage,
  SendSmsBody,
  Session,
  ThreadPage,
} from './types.js';

/** An answer other than 2xx, with the API's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: ErrorBody,
  ) {
    super(message);
  }

  /** The key is unknown or revoked: nothing else will work until the user signs in again. */
  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  /** Whether the server named `field` among the fields at fault. */
  concerns(field: string): boolean {
    return this.body?.details?.some((detail) => detail.field === field) ?? false;
  }
}

/** What POST /api/messages answered: `queued` is false when the uuid was known (200). */
export interface SendAnswer {
  accepted: SendAccepted;
  queued: boolean;
}

export const THREADS_PAGE_SIZE = 20;
export const MESSAGES_PAGE_SIZE = 30;
export const SEARCH_PAGE_SIZE = 20;

/** The formats GET /api/phones/{phone}/export writes. */
export type ExportFormat = 'ndjson' | 'csv';

const unreachable = () =>
  new ApiError(0, 'The server cannot be reached. Check the connection and try again.');

/** The few endpoints the page calls, always with the signed-in key, typed by swagger.yaml. */
export class Api {
  private readonly client: Client<paths>;

  constructor(readonly key: string) {
    this.client = createClient<paths>({
      headers: { Authorization: this.authorization, Accept: 'application/json' },
      cache: 'no-store',
      fetch: (request) =>
        fetch(request).catch(() => {
          throw unreachable();
        }),
    });
  }

  get authorization(): string {
    return `Bearer ${this.key}`;
  }

  session(): Promise<Session> {
    return answer(this.client.GET('/api/session'));
  }

  conversations(phone: string, before?: string | null): Promise<ConversationsPage> {
    return answer(
      this.client.GET('/api/phones/{phone}/conversations', {
        params: {
          path: { phone },
          query: { limit: THREADS_PAGE_SIZE, before: before ?? undefined },
        },
      }),
    );
  }

  thread(phone: string, counterpart: string, before?: string | null): Promise<ThreadPage> {
    return answer(
      this.client.GET('/api/phones/{phone}/conversations/{counterpart}/messages', {
        params: {
          path: { phone, counterpart },
          query: { limit: MESSAGES_PAGE_SIZE, before: before ?? undefined },
        },
      }),
    );
  }

  /** The number's messages matching `q`, best first, each with a snippet (HTML, matches in <mark>). */
  search(phone: string, q: string, before?: string | null): Promise<SearchPage> {
    return answer(
      this.client.GET('/api/phones/{phone}/search', {
        params: {
          path: { phone },
          query: { q, limit: SEARCH_PAGE_SIZE, before: before ?? undefined },
        },
      }),
    );
  }

  /**
   * The number's whole history as a file. A link cannot carry the key, so the
   * page fetches it and hands the browser the result to save.
   */
  async exportFile(phone: string, format: ExportFormat): Promise<Blob> {
    const response = await fetch(
      `/api/phones/${encodeURIComponent(phone)}/export?format=${format}`,
      { headers: { Authorization: this.authorization }, cache: 'no-store' },
    ).catch(() => {
      throw unreachable();
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as unknown;
      throw new ApiError(
        response.status,
        isErrorBody(body) ? body.message : `The server answered ${response.status}`,
        isErrorBody(body) ? body : undefined,
      );
    }
    return response.blob();
  }

  /** Records a message the phone sent itself (nothing goes out). */
  async sendSms(body: SendSmsBody): Promise<void> {
    await answer(this.client.POST('/api/send-sms', { body }));
  }

  /**
   * Sends for real through the sender's outbound gateway. The same uuid with the
   * same content is safe to send again: it answers the current status, and
   * queues a failed message again.
   */
  async sendMessage(body: SendMessageBody): Promise<SendAnswer> {
    const request = this.client.POST('/api/messages', { body });
    const accepted = await answer(request);
    return { accepted, queued: (await request).response.status === 202 };
  }

  /**
   * Records up to 1000 send/receive events at once, as a file's import does:
   * each gets its own outcome, and one with a uuid already stored is `replayed`.
   */
  importEvents(body: ImportRequest): Promise<ImportResponse> {
    return answer(this.client.POST('/api/messages/import', { body }));
  }

  /** One message with its delivery record (why it failed, when it did). */
  message(uuid: string): Promise<MessageRecord> {
    return answer(this.client.GET('/api/messages/{uuid}', { params: { path: { uuid } } }));
  }

  /** Read by sse.ts, which needs the raw stream rather than a parsed answer. */
  eventsUrl(phone: string): string {
    return `/api/phones/${encodeURIComponent(phone)}/events`;
  }
}

/** The body of a 2xx answer, or an ApiError with the server's message. */
async function answer<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await request;
  if (response.ok) return data as T;
  const body = isErrorBody(error) ? error : undefined;
  throw new ApiError(
    response.status,
    body?.message ?? `The server answered ${response.status}`,
    body,
  );
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' && value !== null && typeof (value as ErrorBody).message === 'string'
  );
}

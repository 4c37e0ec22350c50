import type { ConversationsPage, ErrorBody, SendSmsBody, Session, ThreadPage } from './types.js';

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
}

export const THREADS_PAGE_SIZE = 20;
export const MESSAGES_PAGE_SIZE = 30;

const path = (value: string) => encodeURIComponent(value);

/** The few endpoints the page calls, always with the signed-in key. */
export class Api {
  constructor(readonly key: string) {}

  get authorization(): string {
    return `Bearer ${this.key}`;
  }

  session(): Promise<Session> {
    return this.request('GET', '/api/session');
  }

  conversations(phone: string, before?: string | null): Promise<ConversationsPage> {
    return this.request(
      'GET',
      `/api/phones/${path(phone)}/conversations${query({ limit: THREADS_PAGE_SIZE, before })}`,
    );
  }

  thread(phone: string, counterpart: string, before?: string | null): Promise<ThreadPage> {
    return this.request(
      'GET',
      `/api/phones/${path(phone)}/conversations/${path(counterpart)}/messages${query({
        limit: MESSAGES_PAGE_SIZE,
        before,
      })}`,
    );
  }

  async sendSms(body: SendSmsBody): Promise<void> {
    await this.request('POST', '/api/send-sms', body);
  }

  eventsUrl(phone: string): string {
    return `/api/phones/${path(phone)}/events`;
  }

  private async request<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: this.authorization,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'The server cannot be reached. Check the connection and try again.');
    }
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = payload as ErrorBody | undefined;
      throw new ApiError(
        response.status,
        error?.message ?? `The server answered ${response.status}`,
        error,
      );
    }
    return payload as T;
  }
}

function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

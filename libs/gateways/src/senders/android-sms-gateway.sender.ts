import {
  type DeliveryReport,
  type OutgoingSms,
  type ReportedStatus,
  type SendAccepted,
  SendFailure,
  type SmsSender,
} from './sms-sender.js';

/**
 * The states of a message in SMS Gateway for Android
 * (https://docs.sms-gate.app/features/status-tracking/).
 */
export const ANDROID_MESSAGE_STATES = [
  'Pending',
  'Processed',
  'Sent',
  'Delivered',
  'Failed',
] as const;
export type AndroidMessageState = (typeof ANDROID_MESSAGE_STATES)[number];

/** The webhook events that report on a message we sent (https://docs.sms-gate.app/features/webhooks/). */
export const ANDROID_STATUS_EVENTS = ['sms:sent', 'sms:delivered', 'sms:failed'] as const;
export type AndroidStatusEvent = (typeof ANDROID_STATUS_EVENTS)[number];

export interface AndroidSmsGatewaySenderOptions {
  /**
   * The API base: the app's own server (`http://192.168.1.5:8080`) or the
   * cloud's (`https://api.sms-gate.app/3rdparty/v1`); both serve `/messages` below it.
   */
  url: string;
  username: string;
  password: string;
  /** Per request, answer included. */
  timeoutMs?: number;
  /** The 1-based SIM slot to send from; unset lets the app choose (its default SIM or rotation). */
  simNumber?: number;
  fetch?: typeof fetch;
}

/** The message object the app answers with (POST and GET `/messages`). */
interface AndroidMessageBody {
  id?: unknown;
  state?: unknown;
  recipients?: unknown;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** The app's error bodies are one sentence; more is not worth showing to a sender. */
const MAX_REASON_LENGTH = 300;

/**
 * SMS Gateway for Android (capcom6/android-sms-gateway), through its REST
 * API with HTTP basic auth, in local mode (the phone's own server) or cloud
 * mode: both serve the same `POST /messages` and `GET /messages/{id}`.
 */
export class AndroidSmsGatewaySender implements SmsSender {
  readonly provider = 'android-sms-gateway' as const;
  /** The app keeps our uuid as the message's `id` and refuses a second message with it (409). */
  readonly deduplicatesByReference = true;
  /** A send only queues the message on the phone, which sends one SMS at a time anyway. */
  readonly window = 4;

  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly closing = new AbortController();

  constructor(private readonly options: AndroidSmsGatewaySenderOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async send(sms: OutgoingSms): Promise<SendAccepted> {
    const response = await this.request('POST', '/messages', {
      id: sms.uuid,
      // `textMessage` is the current field; the flat `message` is deprecated.
      textMessage: { text: sms.text },
      phoneNumbers: [sms.to],
      simNumber: this.options.simNumber,
      withDeliveryReport: true,
    });
    // Already accepted: a resend after a crash between the app's answer and our commit.
    if (response.status === 409) return { providerMessageId: sms.uuid };
    await this.throwUnlessOk(response);
    const body = await readJson<AndroidMessageBody>(response);
    return { providerMessageId: typeof body?.id === 'string' ? body.id : sms.uuid };
  }

  /** Where the app says the message stands; null while it has not reached the network. */
  async getState(providerMessageId: string): Promise<DeliveryReport | null> {
    const response = await this.request(
      'GET',
      `/messages/${encodeURIComponent(providerMessageId)}`,
    );
    await this.throwUnlessOk(response);
    const body = await readJson<AndroidMessageBody>(response);
    if (typeof body?.state !== 'string') {
      throw SendFailure.transient('bad_answer', 'SMS Gateway for Android answered without a state');
    }
    const status = mapAndroidState(body.state);
    if (status === null) return null;
    if (status !== 'failed') return { providerMessageId, status };
    return {
      providerMessageId,
      status,
      errorCode: body.state,
      reason: recipientError(body.recipients) ?? 'the app reports the message failed',
    };
  }

  close(): Promise<void> {
    this.closing.abort();
    return Promise.resolve();
  }

  private async request(method: 'GET' | 'POST', path: string, body?: object): Promise<Response> {
    if (this.closing.signal.aborted) throw closedFailure();
    try {
      return await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: this.authorization,
          Accept: 'application/json',
          ...(body && { 'Content-Type': 'application/json' }),
        },
        body: body && JSON.stringify(body),
        // A redirect would drop the credentials or turn the POST into a GET: the URL is wrong.
        redirect: 'manual',
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
    } catch (error) {
      throw this.networkFailure(error);
    }
  }

  private async throwUnlessOk(response: Response): Promise<void> {
    if (response.ok) return;
    const appMessage = await readErrorMessage(response).catch(() => undefined);
    const reason = this.redacted(
      `SMS Gateway for Android answered ${response.status}${appMessage ? `: ${appMessage}` : ''}`,
    );
    throw httpFailure(response.status, reason, response.headers.get('retry-after'));
  }

  private networkFailure(error: unknown): SendFailure {
    if (this.closing.signal.aborted) return closedFailure();
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return SendFailure.transient('timeout', `no answer within ${this.timeoutMs} ms`);
    }
    // fetch fails with "fetch failed"; the cause names the socket's error (ECONNREFUSED, ...).
    const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
    const detail =
      typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.message === 'string'
          ? cause.message
          : String(error);
    return SendFailure.transient('network', this.redacted(`cannot reach the app: ${detail}`));
  }

  /** Whatever the app or the network says, the reason is shown to people: never with the password. */
  private redacted(text: string): string {
    const password = this.options.password;
    return password === '' ? text : text.replaceAll(password, '[redacted]');
  }
}

/** What a state of the app means for us; null means "no change" (not yet on the network). */
export function mapAndroidState(state: string): ReportedStatus | null {
  if (!isOneOf(ANDROID_MESSAGE_STATES, state)) return null;
  switch (state) {
    case 'Pending':
    case 'Processed':
      return null;
    case 'Sent':
      return 'sent';
    case 'Delivered':
      return 'delivered';
    case 'Failed':
      return 'failed';
  }
}

/**
 * The report in an `sms:sent`, `sms:delivered` or `sms:failed` webhook
 * (`{ event, payload: { messageId, ... } }`); null for any other event or a
 * body without a message id. `messageId` is the `id` we gave at send time.
 */
export function readAndroidStatusEvent(webhook: unknown): DeliveryReport | null {
  if (!isRecord(webhook) || !isRecord(webhook.payload)) return null;
  const { event, payload } = webhook;
  if (typeof event !== 'string' || !isOneOf(ANDROID_STATUS_EVENTS, event)) return null;
  const providerMessageId = payload.messageId;
  if (typeof providerMessageId !== 'string' || providerMessageId === '') return null;
  switch (event) {
    case 'sms:sent':
      return { providerMessageId, status: 'sent' };
    case 'sms:delivered':
      return { providerMessageId, status: 'delivered' };
    case 'sms:failed':
      return {
        providerMessageId,
        status: 'failed',
        errorCode: 'Failed',
        reason:
          typeof payload.reason === 'string' && payload.reason !== ''
            ? payload.reason
            : 'the app reports the message failed',
      };
  }
}

/**
 * A Retry-After header (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) in
 * ms from now; undefined when absent or unreadable.
 */
export function retryAfterMs(
  header: string | null | undefined,
  nowMs = Date.now(),
): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/**
 * How a refused request fails: a request the app will refuse again
 * (bad credentials, a bad number, a wrong URL) is permanent; 408, 429 and 5xx
 * are worth a retry.
 */
function httpFailure(status: number, reason: string, retryAfter: string | null): SendFailure {
  const code = `HTTP_${status}`;
  if (status === 429) return SendFailure.transient(code, reason, retryAfterMs(retryAfter));
  if (status === 408 || status >= 500) return SendFailure.transient(code, reason);
  return SendFailure.permanent(code, reason);
}

function closedFailure(): SendFailure {
  return SendFailure.transient('closed', 'the connection was closed before the app answered');
}

/** The app's error body is `{ "message": "..." }`; the local server's 401 has no body at all. */
async function readErrorMessage(response: Response): Promise<string | undefined> {
  const text = (await response.text()).trim();
  if (text === '') return undefined;
  let message: string = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isRecord(parsed) && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a proxy's error page): the text itself, shortened.
  }
  return message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}…` : message;
}

async function readJson<T>(response: Response): Promise<T | undefined> {
  try {
    return (await response.json()) as T;
  } catch {
    return undefined;
  }
}

/** The first recipient's error: we send to one number, so it is the message's. */
function recipientError(recipients: unknown): string | undefined {
  if (!Array.isArray(recipients)) return undefined;
  for (const recipient of recipients as unknown[]) {
    if (isRecord(recipient) && typeof recipient.error === 'string' && recipient.error !== '') {
      return recipient.error;
    }
  }
  return undefined;
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

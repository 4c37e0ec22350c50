import { Agent as HttpAgent } from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';
import { retryAfterMs } from './android-sms-gateway.sender.js';
import { type OutgoingSms, type SendAccepted, SendFailure, type SmsSender } from './sms-sender.js';

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  /**
   * Where to send the SDK's requests instead of https://api.twilio.com, e.g.
   * `http://127.0.0.1:8089` for a stand-in; unset means the real Twilio.
   */
  apiBaseUrl?: string;
  /** Per request, answer included. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Twilio's error code for a 429, should its body not carry one. */
const TWILIO_TOO_MANY_REQUESTS = 20429;

/**
 * Twilio Programmable Messaging, through the official SDK: one Message
 * resource per SMS, whose SID names it in the status callbacks.
 *
 * The SDK costs ~6 MB of heap and ~25 MB of RSS once loaded, so nothing but
 * SenderPool imports this file, and only when a Twilio connection sends
 * (`import()`); the status callbacks are read by twilio-status.ts, which does
 * not load the SDK.
 */
export class TwilioSender implements SmsSender {
  readonly provider = 'twilio' as const;
  /**
   * Twilio's Messages API takes no idempotency key (`I-Twilio-Idempotency-Token`
   * is what Twilio sends on its own webhooks, not something it honours on create),
   * so a resend after a crash between Twilio's answer and our commit sends a second SMS.
   */
  readonly deduplicatesByReference = false;
  /** Twilio queues the SMS itself; this only bounds our requests in flight on one account. */
  readonly window = 10;

  private readonly httpClient: TwilioHttpClient;
  private readonly client: twilio.Twilio;

  constructor(options: TwilioSenderOptions) {
    this.httpClient = new TwilioHttpClient(
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      options.apiBaseUrl,
    );
    this.client = twilio(options.accountSid, options.authToken, { httpClient: this.httpClient });
  }

  async send(sms: OutgoingSms): Promise<SendAccepted> {
    if (this.httpClient.closed) throw closedFailure();
    try {
      const message = await this.client.messages.create({
        from: sms.from,
        to: sms.to,
        body: sms.text,
        statusCallback: sms.statusCallbackUrl,
      });
      return { providerMessageId: message.sid };
    } catch (error) {
      throw this.sendFailure(error);
    }
  }

  close(): Promise<void> {
    this.httpClient.close();
    return Promise.resolve();
  }

  private sendFailure(error: unknown): SendFailure {
    if (error instanceof SendFailure) return error;
    if (this.httpClient.closed) return closedFailure();
    const refusal = twilioRefusal(error);
    if (refusal) {
      const code = refusal.code ? String(refusal.code) : `HTTP_${refusal.status}`;
      const reason = `Twilio answered ${refusal.status}: ${refusal.message}`;
      return refusal.status >= 500 || refusal.status === 408
        ? SendFailure.transient(code, reason)
        : SendFailure.permanent(code, reason);
    }
    // axios names its failures by code: a timeout, a refused or reset connection, a DNS miss.
    const code = (error as { code?: unknown } | null)?.code;
    // The request went out and no answer came: Twilio may have created the message, and it
    // takes no idempotency key, so sending again could make a second SMS.
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
      return SendFailure.permanent(
        'UNKNOWN_OUTCOME',
        code === 'ECONNRESET'
          ? 'Twilio closed the connection before answering; the message may have been sent'
          : `no answer from Twilio within ${this.httpClient.defaultTimeout} ms; the message may have been sent`,
      );
    }
    const detail =
      typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
    return SendFailure.transient('network', `cannot reach Twilio: ${detail}`);
  }
}

/**
 * The SDK's transport with three changes: it can aim at another base URL
 * (a stand-in), it turns a 429 into a transient failure with Twilio's
 * Retry-After (the SDK's RestException drops the headers), and close()
 * aborts what is in flight.
 */
class TwilioHttpClient extends twilio.RequestClient {
  private readonly closing = new AbortController();
  /** The SDK sets only an https agent; this one is for an `http://` base URL, so close() can free it. */
  private readonly httpAgent = new HttpAgent({ keepAlive: true });

  constructor(
    timeoutMs: number,
    private readonly apiBaseUrl: string | undefined,
  ) {
    // Our queue retries with its own backoff; the SDK's own 429 retries would hide Retry-After.
    super({ timeout: timeoutMs, autoRetry: false });
    this.axios.defaults.httpAgent = this.httpAgent;
    this.axios.interceptors.request.use((config) => {
      config.signal = this.closing.signal;
      return config;
    });
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  override async request<TData>(
    options: RequestClient.RequestOptions<TData>,
  ): Promise<TwilioResponse.default<TData>> {
    const response = await super.request({ ...options, uri: this.rewritten(options.uri) });
    if (response.statusCode === 429) {
      const refusal = refusalBody(response.body);
      throw SendFailure.transient(
        String(refusal.code ?? TWILIO_TOO_MANY_REQUESTS),
        `Twilio answered 429: ${refusal.message ?? 'Too Many Requests'}`,
        retryAfterMs(headerValue(response.headers, 'retry-after')),
      );
    }
    return response;
  }

  close(): void {
    this.closing.abort();
    this.httpAgent.destroy();
    (this.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }

  /** Any Twilio host (an edge or region one too) becomes the configured base, path kept. */
  private rewritten(uri: string): string {
    if (this.apiBaseUrl === undefined) return uri;
    const url = new URL(uri);
    return `${this.apiBaseUrl.replace(/\/+$/, '')}${url.pathname}${url.search}`;
  }
}

interface TwilioRefusal {
  status: number;
  code?: number;
  message: string;
}

/**
 * The SDK's error for an answer other than 2xx: RestException (Twilio's
 * `{ code, message, more_info, status }`) or, for APIs that answer in RFC 9457
 * form, TwilioServiceException (`{ type, title, status, code, detail }`).
 */
function twilioRefusal(error: unknown): TwilioRefusal | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { status?: unknown; code?: unknown; detail?: unknown };
  if (!(error instanceof twilio.RestException) && typeof fields.status !== 'number')
    return undefined;
  const status = Number(fields.status);
  const code = typeof fields.code === 'number' && fields.code !== 0 ? fields.code : undefined;
  const message =
    typeof fields.detail === 'string' && fields.detail !== ''
      ? fields.detail
      : typeof error.message === 'string' && error.message !== ''
        ? error.message
        : `HTTP ${status}`;
  return { status, code, message };
}

function refusalBody(body: unknown): { code?: number; message?: string } {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { code, message } = parsed as { code?: unknown; message?: unknown };
  return {
    code: typeof code === 'number' ? code : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}

/** axios hands headers as an object keyed by lower-case name (an AxiosHeaders). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function closedFailure(): SendFailure {
  return SendFailure.transient('closed', 'the connection was closed before Twilio answered');
}

/**
 * A STAND-IN for Twilio's Messages API, for tests: not Twilio. It follows
 * Twilio's documentation of the Message resource
 * (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource)
 * and of its errors (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions):
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, a form-encoded body,
 * HTTP basic auth with the Account SID and auth token (401, error 20003,
 * otherwise), 201 with the JSON Message resource (sid `SM` + 32 hex, status
 * `queued`), and 400 `{ code, message, more_info, status }` for the refusals
 * tests need: 21604 no To, 21603 no From, 21602 no Body, 21211 a To that is
 * not E.164. It sends nothing and posts no status callbacks.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message it accepted: the form's fields as posted, and the SID it gave. */
export interface TwilioStandinMessage {
  sid: string;
  Body: string;
  From: string;
  To: string;
  StatusCallback?: string;
}

export interface TwilioStandin {
  /** Replaces https://api.twilio.com. */
  baseUrl: string;
  messages: TwilioStandinMessage[];
  /** Requests received, refused ones included. */
  readonly requests: number;
  /** Answers the next `times` requests with `status` and Twilio error `code`. */
  failNext(
    status: number,
    code: number,
    times?: number,
    options?: { message?: string; retryAfter?: string },
  ): void;
  /** Never answers the next `times` requests (until close). */
  stallNext(times?: number): void;
  close(): Promise<void>;
}

const MESSAGES_ROUTE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export async function startTwilioStandin(credentials: {
  accountSid: string;
  authToken: string;
}): Promise<TwilioStandin> {
  const messages: TwilioStandinMessage[] = [];
  const failures: { status: number; code: number; message?: string; retryAfter?: string }[] = [];
  let stalls = 0;
  let requests = 0;
  const expectedAuthorization = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;

  const server = createServer((request, response) => {
    requests += 1;
    void handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 20500, String(error));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (stalls > 0) {
      stalls -= 1;
      return;
    }
    const failure = failures.shift();
    if (failure) {
      if (failure.retryAfter !== undefined) response.setHeader('Retry-After', failure.retryAfter);
      return sendError(
        response,
        failure.status,
        failure.code,
        failure.message ?? `stand-in error ${failure.code}`,
      );
    }
    if (request.headers.authorization !== expectedAuthorization) {
      response.setHeader('WWW-Authenticate', 'Basic realm="Twilio API"');
      return sendError(response, 401, 20003, 'Authenticate');
    }
    const route = MESSAGES_ROUTE.exec(new URL(request.url ?? '/', 'http://standin').pathname);
    if (!route || request.method !== 'POST') {
      return sendError(response, 404, 20404, 'The requested resource was not found');
    }
    if (route[1] !== credentials.accountSid) {
      return sendError(response, 403, 20003, 'Permission denied for this Account SID');
    }
    const form = new URLSearchParams(body);
    const to = form.get('To');
    const from = form.get('From') ?? form.get('MessagingServiceSid');
    const text = form.get('Body');
    if (!to) return sendError(response, 400, 21604, "A 'To' phone number is required.");
    if (!from) return sendError(response, 400, 21603, "A 'From' phone number is required.");
    if (!text) return sendError(response, 400, 21602, 'Message body is required.');
    if (!E164.test(to)) {
      return sendError(response, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    }
    const message: TwilioStandinMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      Body: text,
      From: from,
      To: to,
      StatusCallback: form.get('StatusCallback') ?? undefined,
    };
    messages.push(message);
    send(response, 201, messageResource(credentials.accountSid, message));
  }

  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    messages,
    get requests() {
      return requests;
    },
    failNext(status, code, times = 1, options = {}) {
      for (let i = 0; i < times; i += 1) failures.push({ status, code, ...options });
    },
    stallNext(times = 1) {
      stalls += times;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Message resource as Twilio answers a create: snake_case, RFC 2822 dates, counts as strings. */
function messageResource(accountSid: string, message: TwilioStandinMessage): object {
  const now = new Date().toUTCString().replace('GMT', '+0000');
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}`;
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: message.Body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: message.From,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: 'queued',
    subresource_uris: { media: `${uri}/Media.json` },
    to: message.To,
    uri: `${uri}.json`,
  };
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  send(response, status, {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A STAND-IN for SMS Gateway for Android's REST API, for tests: not the app.
 * It follows the documented API (https://docs.sms-gate.app/features/sending-messages/,
 * .../features/status-tracking/, and the app's local server,
 * capcom6/android-sms-gateway modules/localserver/WebService.kt and
 * routes/MessagesRoutes.kt): basic auth on every route (401 with no body
 * otherwise), `POST /messages` (and its older name `/message`) answering 202
 * with the message object in state Pending, 409 for an id it already holds,
 * 400 `{ "message": ... }` for a request the app refuses, and
 * `GET /messages/{id}` with the message's state. It sends no SMS and posts no
 * webhooks; a test moves a message on with setState().
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AndroidStandinState = 'Pending' | 'Processed' | 'Sent' | 'Delivered' | 'Failed';

/** A message as the stand-in holds it: the request as sent, and where it stands. */
export interface AndroidStandinMessage {
  id: string;
  request: Record<string, unknown>;
  /** The path it was posted to: `/messages` or `/message`. */
  path: string;
  state: AndroidStandinState;
  error: string | null;
  states: Partial<Record<AndroidStandinState, string>>;
}

export interface AndroidStandin {
  /** The API base, like the app's `http://<device_ip>:8080`. */
  url: string;
  /** What it accepted, by id. */
  messages: Map<string, AndroidStandinMessage>;
  /** Requests received, refused ones included. */
  readonly requests: number;
  /** Answers the next `times` requests with `status` (and the app's `{ message }` body). */
  failNext(
    status: number,
    times?: number,
    options?: { message?: string; retryAfter?: string },
  ): void;
  /** Never answers the next `times` requests (until close). */
  stallNext(times?: number): void;
  setState(id: string, state: AndroidStandinState, error?: string): void;
  close(): Promise<void>;
}

const DEVICE_ID = 'ffffffffceb0b1db0000018e937c815b';
const MESSAGE_ROUTE = /^\/messages?(?:\/([^/]+))?$/;

export async function startAndroidStandin(credentials: {
  username: string;
  password: string;
}): Promise<AndroidStandin> {
  const messages = new Map<string, AndroidStandinMessage>();
  const failures: { status: number; message?: string; retryAfter?: string }[] = [];
  let stalls = 0;
  let requests = 0;
  const expectedAuthorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

  const server = createServer((request, response) => {
    requests += 1;
    void handle(request, response).catch((error: unknown) => {
      send(response, 500, { message: String(error) });
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
      send(response, failure.status, { message: failure.message ?? `stand-in ${failure.status}` });
      return;
    }
    if (request.headers.authorization !== expectedAuthorization) {
      // Ktor's basic auth: a challenge and no body.
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Access to SMS Gateway"' });
      response.end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://standin');
    const route = MESSAGE_ROUTE.exec(url.pathname);
    if (!route) return send(response, 404, { message: 'Not Found' });
    const id = route[1] === undefined ? undefined : decodeURIComponent(route[1]);
    if (request.method === 'POST' && id === undefined)
      return postMessage(url.pathname, body, response);
    if (request.method === 'GET' && id !== undefined) {
      const message = messages.get(id);
      if (!message) return send(response, 404, { message: 'Message not found' });
      return send(response, 200, messageObject(message));
    }
    send(response, 405, { message: 'Method Not Allowed' });
  }

  function postMessage(path: string, body: string, response: ServerResponse): void {
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return send(response, 400, { message: 'Failed to convert request body' });
    }
    const problem = refusal(request);
    if (problem) return send(response, 400, { message: problem });
    const id = typeof request.id === 'string' ? request.id : randomUUID();
    if (messages.has(id)) {
      return send(response, 409, { message: 'Message with the same ID already exists' });
    }
    const message: AndroidStandinMessage = {
      id,
      request,
      path,
      state: 'Pending',
      error: null,
      states: { Pending: new Date().toISOString() },
    };
    messages.set(id, message);
    send(response, 202, messageObject(message));
  }

  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    get requests() {
      return requests;
    },
    failNext(status, times = 1, options = {}) {
      for (let i = 0; i < times; i += 1) failures.push({ status, ...options });
    },
    stallNext(times = 1) {
      stalls += times;
    },
    setState(id, state, error) {
      const message = messages.get(id);
      if (!message) throw new Error(`the stand-in holds no message ${id}`);
      message.state = state;
      message.error = error ?? null;
      message.states[state] = new Date().toISOString();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The checks MessagesRoutes makes before it queues a message, with its wording. */
function refusal(request: Record<string, unknown>): string | undefined {
  const kinds = ['textMessage', 'dataMessage', 'message', 'mmsMessage'].filter(
    (kind) => request[kind] !== undefined && request[kind] !== null,
  );
  if (kinds.length === 0) {
    return 'Must specify exactly one of: textMessage, dataMessage, mmsMessage, or message';
  }
  if (kinds.length > 1) return 'Cannot specify multiple message types simultaneously';
  const text = request.textMessage as { text?: unknown } | undefined;
  if (text !== undefined && (typeof text.text !== 'string' || text.text === '')) {
    return 'Text message is empty';
  }
  const phoneNumbers = request.phoneNumbers;
  if (!Array.isArray(phoneNumbers) || phoneNumbers.length === 0) return 'phoneNumbers is empty';
  if (typeof request.simNumber === 'number' && request.simNumber < 1) {
    return 'simNumber must be >= 1';
  }
  return undefined;
}

/** The app's message object (PostMessageResponse / Message in the local server). */
function messageObject(message: AndroidStandinMessage): Record<string, unknown> {
  const phoneNumbers = message.request.phoneNumbers as string[];
  return {
    id: message.id,
    deviceId: DEVICE_ID,
    state: message.state,
    isHashed: false,
    isEncrypted: message.request.isEncrypted === true,
    recipients: phoneNumbers.map((phoneNumber) => ({
      phoneNumber,
      state: message.state,
      error: message.error,
    })),
    states: message.states,
  };
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

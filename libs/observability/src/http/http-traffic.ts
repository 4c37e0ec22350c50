import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorBody } from '@app/common';
import { requestContext } from './request-context.js';
import { chooseRequestId, REQUEST_ID_HEADER, setRequestId } from './request-id.js';

/** The route label of a request answered before any route matched (404, a body refused first). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * During a drain, how long an idle keep-alive connection stays open. A client
 * reuses an idle connection until the server's keep-alive timeout is near (5 s
 * on Node's server, so Express): closing one earlier could drop a request
 * already on its way, so it gets the chance to send it, answered with
 * `Connection: close`. (Fastify announces 72 s; past 5 s the drain stops waiting.)
 */
const DRAIN_IDLE_GRACE_MS = 5_000;

export interface FinishedRequest {
  requestId: string;
  method: string;
  /** The matched route pattern (`/api/get-conversation/:phone_number`), or UNMATCHED_ROUTE. */
  route: string;
  /** Path without the query string, kept only for requests that matched no route. */
  path?: string;
  status: number;
  durationSeconds: number;
  /** The connection closed before the whole response was sent. */
  aborted: boolean;
}

export interface HttpTrafficOptions {
  /**
   * A request unanswered after this long gets 503 with Retry-After, so a
   * client is never left hanging on a stuck dependency. Checked by one timer
   * for all requests rather than one per request, so the answer comes up to
   * a quarter of this (at most a second) later.
   */
  requestTimeoutMs?: number;
}

/** Seconds a client should wait before retrying a request that timed out. */
const TIMEOUT_RETRY_AFTER_SECONDS = 5;

export interface DrainResult {
  durationMs: number;
  /** Requests still unanswered at the deadline, whose connections were closed. */
  abandoned: number;
}

/** Express leaves the matched route on the request, and keeps the URL before its rewrites. */
interface ExpressRequest extends IncomingMessage {
  route?: { path?: unknown };
  originalUrl?: string;
}

/** The headers a response to `url` carries, from maps computed once. */
export type ResponseHeaders = (url: string) => Map<string, string>;

interface InFlight {
  request: IncomingMessage;
  /** performance.now() when it arrived. */
  started: number;
}

const routes = new WeakMap<IncomingMessage, string>();
const REQUEST_ID_HEADER_LOWER = REQUEST_ID_HEADER.toLowerCase();

/** For platforms that do not leave the route on the Node request (Fastify). */
export function recordRoute(request: IncomingMessage, route: string): void {
  routes.set(request, route);
}

/** A catch-all (`*path`: Nest's not-found handler) matches anything, so it is no route. */
function routeOf(request: ExpressRequest): string | undefined {
  const route = routes.get(request) ?? request.route?.path;
  return typeof route === 'string' && !route.includes('*') ? route : undefined;
}

/**
 * Watches the Node HTTP server itself rather than a platform's middleware, so
 * that it sees every request on Express and Fastify alike, including those the
 * platform answers before routing (404, unparseable bodies): each gets a
 * request id, and is reported once finished with its final status. It also
 * drains the server on shutdown.
 */
export class HttpTraffic {
  /** Each response in flight, with its request and when it arrived. */
  private readonly inFlight = new Map<ServerResponse, InFlight>();
  private server?: Server;
  private draining = false;
  private deadlineTimer?: NodeJS.Timeout;
  private responseHeaders?: ResponseHeaders;

  constructor(
    private readonly onFinished: (request: FinishedRequest) => void,
    private readonly options: HttpTrafficOptions = {},
  ) {}

  /**
   * Takes over the server's request listeners (the platform's handler), so
   * that every request is seen first and handled inside its request context:
   * a line logged while it is handled carries its id.
   *
   * `responseHeaders` go on every response (the security headers, and for
   * some paths more), computed
   * once by the caller: set here they cost one call per request, and reach
   * the answers a platform gives before any of its hooks run.
   */
  attach(server: Server, responseHeaders?: ResponseHeaders): void {
    this.server = server;
    this.responseHeaders = responseHeaders;
    const handlers = server.listeners('request') as Array<
      (request: IncomingMessage, response: ServerResponse) => void
    >;
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const requestId = this.onRequest(request, response);
      requestContext.run(requestId, () => {
        for (const handler of handlers) handler.call(server, request, response);
      });
    });
    const timeoutMs = this.options.requestTimeoutMs;
    if (timeoutMs !== undefined) {
      const sweepMs = Math.min(1_000, Math.max(10, Math.floor(timeoutMs / 4)));
      this.deadlineTimer = setInterval(() => this.answerOverdue(timeoutMs), sweepMs);
      this.deadlineTimer.unref();
      server.once('close', () => clearInterval(this.deadlineTimer));
    }
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops accepting connections and waits for the requests in flight to be
   * answered, each response closing its connection, for at most `timeoutMs`;
   * then closes whatever is left. Node's own `server.close()` (which Nest's
   * `app.close()` calls) is not enough: it drops every keep-alive connection it
   * deems idle at once, including those whose next request is already on the
   * wire, so those clients see a reset; and it leaves connections that just got
   * an answer open for another request until their keep-alive timeout.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const started = performance.now();
    this.draining = true;
    for (const response of this.inFlight.keys()) closeConnectionAfter(response);
    const server = this.server;
    if (!server) return { durationMs: 0, abandoned: 0 };

    let abandoned = 0;
    const closed = new Promise<void>((resolve) => {
      // net.Server's close, not http.Server's: stop listening but leave the
      // open connections to finish (see above).
      NetServer.prototype.close.call(server, () => resolve());
    });
    // A live event stream never finishes by itself; its client reconnects elsewhere.
    const closeStreams = () => {
      for (const response of this.inFlight.keys()) if (isEventStream(response)) response.destroy();
    };
    closeStreams();
    const streamTimer = setInterval(closeStreams, 100);
    const idleTimer = setTimeout(() => server.closeIdleConnections(), DRAIN_IDLE_GRACE_MS);
    const deadline = setTimeout(() => {
      abandoned = this.inFlight.size;
      server.closeAllConnections();
    }, timeoutMs);
    try {
      await closed;
    } finally {
      clearInterval(streamTimer);
      clearTimeout(idleTimer);
      clearTimeout(deadline);
    }
    return { durationMs: Math.round(performance.now() - started), abandoned };
  }

  /** 503 for every request still unanswered after `timeoutMs`; an answer already begun is left alone. */
  private answerOverdue(timeoutMs: number): void {
    const overdueSince = performance.now() - timeoutMs;
    for (const [response, { request, started }] of this.inFlight) {
      if (started > overdueSince || response.headersSent || response.writableEnded) continue;
      // Still sending its body: a slow client, which Node answers 408 (HTTP_REQUEST_TIMEOUT_MS).
      if (!request.complete) continue;
      const body = JSON.stringify({
        ...errorBody(
          503,
          `No answer within ${timeoutMs} ms; retry later (resending an event is safe)`,
        ),
        requestId: response.getHeader(REQUEST_ID_HEADER),
      });
      response.writeHead(503, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Retry-After': String(TIMEOUT_RETRY_AFTER_SECONDS),
      });
      response.end(body);
    }
  }

  private onRequest(request: ExpressRequest, response: ServerResponse): string {
    const started = performance.now();
    const requestId = chooseRequestId(request.headers[REQUEST_ID_HEADER_LOWER]);
    setRequestId(request, requestId);
    if (this.responseHeaders) response.setHeaders(this.responseHeaders(request.url ?? '/'));
    response.setHeader(REQUEST_ID_HEADER, requestId);
    if (this.draining) closeConnectionAfter(response);
    this.inFlight.set(response, { request, started });

    // 'close' follows 'finish' for an answered request, and comes alone when
    // the connection went away first.
    response.once('close', () => {
      this.inFlight.delete(response);
      const route = routeOf(request);
      this.onFinished({
        requestId,
        method: request.method ?? 'UNKNOWN',
        route: route ?? UNMATCHED_ROUTE,
        ...(route === undefined
          ? { path: (request.originalUrl ?? request.url)?.split('?')[0] }
          : {}),
        status: response.statusCode,
        durationSeconds: (performance.now() - started) / 1000,
        aborted: !response.writableFinished,
      });
    });
    return requestId;
  }
}

function isEventStream(response: ServerResponse): boolean {
  const type = response.getHeader('content-type');
  return response.headersSent && typeof type === 'string' && type.startsWith('text/event-stream');
}

/** Node then closes the connection once the response is sent, and tells the client so. */
function closeConnectionAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

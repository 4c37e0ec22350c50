import type { Server } from 'node:http';

/**
 * How often Node checks its connections against the timeouts below. Node's
 * default is 30 s, so a slow client could hold a connection for half a minute
 * past its timeout; it is fixed when the server is created.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

export interface ServerTimeouts {
  /** The request's headers must have arrived within this long. */
  headersMs: number;
  /** The whole request, body included, must have arrived within this long. */
  requestMs: number;
  /** An idle keep-alive connection closes after this long. */
  keepAliveMs: number;
}

/**
 * Slow clients (a slowloris sending headers or a body byte by byte) are
 * answered `408` and their connections closed by Node itself, on either
 * platform: both run on a Node http.Server. Node's defaults were 60 s for
 * headers and 300 s for a request.
 */
export function applyServerTimeouts(server: Server, timeouts: ServerTimeouts): void {
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.keepAliveTimeout = timeouts.keepAliveMs;
}

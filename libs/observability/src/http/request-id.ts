import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** What a client may send as its own id: short, and safe to echo in a header and a log line. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The client's X-Request-Id when it is acceptable, else a fresh one. */
export function chooseRequestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * The id lives on the Node request as `id`, where pino-http looks for it, so the
 * log lines written inside a request carry the same id as its response.
 */
export function setRequestId(request: IncomingMessage, id: string): void {
  request.id = id;
}

export function requestIdOf(request: IncomingMessage): string | undefined {
  return typeof request.id === 'string' ? request.id : undefined;
}

/**
 * The id HttpTraffic gave the request, for pino-http's and Fastify's `genReqId`:
 * Fastify copies its own id onto Node's request, so it has to be the same one.
 */
export function assignedRequestId(request: IncomingMessage): string {
  return requestIdOf(request) ?? randomUUID();
}

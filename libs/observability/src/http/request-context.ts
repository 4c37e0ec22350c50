import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the request being handled, for log lines written while it is
 * (see HttpTraffic, which runs every request inside it, and logging.ts). Just
 * the id: a logger per request would cost an object graph per request.
 */
export const requestContext = new AsyncLocalStorage<string>();

/** The id of the request whose handling is running now, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore();
}

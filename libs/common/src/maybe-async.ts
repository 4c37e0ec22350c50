/** A value, or a promise of it: what a step returns when it only sometimes has to wait. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Runs `next` on `value` at once when it is there, or once it resolves. The
 * request path uses it where the usual case needs no I/O (a cached key, an
 * in-memory counter): an `await` there would cost a promise and a microtask
 * per request for nothing.
 */
export function andThen<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

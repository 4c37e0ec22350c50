import type { DestinationStream, Level, LevelWithSilent, Logger } from 'pino';
import { destination as pinoDestination, stdSerializers } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import type { Params } from 'nestjs-pino';
import type { FinishedRequest } from '../http/http-traffic.js';
import { currentRequestId } from '../http/request-context.js';

export interface LoggingSettings {
  level: LevelWithSilent;
  /** Human-readable lines for a terminal instead of JSON. */
  pretty: boolean;
  /** Where lines go; stdout by default. For tests. */
  destination?: DestinationStream;
}

/**
 * Never logged, wherever they appear. Nothing here logs headers or bodies in
 * the first place (so message texts never reach a log); this is the net under it.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
];

/** pino-pretty, loaded only for development's readable lines (production never needs it). */
function loadPinoPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/** A line logged while a request is handled carries the request's id. */
function requestIdMixin(fields: object): { requestId?: string } {
  // The request line itself names its request; the lookup is not free on Node 20.
  // (pino merges the line's fields into what this returns, so it must be a new object.)
  if ('requestId' in fields) return {};
  const requestId = currentRequestId();
  return requestId === undefined ? {} : { requestId };
}

/**
 * pino's isoTime, formatted once per millisecond: at a few thousand lines a
 * second, `new Date().toISOString()` per line showed at 2–4% of a request.
 */
let lastMillis = 0;
let lastTime = '';
function cachedIsoTime(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * nestjs-pino's settings: JSON lines, or pino-pretty in development. Its
 * per-request middleware is off (`forRoutes: []`): it built a logger per
 * request; HttpTraffic's request context and the mixin below put the request
 * id on the lines instead, at the cost of one lookup per line.
 */
export function loggingParams(settings: LoggingSettings): Params {
  const destination =
    settings.destination ??
    (settings.pretty
      ? loadPinoPretty()({
          colorize: true,
          ignore: 'pid,hostname',
          translateTime: 'SYS:HH:MM:ss.l',
          singleLine: true,
          sync: true,
        })
      : // Asynchronous and buffered: lines go out 4 KB at a time, or every
        // 100 ms when traffic is light, instead of one write per line (the
        // profile showed those writes at 6% of a request). pino flushes what
        // is left when the process exits.
        pinoDestination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 }));
  const options = {
    mixin: requestIdMixin,
    level: settings.level,
    serializers: { err: stdSerializers.err },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: cachedIsoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return { pinoHttp: [options, destination], forRoutes: [] };
}

/** One line per request: who asked what, the answer, and how long it took. */
export function logFinishedRequest(logger: Logger, request: FinishedRequest): void {
  const durationMs = Math.round(request.durationSeconds * 10_000) / 10;
  const level: Level = request.status >= 500 ? 'error' : 'info';
  const outcome = request.aborted ? 'aborted' : String(request.status);
  logger[level](
    {
      requestId: request.requestId,
      method: request.method,
      route: request.route,
      ...(request.path === undefined ? {} : { path: request.path }),
      status: request.status,
      durationMs,
      ...(request.aborted ? { aborted: true } : {}),
    },
    `${request.method} ${request.path ?? request.route} ${outcome} ${durationMs} ms`,
  );
}

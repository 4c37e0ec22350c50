import type { DestinationStream, Level, LevelWithSilent, Logger } from 'pino';
import { stdSerializers, stdTimeFunctions } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Params } from 'nestjs-pino';
import type { FinishedRequest } from '../http/http-traffic.js';
import { assignedRequestId } from '../http/request-id.js';

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

/** nestjs-pino's settings: JSON lines, or pino-pretty in development. */
export function loggingParams(settings: LoggingSettings): Params {
  const destination =
    settings.destination ??
    (settings.pretty
      ? pinoPretty({
          colorize: true,
          ignore: 'pid,hostname',
          translateTime: 'SYS:HH:MM:ss.l',
          singleLine: true,
          sync: true,
        })
      : undefined);
  const options = {
    level: settings.level,
    // HttpTraffic writes the one line per request, for requests that never reach
    // a middleware too; pino-http only puts the request id on the lines written
    // while a request is handled.
    autoLogging: false,
    quietReqLogger: true,
    quietResLogger: true,
    // pino-http also binds the whole request (headers included) to a logger
    // it builds for every request; nothing here logs it, so it is not built.
    wrapSerializers: false,
    serializers: { req: () => undefined, err: stdSerializers.err },
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: assignedRequestId,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return { pinoHttp: destination ? [options, destination] : options };
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

import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiException } from './api.exception.js';
import { isDatabaseUnavailable, isQueryCanceled, isUniqueViolation } from './database-errors.js';
import {
  type ErrorBody,
  MAX_ERROR_DETAILS,
  MAX_ERROR_FIELD_LENGTH,
  MAX_ERROR_TEXT_LENGTH,
} from './error-body.dto.js';

/** Seconds a client should wait before retrying when the database is away. */
const RETRY_AFTER_SECONDS = 5;

/** Errors from the HTTP platform's body parsing (Express body-parser, Fastify) carry a status. */
interface PlatformError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
  expose?: boolean;
  message?: string;
  /** A RefusedBodyError's reason. */
  problem?: string;
}

/**
 * The single place that turns anything thrown into the common error body.
 * 4xx keep their message; 5xx never leak internals: they are logged with an
 * error id that the body repeats, so a report can be matched to the log.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const http = host.switchToHttp();
    const response: unknown = http.getResponse();
    // Already answered (the request deadline's 503): the handler's late answer or error goes nowhere.
    if (httpAdapter.isHeadersSent(response)) return;
    const { body, headers } = this.toErrorResponse(exception);
    for (const [name, value] of Object.entries(headers)) {
      httpAdapter.setHeader(response, name, value);
    }
    const requestId = requestIdOf(http.getRequest<PlatformRequest | undefined>());
    httpAdapter.reply(response, requestId ? { ...body, requestId } : body, body.statusCode);
  }

  toErrorResponse(exception: unknown): { body: ErrorBody; headers: Record<string, string> } {
    if (exception instanceof ApiException) {
      return {
        body: errorBody(exception.getStatus(), exception.message, exception.details),
        headers: exception.headers,
      };
    }
    if (exception instanceof HttpException) {
      // The Express adapter wraps body-parser errors; their cause says what failed.
      const platformError = fromPlatformError(exception.cause);
      return { body: platformError ?? fromHttpException(exception), headers: {} };
    }
    if (isUniqueViolation(exception)) {
      return {
        body: errorBody(HttpStatus.CONFLICT, 'The request conflicts with data already stored'),
        headers: {},
      };
    }
    if (isDatabaseUnavailable(exception) || isQueryCanceled(exception)) {
      this.logger.warn(`Database unavailable: ${(exception as Error).message}`);
      return {
        body: errorBody(
          HttpStatus.SERVICE_UNAVAILABLE,
          'The database is unavailable; nothing was stored. Retry later.',
        ),
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      };
    }
    const platformError = fromPlatformError(exception);
    if (platformError) {
      return { body: platformError, headers: {} };
    }
    const errorId = randomUUID();
    this.logger.error(
      `Unhandled error ${errorId}: ${(exception as Error)?.message ?? String(exception)}`,
      (exception as Error)?.stack,
    );
    return {
      body: errorBody(
        HttpStatus.INTERNAL_SERVER_ERROR,
        `Internal server error (error id ${errorId})`,
      ),
      headers: {},
    };
  }
}

/** Express's request is Node's; Fastify's wraps it as `raw` (and has an `id` of its own). */
interface PlatformRequest {
  id?: unknown;
  raw?: { id?: unknown };
}

/** Set on Node's request by the request-id hook of @app/observability, on either platform. */
function requestIdOf(request: PlatformRequest | undefined): string | undefined {
  const id = request?.raw ? request.raw.id : request?.id;
  return typeof id === 'string' ? id : undefined;
}

/** The common error body, held to the bounds the OpenAPI document states (error-body.dto.ts). */
export function errorBody(
  statusCode: number,
  message: string,
  details?: ErrorBody['details'],
): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: clip(message, MAX_ERROR_TEXT_LENGTH),
    ...(details && details.length > 0
      ? {
          details: details.slice(0, MAX_ERROR_DETAILS).map(({ field, problem }) => ({
            field: clip(field, MAX_ERROR_FIELD_LENGTH),
            problem: clip(problem, MAX_ERROR_TEXT_LENGTH),
          })),
        }
      : {}),
  };
}

/** At most `max` code points, the unit JSON Schema's maxLength counts. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const codePoints = [...text];
  return codePoints.length <= max ? text : `${codePoints.slice(0, max - 1).join('')}…`;
}

function fromHttpException(exception: HttpException): ErrorBody {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') return errorBody(status, response);
  const { message } = response as { message?: unknown };
  const text = Array.isArray(message)
    ? message.join('; ')
    : typeof message === 'string'
      ? message
      : exception.message;
  return errorBody(status, text);
}

/** Maps body-parsing failures of either HTTP platform to a clear 4xx. */
function fromPlatformError(exception: unknown): ErrorBody | undefined {
  const error = exception as PlatformError | undefined;
  const status = error?.status ?? error?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (error?.type ?? error?.code) {
    case 'body.refused':
      return errorBody(400, error?.message ?? 'The request body is refused', [
        { field: 'body', problem: error?.problem ?? 'is refused' },
      ]);
    case 'entity.parse.failed':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorBody(400, 'The request body is not valid JSON', [
        { field: 'body', problem: 'must be valid JSON' },
      ]);
    case 'entity.too.large':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody(413, 'The request body is too large', [
        { field: 'body', problem: 'is larger than this route accepts' },
      ]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorBody(415, 'The request body must be JSON (Content-Type: application/json)', [
        { field: 'content-type', problem: 'must be application/json' },
      ]);
    default:
      // Other client errors the platform raises itself (e.g. a malformed URL).
      return errorBody(
        status,
        error?.expose === false
          ? (STATUS_CODES[status] ?? 'Error')
          : (error?.message ?? 'Bad request'),
      );
  }
}

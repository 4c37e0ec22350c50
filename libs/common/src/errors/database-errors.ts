/**
 * Classifies errors raised by `pg`/TypeORM so the API can answer with the
 * right status instead of a 500.
 */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '53300', // too_many_connections
]);

const CONNECTION_ERROR_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is closed',
  'Cannot use a pool after calling end',
];

interface ErrorWithCode {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
}

function codeOf(error: unknown): string | undefined {
  const candidate = error as ErrorWithCode | undefined;
  if (typeof candidate?.code === 'string') return candidate.code;
  if (candidate?.driverError) return codeOf(candidate.driverError);
  return undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === '23505';
}

export function isQueryCanceled(error: unknown): boolean {
  return codeOf(error) === '57014';
}

/** On a standby, a query cancelled by a conflict with recovery (40001): worth a retry elsewhere. */
export function isRecoveryConflict(error: unknown): boolean {
  return codeOf(error) === '40001';
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  // Class 08 is "connection exception" in PostgreSQL's SQLSTATE table.
  if (code && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  const message = (error as ErrorWithCode | undefined)?.message;
  return (
    typeof message === 'string' && CONNECTION_ERROR_MESSAGES.some((text) => message.includes(text))
  );
}

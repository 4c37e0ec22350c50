import { HttpException, HttpStatus } from '@nestjs/common';
import type { ErrorDetail } from './error-body.dto.js';

/**
 * An HttpException whose body already carries field details; the global filter
 * renders it in the common shape.
 */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus,
    message: string,
    readonly details?: ErrorDetail[],
    /** Sent with the error, e.g. `Retry-After`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message, status);
  }

  static invalid(details: ErrorDetail[]): ApiException {
    const message = details.map((detail) => `${detail.field} ${detail.problem}`).join('; ');
    return new ApiException(HttpStatus.BAD_REQUEST, message, details);
  }

  static field(status: HttpStatus, field: string, problem: string): ApiException {
    return new ApiException(status, `${field} ${problem}`, [{ field, problem }]);
  }
}

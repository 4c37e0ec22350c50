import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ApiException } from '../errors/api.exception.js';
import type { ErrorDetail } from '../errors/error-body.dto.js';

/** Flattens class-validator's tree into `field: problem` pairs with dotted/indexed paths. */
export function toErrorDetails(errors: ValidationError[], parentPath = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const isIndex = /^\d+$/.test(error.property);
    const field = parentPath
      ? isIndex
        ? `${parentPath}[${error.property}]`
        : `${parentPath}.${error.property}`
      : error.property;
    const own = Object.values(error.constraints ?? {}).map((constraint) => ({
      field,
      // class-validator starts each message with the property name; the field
      // is reported separately, so keep only the problem.
      problem: constraint.startsWith(`${error.property} `)
        ? constraint.slice(error.property.length + 1)
        : constraint,
    }));
    return [...own, ...toErrorDetails(error.children ?? [], field)];
  });
}

/**
 * Strict validation for every request: unknown fields are stripped, nothing is
 * coerced (a string "123" is not a timestamp), and failures use the common body.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = toErrorDetails(errors);
      return ApiException.invalid(
        details.length > 0 ? details : [{ field: 'body', problem: 'must be a JSON object' }],
      );
    },
  });
}

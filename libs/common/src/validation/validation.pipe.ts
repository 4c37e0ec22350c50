import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ApiException } from '../errors/api.exception.js';
import type { ErrorDetail } from '../errors/error-body.dto.js';
import { CompiledValidator } from './compiled-validator.js';

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
 * Nest's ValidationPipe, with the DTO rules compiled (see CompiledValidator)
 * for the input that passes them; anything else goes through the pipe as
 * before, which says exactly what is wrong.
 */
class CompiledValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype, type } = metadata;
    if (type !== 'custom' && typeof metatype === 'function' && this.toValidate(metadata)) {
      const accepted = CompiledValidator.for(metatype as new () => object)?.accept(value);
      if (accepted !== undefined) return Promise.resolve(accepted);
    }
    return super.transform(value, metadata);
  }
}

/**
 * Strict validation for every request: unknown fields are stripped, nothing is
 * coerced (a string "123" is not a timestamp), and failures use the common body.
 */
export function createValidationPipe(): ValidationPipe {
  return new CompiledValidationPipe({
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

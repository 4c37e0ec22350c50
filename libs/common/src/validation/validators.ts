import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

const SECONDS_PER_DAY = 86_400;
/** Unix seconds reach 1e11 only in the year 5138; a value past it is milliseconds. */
const MILLISECONDS_THRESHOLD = 1e11;
/** The largest unix-seconds value the API accepts anywhere (a query, a cursor). */
export const MAX_UNIX_SECONDS = MILLISECONDS_THRESHOLD - 1;

/** Why `value` is not a usable unix-seconds timestamp, or undefined when it is. */
export function unixSecondsProblem(value: unknown, now = Date.now()): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return 'must be a number of unix seconds';
  if (!Number.isInteger(value)) return 'must be a whole number of unix seconds';
  if (value < 0) return 'must not be negative';
  if (value >= MILLISECONDS_THRESHOLD) {
    return 'looks like milliseconds; send unix seconds (milliseconds / 1000)';
  }
  if (value > Math.floor(now / 1000) + SECONDS_PER_DAY)
    return 'must not be more than a day in the future';
  return undefined;
}

/** Integer unix seconds from 0 up to one day ahead of the server clock. */
export function IsUnixSeconds(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isUnixSeconds',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => unixSecondsProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} ${unixSecondsProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

/**
 * Length in Unicode code points, as PostgreSQL's char_length counts, so that
 * an emoji is one character both here and in the database constraint.
 */
export function HasCodePointLength(
  min: number,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'hasCodePointLength',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const length = [...value].length;
          return length >= min && length <= max;
        },
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'string' && args.value.length === 0
            ? `${args.property} must not be empty`
            : `${args?.property} must be between ${min} and ${max} characters long`,
      },
    });
}

/** In `u` mode a surrogate pair is one code point, so this only matches an unpaired half. */
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why `value` cannot be stored as PostgreSQL text exactly as sent, or undefined when it can. */
export function unstorableTextProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // PostgreSQL text cannot hold U+0000 at all.
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  // An unpaired surrogate has no UTF-8 form: it would be stored as U+FFFD, and the
  // same request sent again would then conflict with what was stored.
  if (UNPAIRED_SURROGATE.test(value)) return 'must not contain unpaired surrogates (U+D800–U+DFFF)';
  return undefined;
}

/**
 * Text PostgreSQL stores exactly as sent: no NUL, no unpaired surrogate. Any
 * other Unicode is fine. Non-strings are left to @IsString.
 */
export function IsStorableText(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStorableText',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => unstorableTextProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} ${unstorableTextProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

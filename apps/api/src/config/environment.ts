import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { ConfigService } from '@nestjs/config';
import { isValidCountryCode } from '@app/common';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export type NodeEnvironment = (typeof NODE_ENVIRONMENTS)[number];
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;

/**
 * Reads the raw string: implicit conversion would already have turned any
 * non-empty string, 'false' included, into true.
 */
const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }): unknown => {
  const raw = obj[key];
  return raw === 'true' || raw === true ? true : raw === 'false' || raw === false ? false : raw;
};

/**
 * Every environment variable the app reads. `.env.example`, the README's
 * configuration table and docker-compose.yml are checked against this list by
 * test/deployment.spec.ts, so a new variable has to be documented to land.
 */
export class EnvironmentVariables {
  @IsIn(NODE_ENVIRONMENTS)
  NODE_ENV: NodeEnvironment = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  /** The HTTP platform: Express (default) or Fastify (more throughput, same behaviour). */
  @IsIn(HTTP_ADAPTERS)
  HTTP_ADAPTER: (typeof HTTP_ADAPTERS)[number] = 'express';

  /** Unset: the app starts an embedded PostgreSQL under DATA_DIR. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsString()
  DATA_DIR: string = './.data';

  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'DEFAULT_COUNTRY must be a two-letter ISO country code' })
  DEFAULT_COUNTRY: string = 'US';

  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE: number = 4;

  @IsInt()
  @Min(100)
  DB_STATEMENT_TIMEOUT_MS: number = 10_000;

  /** Unset: on, except in production. */
  @IsOptional()
  @IsBoolean({ message: 'SWAGGER_ENABLED must be true or false' })
  @Transform(toBoolean)
  SWAGGER_ENABLED?: boolean;
}

/** The names the app reads; documentation and docker-compose.yml are tested against it. */
export const ENVIRONMENT_VARIABLE_NAMES: readonly string[] = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'HTTP_ADAPTER',
  'DATABASE_URL',
  'DATA_DIR',
  'DEFAULT_COUNTRY',
  'DB_POOL_SIZE',
  'DB_STATEMENT_TIMEOUT_MS',
  'SWAGGER_ENABLED',
];

/**
 * Stops start-up on the first bad variable with a message that names it,
 * instead of failing later somewhere far from the cause.
 */
export function validateEnvironment(config: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, config, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(env, { skipMissingProperties: false });
  const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
  if (!isValidCountryCode(env.DEFAULT_COUNTRY)) {
    problems.push(`DEFAULT_COUNTRY ${env.DEFAULT_COUNTRY} is not a country libphonenumber knows`);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  env.SWAGGER_ENABLED ??= env.NODE_ENV !== 'production';
  return env;
}

/** Typed access: `config.get('PORT', { infer: true })` is a number. */
export type AppConfigService = ConfigService<EnvironmentVariables, true>;

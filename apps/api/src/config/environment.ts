import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  validateSync,
} from 'class-validator';
import { ConfigService } from '@nestjs/config';
import { isValidCountryCode } from '@app/common';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export type NodeEnvironment = (typeof NODE_ENVIRONMENTS)[number];
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads the raw string: implicit conversion would already have turned any
 * non-empty string, 'false' included, into true.
 */
const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }): unknown => {
  const raw = obj[key];
  return raw === 'true' || raw === true ? true : raw === 'false' || raw === false ? false : raw;
};

/** A secrets key: 64 hex digits, or base64 (standard or url-safe) of 32 bytes. */
const SECRETS_KEY = '(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)';
const secretsKeyMessage = (name: string) =>
  `${name} must be 32 bytes as base64 (openssl rand -base64 32) or 64 hex digits`;

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

  /**
   * The admin key, which may do everything. Required in production; unset in
   * development, one is generated on first start and kept in DATA_DIR.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~+/=-]{32,}$/, {
    message: 'ADMIN_API_KEY must be at least 32 characters: letters, digits or -._~+/=',
  })
  ADMIN_API_KEY?: string;

  /** The rate-limit window, for requests per key and failed authentications per address. */
  @IsInt()
  @Min(1000)
  THROTTLE_TTL_MS: number = 60_000;

  /** Requests one key may make per window. */
  @IsInt()
  @Min(1)
  THROTTLE_LIMIT: number = 600;

  /** Failed authentications one client address may make per window before it gets 429. */
  @IsInt()
  @Min(1)
  AUTH_FAILURE_LIMIT: number = 10;

  /** Unset: each instance counts its own rate limits; set, all instances share them. */
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefixed to every Redis key, so several deployments can share one Redis. */
  @Matches(/^[\w:.-]*$/, { message: 'REDIS_KEY_PREFIX may hold letters, digits and _:.- only' })
  REDIS_KEY_PREFIX: string = 'sms-service:';

  /** Browser origins allowed to call the API, comma-separated; none by default. */
  @Matches(/^\s*(https?:\/\/[^\s,/]+\s*(,\s*https?:\/\/[^\s,/]+\s*)*)?$/, {
    message: 'CORS_ORIGINS must be comma-separated origins such as https://app.example.com',
  })
  CORS_ORIGINS: string = '';

  /** A request still unanswered after this long gets 503; above the statement timeout. */
  @IsInt()
  @Min(1000)
  REQUEST_TIMEOUT_MS: number = 15_000;

  /** How often an idle live stream (/api/phones/{phone}/events) gets a heartbeat comment. */
  @IsInt()
  @Min(100)
  @Max(300_000)
  LIVE_HEARTBEAT_MS: number = 15_000;

  /** Log lines below this level are dropped; `silent` drops them all. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Unset: /metrics is open. Set: a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters, no spaces' })
  METRICS_TOKEN?: string;

  /** A client must send a request's headers within this long, else its connection closes (408). */
  @IsInt()
  @Min(1000)
  HTTP_HEADERS_TIMEOUT_MS: number = 10_000;

  /** A client must send a whole request, body included, within this long, else 408 and closed. */
  @IsInt()
  @Min(1000)
  HTTP_REQUEST_TIMEOUT_MS: number = 30_000;

  /** An idle keep-alive connection closes after this long; set it above a load balancer's idle timeout. */
  @IsInt()
  @Min(1000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 5_000;

  /** On SIGTERM/SIGINT, requests in flight get this long to finish before their connections close. */
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS: number = 10_000;

  /** At start-up, how long to keep retrying an unreachable database before giving up. */
  @IsInt()
  @Min(0)
  DB_CONNECT_TIMEOUT_MS: number = 30_000;

  /**
   * Seals gateway signing secrets (AES-256-GCM): 32 bytes as base64 or 64 hex digits.
   * Required in production; in development one is generated and kept in DATA_DIR.
   */
  @IsOptional()
  @Matches(new RegExp(`^${SECRETS_KEY}$`), { message: secretsKeyMessage('SECRETS_KEY') })
  SECRETS_KEY?: string;

  /** During a rotation: the former SECRETS_KEY values, comma-separated, which still open secrets. */
  @IsOptional()
  @Matches(new RegExp(`^${SECRETS_KEY}(,${SECRETS_KEY})*$`), {
    message: secretsKeyMessage('SECRETS_KEY_PREVIOUS'),
  })
  SECRETS_KEY_PREVIOUS?: string;

  /** The URL gateways reach the service at, e.g. https://sms.example.com; unset: each request's own origin. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_BASE_URL must be an http(s) URL without query, e.g. https://sms.example.com',
  })
  @MaxLength(2048)
  PUBLIC_BASE_URL?: string;

  /**
   * Which proxies in front of the app to believe about the client (X-Forwarded-For/Proto/Host):
   * `false` (default), `true` (any), a number of hops, or addresses/CIDRs, comma-separated.
   */
  @Matches(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be true, false, a number of hops, or comma-separated addresses/CIDRs',
  })
  TRUST_PROXY: string = 'false';
}

/** TRUST_PROXY as both HTTP platforms take it: a boolean, a hop count, or a list of addresses. */
export function trustProxySetting(value: string | undefined): boolean | number | string {
  const text = (value ?? 'false').trim();
  if (text === 'true') return true;
  if (text === 'false' || text === '') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return text;
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
  'ADMIN_API_KEY',
  'THROTTLE_TTL_MS',
  'THROTTLE_LIMIT',
  'AUTH_FAILURE_LIMIT',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'CORS_ORIGINS',
  'REQUEST_TIMEOUT_MS',
  'LIVE_HEARTBEAT_MS',
  'LOG_LEVEL',
  'METRICS_TOKEN',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'DB_CONNECT_TIMEOUT_MS',
  'SECRETS_KEY',
  'SECRETS_KEY_PREVIOUS',
  'PUBLIC_BASE_URL',
  'TRUST_PROXY',
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
  if (env.NODE_ENV === 'production' && !env.ADMIN_API_KEY) {
    problems.push('ADMIN_API_KEY must be set in production (at least 32 characters)');
  }
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    problems.push('SECRETS_KEY must be set in production (openssl rand -base64 32)');
  }
  if (env.REQUEST_TIMEOUT_MS <= env.DB_STATEMENT_TIMEOUT_MS) {
    // Otherwise a request could time out while its statement still commits.
    problems.push('REQUEST_TIMEOUT_MS must be greater than DB_STATEMENT_TIMEOUT_MS');
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    // Node refuses such a server: the headers are part of the request.
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  env.SWAGGER_ENABLED ??= env.NODE_ENV !== 'production';
  return env;
}

/** Typed access: `config.get('PORT', { infer: true })` is a number. */
export type AppConfigService = ConfigService<EnvironmentVariables, true>;

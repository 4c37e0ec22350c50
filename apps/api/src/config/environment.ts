import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { type AuthVariables, authConfig } from '@app/auth';
import { type Environment, phoneConfig, type PhoneVariables, variableNames } from '@app/common';
import { databaseConfig, type DatabaseVariables } from '@app/database';
import { gatewaysConfig, type GatewaysVariables } from '@app/gateways';
import { liveConfig, type LiveVariables } from '@app/live';
import { observabilityConfig, type ObservabilityVariables } from '@app/observability';
import { outboundConfig, type OutboundVariables } from '@app/outbound';
import { privacyConfig, type PrivacyVariables } from '@app/privacy';
import { webhooksConfig, type WebhooksVariables } from '@app/webhooks';
import { httpConfig, type HttpVariables } from './http.config.js';

/** Each lib's namespace, and the app's own (http). */
export const CONFIG_NAMESPACES = [
  httpConfig,
  phoneConfig,
  databaseConfig,
  authConfig,
  gatewaysConfig,
  outboundConfig,
  liveConfig,
  observabilityConfig,
  privacyConfig,
  webhooksConfig,
] as const;

/** Every variable the app reads, typed as validated. */
export type EnvironmentVariables = HttpVariables &
  PhoneVariables &
  DatabaseVariables &
  AuthVariables &
  GatewaysVariables &
  OutboundVariables &
  LiveVariables &
  ObservabilityVariables &
  PrivacyVariables &
  WebhooksVariables;

/**
 * Every environment variable the app reads. `.env.example`, the README's
 * configuration table and docker-compose.yml are checked against this list by
 * test/deployment.spec.ts, so a new variable has to be documented to land.
 */
export const ENVIRONMENT_VARIABLE_NAMES: readonly string[] = [
  ...new Set(CONFIG_NAMESPACES.flatMap((namespace) => variableNames(namespace.variables))),
];

/**
 * Stops start-up on a bad variable with a message that names it, instead of
 * failing later somewhere far from the cause: the problems of every namespace,
 * and those between namespaces, in one message.
 */
export function validateEnvironment(config: Environment): EnvironmentVariables {
  const checks = CONFIG_NAMESPACES.map((namespace) => namespace.check(config));
  const env = Object.assign(
    { ...config },
    ...checks.map(({ variables }) => variables),
  ) as EnvironmentVariables;
  // A variable several namespaces read (NODE_ENV, PORT...) is reported once.
  const problems = new Set(checks.flatMap((check) => check.problems));
  if (env.REQUEST_TIMEOUT_MS <= env.DB_STATEMENT_TIMEOUT_MS) {
    // Otherwise a request could time out while its statement still commits.
    problems.add('REQUEST_TIMEOUT_MS must be greater than DB_STATEMENT_TIMEOUT_MS');
  }
  if (problems.size > 0) {
    throw new Error(`Invalid configuration: ${[...problems].join('; ')}`);
  }
  return env;
}

/**
 * The configuration of one app: .env and process.env with `overrides` on
 * top, validated at start-up, then read by each namespace. The namespaces
 * read these variables, not process.env: tests run several apps in one
 * process, each with its own.
 */
export function configModule(overrides: Environment = {}): Promise<DynamicModule> {
  let env: Environment = {};
  return ConfigModule.forRoot({
    isGlobal: true,
    cache: true,
    validate: (loaded) => {
      env = { ...loaded, ...overrides };
      return validateEnvironment(env);
    },
    // Read when the container builds them, after validate().
    load: CONFIG_NAMESPACES.map((namespace) => namespace.from(() => env)),
  });
}
